"""Text boxes that take several numbers: ``"1, 8, 32"`` -> ``[1, 8, 32]``.

Separators are commas or semicolons; blanks are ignored.  A box that cannot be read raises
a ``ValueError`` naming the box and what it takes (shown beneath it by
:func:`~descentlab.widgets.ui.controls.field`).
"""

from __future__ import annotations

__all__ = ["parse_ints", "parse_floats"]


def _numbers(text, kind: type, name: str, what: str) -> list:
    try:
        return [kind(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be {what} separated by commas; got {text!r}") \
            from None


def parse_ints(text: str, name: str = "batch sizes") -> list[int]:
    """``"1, 8, 32"`` -> ``[1, 8, 32]``; ValueError naming ``name`` otherwise."""
    out = _numbers(text, int, name, "integers")
    if not out:
        raise ValueError(f"{name} must list at least one integer; got {text!r}")
    return out


def parse_floats(text: str, count: int, name: str = "learning rates") -> list[float]:
    """``"0.1, 0.01"`` -> one value per run of ``count`` (one value alone is every run's);
    ValueError naming ``name`` otherwise."""
    out = _numbers(text, float, name, "numbers")
    if len(out) == 1:
        return out * count
    if len(out) != count:
        raise ValueError(f"{name}: give one value for every run or one per run ({count} "
                         f"runs); got {len(out)}")
    return out
