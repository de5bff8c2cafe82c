"""Every lab notebook executes top to bottom in a real kernel, clean; app cells stay short;
the exercise notebooks ship as stubs that check cleanly and pass with the solutions."""

import functools
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from descentlab.engine import exercises

LAB = Path(__file__).resolve().parents[2] / "lab"
NOTEBOOKS = sorted(p for p in LAB.glob("*.ipynb"))
EXERCISE_NOTEBOOKS = sorted(p for p in LAB.glob("ex*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
APP_CALL = re.compile(r"\b\w+_(app|lab|explorer|trainer|board)\s*\(")
STUB = re.compile(r"^# exercise: (\w+)\s*$", re.MULTILINE)
CHECK = re.compile(r"""^check\(\s*["'](\w+)["']\s*,\s*(\w+)\s*\)\s*$""", re.MULTILINE)


def code_lines(source: str) -> list[str]:
    return [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def stub_name(cell) -> str | None:
    """The exercise a stub cell implements: its first line is ``# exercise: <name>``."""
    m = STUB.match(cell.source)
    return m.group(1) if cell.cell_type == "code" and m else None


def check_name(cell) -> str | None:
    m = CHECK.search(cell.source) if cell.cell_type == "code" else None
    return m.group(1) if m else None


@functools.cache
def executed(path: Path, with_solutions: bool = False):
    """The notebook after a run in a fresh kernel (as shipped, or with every stub cell
    replaced by the engine's reference solution)."""
    nb = nbformat.read(path, as_version=4)
    if with_solutions:
        for cell in nb.cells:
            name = stub_name(cell)
            if name:
                cell.source = f"# exercise: {name}\n" + exercises.solution(name)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(LAB)}})
    client.execute()
    return nb


def outputs_of(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def assert_clean(nb):
    outputs = outputs_of(nb)
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not any("Traceback" in s for s in stderr), stderr


def check_verdicts(nb) -> dict[str, str]:
    """name -> the plain-text verdict its check cell displayed (``check('x') status | ...``)."""
    out = {}
    for cell in nb.cells:
        name = check_name(cell)
        if name is None:
            continue
        views = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")
                 and WIDGET_VIEW in o.get("data", {})]
        assert len(views) == 1, f"check({name!r}) displayed {len(views)} widgets"
        out[name] = views[0]["data"]["text/plain"]
    return out


# ---------------------------------------------------------------------------- every notebook


def test_the_gallery_and_the_race_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"index.ipynb", "race.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} has saved outputs"
            assert cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_app_cells_are_at_most_three_lines(path):
    """A cell that builds an app (``*_app``, ``*_lab``, ``*_explorer``, ``*_trainer``,
    ``*_board``) is import, build, show; exercise and derivation cells may be longer."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and APP_CALL.search(cell.source):
            lines = code_lines(cell.source)
            assert len(lines) <= 3, f"{path.name}: an app cell has {len(lines)} lines: {lines}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_shows_its_app(path):
    nb = executed(path)
    assert_clean(nb)
    outputs = outputs_of(nb)
    if any(c.cell_type == "code" for c in nb.cells):
        shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")
                 and WIDGET_VIEW in o.get("data", {})]
        assert shown, f"{path.name} displays no widget"


# ---------------------------------------------------------------------------- exercise notebooks


def test_the_exercise_notebooks_exist_and_cover_every_exercise():
    names = {p.name for p in EXERCISE_NOTEBOOKS}
    assert {"ex1_gradients.ipynb", "ex2_gd.ipynb", "ex3_sgd.ipynb", "ex4_momentum.ipynb",
            "ex5_rmsprop_adagrad.ipynb", "ex6_adam.ipynb"} <= names
    stubs = [stub_name(c) for p in EXERCISE_NOTEBOOKS
             for c in nbformat.read(p, as_version=4).cells if stub_name(c)]
    assert sorted(stubs) == sorted(exercises.names())


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_notebook_has_derivation_stubs_checks_and_prompts(path):
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "$$" in markdown and "Try this" in markdown
    cells = nb.cells
    for i, cell in enumerate(cells):
        name = stub_name(cell)
        if not name:
            continue
        assert f"def {name}(" in cell.source and "raise NotImplementedError" in cell.source
        assert exercises.signature(name) in markdown, f"{name}: signature not stated"
        later = [check_name(c) for c in cells[i + 1:]]
        assert name in later, f"{path.name}: no check({name!r}, {name}) after its stub"
    for cell in cells:
        m = CHECK.search(cell.source) if cell.cell_type == "code" else None
        if m:
            assert m.group(1) == m.group(2) and m.group(1) in exercises.names()


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_notebook_as_shipped_checks_not_implemented_yet(path):
    nb = executed(path)
    assert_clean(nb)
    verdicts = check_verdicts(nb)
    assert verdicts
    for name, text in verdicts.items():
        assert text.startswith(f"check({name!r}) not_implemented |"), text
        assert "not implemented yet" in text


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_notebook_passes_with_the_solutions(path):
    nb = executed(path, with_solutions=True)
    assert_clean(nb)
    verdicts = check_verdicts(nb)
    assert verdicts
    for name, text in verdicts.items():
        assert text.startswith(f"check({name!r}) passed |"), text
