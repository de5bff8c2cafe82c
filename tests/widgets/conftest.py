"""Shared widget-test fixtures."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from ipywidgets import Widget


@pytest.fixture
def sends(monkeypatch):
    """Comm messages sent per widget (model_id -> count) while the test runs."""
    counts = Counter()
    original = Widget._send

    def counting(self, msg, buffers=None):
        counts[self.model_id] += 1
        return original(self, msg, buffers)

    monkeypatch.setattr(Widget, "_send", counting)
    return counts


LAB = Path(__file__).resolve().parents[2] / "lab"


def linked_scenes(notebook: str) -> list[str]:
    """Every scene name the course links for ``notebook`` (e.g. ``"models"``): the
    ``<notebook>.ipynb?scene=NAME`` links in the notebook itself and in the course map."""
    names = set()
    for path in (LAB / f"{notebook}.ipynb", LAB / "index.ipynb"):
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        names |= set(re.findall(rf"{re.escape(notebook)}\.ipynb\?scene=([\w-]+)", text))
    return sorted(names)


def comm_update(widget, value_json, buffers=()):
    """Deliver ``{"value": value_json}`` to ``widget`` the way a browser's comm message
    does (binary ``buffers`` at ``value[i].content``)."""
    paths = [["value", i, "content"] for i in range(len(buffers))]
    widget._handle_msg({"content": {"data": {"method": "update",
                                             "state": {"value": value_json},
                                             "buffer_paths": paths}},
                        "buffers": list(buffers)})


@pytest.fixture
def browser_sends():
    """:func:`comm_update`: send a widget a ``value`` as a browser does."""
    return comm_update


def scene_applies(lab, name: str) -> None:
    """Apply scene ``name`` to ``lab`` after a few frames and check the scene contract:
    its note says what to look at in one sentence; no error, the scene recorded, step 0
    and paused, its title and note first in the status line, its settings on the model,
    and a frame plays without error."""
    lab.frame(2)
    lab.apply_scene(name)
    scene = lab.scenes()[name]
    assert scene.note and ". " not in scene.note, (name, scene.note)
    assert lab.errors.message == "" and lab.scene == name, (name, lab.errors.message)
    assert lab.session.step == 0 and not lab.player.playing, name
    assert lab.status.messages[0] == f"{scene.title}: {scene.note}", name
    for key, value in scene.settings.items():
        assert getattr(lab.model, key) == value, (name, key)
    lab.frame(1)
    assert lab.errors.message == "", (name, lab.errors.message)


@pytest.fixture
def applies():
    """:func:`scene_applies`: check that a lab's scene applies as the contract says."""
    return scene_applies


def linked_scenes_apply(lab, notebook: str) -> list[str]:
    """Every scene the course links for ``notebook`` exists in ``lab`` and applies
    (:func:`scene_applies`), from the picker and from the page address; returns the
    linked names."""
    names = linked_scenes(notebook)
    assert names and set(names) <= set(lab.scenes()), (names, list(lab.scenes()))
    for name in names:
        scene_applies(lab, name)
    lab.apply_url({"scene": names[0]})
    assert lab.scene == names[0] and lab.errors.message == ""
    return names


@pytest.fixture
def linked_apply():
    """:func:`linked_scenes_apply`."""
    return linked_scenes_apply
