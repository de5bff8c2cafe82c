"""Surface labs (docstring written below)."""

# ---- until integration: this package shadows the old flat module widgets/surface.py,
# which widgets/app.py still imports (`from .surface import SurfaceChart`).  Its names
# are served lazily from that file; the lead deletes this block with the flat modules.
_FLAT = ("SurfaceChart", "surface_color", "contour_path", "arrow_path", "VECTOR_LABELS",
         "vectors_for", "VECTOR_COLORS", "GRID_N")


def __getattr__(name):
    if name not in _FLAT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib.util
    import pathlib
    import sys

    key = "descentlab.widgets.flat_surface_until_integration"
    mod = sys.modules.get(key)
    if mod is None:
        path = pathlib.Path(__file__).resolve().parent.parent / "surface.py"
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return getattr(mod, name)
