"""A toy lab over the core machinery: a session that counts, charts that record draws.

The core knows nothing of optimizers or data, so its tests need neither.
"""

from typing import NamedTuple

import ipywidgets as W
import numpy as np
import pytest
import traitlets as T

from descentlab.widgets.core.lab import Lab, Layout, Scene


class Cfg(NamedTuple):
    limit: int


class ToyModel(T.HasTraits):
    limit = T.Int(50)

    @T.validate("limit")
    def _v(self, proposal):
        if not 1 <= proposal["value"] <= 10_000:
            raise T.TraitError(f"limit must be an integer in [1, 10000], got {proposal['value']}")
        return proposal["value"]

    def config(self):
        return Cfg(self.limit)


class ToyView(NamedTuple):
    step: int
    values: np.ndarray


class ToyHistory:
    def __init__(self):
        self.values = [0.0]

    def to_csv(self, f):
        f.write("step,value\n")
        for i, v in enumerate(self.values):
            f.write(f"{i},{v}\n")


class ToySession:
    """``value_t = t``; stops at ``limit``."""

    def __init__(self, cfg):
        self.restart(cfg)

    def restart(self, cfg):
        self.cfg, self.history = cfg, ToyHistory()

    @property
    def step(self):
        return len(self.history.values) - 1

    @property
    def horizon(self):
        return self.cfg.limit

    def advance(self, k):
        for _ in range(k):
            if self.step >= self.cfg.limit:
                break
            self.history.values.append(float(self.step + 1))
        return self.step < self.cfg.limit

    def view(self, step):
        return ToyView(step, np.array(self.history.values[: step + 1]))

    def messages(self, step):
        return [f"done at {step}"] if step >= self.cfg.limit else []


class Recorder:
    def __init__(self):
        self.widget = W.HTML()
        self.styles, self.views = [], []

    def configure(self, style):
        self.styles.append(style)

    def draw(self, view):
        self.views.append(view)


class ToyLab(Lab):
    title = "toy"
    layout = Layout(left=("a",), tabs=(("b", "b"), ("c", "c")), bottom=("p",))

    def __init__(self, limit=50):
        self.model = ToyModel(limit=limit)
        self.session = ToySession(self.model.config())
        self.charts = {"a": Recorder(), "b": Recorder(), "c": Recorder()}
        self.panels = {"p": Recorder()}
        self.start()

    def style(self):
        return ("style", self.session.cfg.limit)

    def scenes(self):
        return {"short": Scene("a short run", {"limit": 5}, "it stops at 5", speed=2),
                "broken": Scene("a bad preset", {"limit": -1})}


@pytest.fixture
def toy():
    lab = ToyLab()
    yield lab
    lab.close()
