"""The distribution installs as the design card fixes it, and Binder installs the same."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True)


def test_engine_and_widgets_import_under_descentlab_only():
    ok = _run("import descentlab.engine, descentlab.widgets; print(descentlab.engine.__file__)")
    assert ok.returncode == 0, ok.stderr
    assert Path(ok.stdout.strip()).parent == ROOT / "engine"
    for generic in ("engine", "widgets"):
        r = _run(f"import {generic}")
        assert r.returncode != 0, f"a top-level '{generic}' package is importable"


def test_engine_never_imports_widgets():
    r = _run("import sys, descentlab.engine; "
             "print(any(m.startswith(('ipywidgets', 'bqplot', 'descentlab.widgets')) "
             "for m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def _name(req: str) -> str:
    for sep in "<>=!~[; ":
        req = req.split(sep)[0]
    return req.strip().lower()


def test_binder_installs_the_runtime_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    binder = {_name(x) for x in lines if x.strip() and not x.startswith("#")}
    assert {_name(d) for d in deps} <= binder
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme
