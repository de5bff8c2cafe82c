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
    return req.strip().lower().replace("_", "-")


def _binder_pins() -> dict[str, str]:
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    reqs = [x.strip() for x in lines if x.strip() and not x.lstrip().startswith("#")]
    assert all(r.count("==") == 1 and not set("<>~!;[ ") & set(r) for r in reqs), (
        "binder/requirements.txt pins exact versions (name==version), nothing else")
    return {_name(r): r.split("==")[1] for r in reqs}


def test_binder_pins_every_runtime_dependency_inside_pyprojects_range():
    from packaging.requirements import Requirement

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = _binder_pins()
    for dep in map(Requirement, deps):
        name = _name(dep.name)
        assert name in pins, f"binder/requirements.txt does not pin {name}"
        assert dep.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {dep}"


def test_binder_postbuild_installs_descentlab_and_the_server_configuration():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    assert "binder/jupyter_server_config.py" in post
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild is executable"
    assert "load_subconfig" in (ROOT / "binder" / "jupyter_server_config.py").read_text()


def test_readme_launch_command_installs_the_pins_and_serves_from_the_root():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . -r binder/requirements.txt && voila\n" in readme
    assert (ROOT / "voila.py").exists() and (ROOT / "voila.json").exists()


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme
