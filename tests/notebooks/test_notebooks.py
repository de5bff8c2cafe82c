"""Every lab notebook executes top to bottom in a real kernel, clean and thin."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

LAB = Path(__file__).resolve().parents[2] / "lab"
NOTEBOOKS = sorted(p for p in LAB.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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
def test_notebook_is_thin(path):
    nb = nbformat.read(path, as_version=4)
    code_lines = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(code_lines) <= 12, f"{path.name}: {len(code_lines)} lines of code; keep it thin"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_shows_its_app(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(LAB)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not any("Traceback" in s for s in stderr), stderr
    if any(c.cell_type == "code" for c in nb.cells):
        shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")
                 and WIDGET_VIEW in o.get("data", {})]
        assert shown, f"{path.name} displays no widget"
