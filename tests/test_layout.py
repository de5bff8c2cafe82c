"""The layout the design card fixes: families that never import each other, no private
imports across modules, and a distribution that ships every package of the tree."""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("surface", "data", "models", "tuning", "exercises")


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:                         # relative: resolve against the package
                parts = path.relative_to(ROOT).with_suffix("").parts[:-1]
                base = list(parts[: len(parts) - node.level + 1])
                module = ".".join(base + ([module] if module else []))
            yield module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def _sources(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def _family_of(module: str) -> str | None:
    m = module.replace("descentlab.widgets.", "widgets.").split(".")
    return m[1] if len(m) > 1 and m[0] == "widgets" and m[1] in FAMILIES else None


@pytest.mark.parametrize("path", [p for p in _sources("widgets")
                                  if p != ROOT / "widgets" / "__init__.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_families_never_import_each_other(path):
    """(``widgets/__init__.py``, the public face, re-exports every family's apps.)"""
    own = _family_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
    for module, _ in _imports(path):
        other = _family_of(module)
        assert other is None or other == own, f"{path.name} imports the {other} family"


@pytest.mark.parametrize("path", _sources("widgets") + _sources("engine"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_another_modules_private_name(path):
    for module, names in _imports(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.name} imports {private} from {module}"


def test_core_and_ui_know_no_optimizer_or_data():
    for folder in ("widgets/core", "widgets/ui"):
        for path in _sources(folder):
            for module, _ in _imports(path):
                assert "engine" not in module and _family_of(module) is None, (
                    f"{path} imports {module}")


def test_the_distribution_lists_every_package_of_the_tree():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    on_disk = {"descentlab." + ".".join(p.parent.relative_to(ROOT).parts)
               for p in list((ROOT / "widgets").rglob("__init__.py"))
               + list((ROOT / "engine").rglob("__init__.py"))}
    assert on_disk == listed
