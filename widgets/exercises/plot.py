"""The student's iterates against the reference's: a bqplot figure and a legend beside it."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from .style import BLACK, COORD_COLORS, FONT, ORANGE, REFERENCE, TICKS, YOURS, esc


def _finite_rows(a: np.ndarray) -> np.ndarray:
    ok = np.all(np.isfinite(a), axis=1)
    n = int(np.argmin(ok)) if not ok.all() else len(a)
    return a[:n]


def _limits(ref: np.ndarray, mine: np.ndarray):
    """Axis range covering the reference and the student's values (not 1000 times more)."""
    lo, hi = float(np.min(ref)), float(np.max(ref))
    span = max(hi - lo, 1e-12 * max(1.0, abs(hi)))
    if mine.size:
        lo = max(min(lo, float(np.min(mine))), lo - 3 * span)
        hi = min(max(hi, float(np.max(mine))), hi + 3 * span)
    pad = 0.08 * max(hi - lo, 1e-12)
    return lo - pad, hi + pad


def _legend(entries) -> W.HTML:
    rows = "".join(
        f'<div style="margin: 4px 0; white-space: nowrap"><span style="display:inline-block;'
        f'width: 34px; border-top: 3px {style} {color}; vertical-align: middle"></span> '
        f"{esc(label)}</div>" for label, color, style in entries)
    return W.HTML(f'<div style="{FONT} padding: 40px 0 0 8px">{rows}</div>')


def trajectory_plot(tr) -> W.Widget:
    """A path in the plane for 2-D iterates, else one line per coordinate against the
    step; reference solid, yours dashed; the first difference marked; legend on the right."""
    ref = np.asarray(tr.expected, dtype=float)
    mine = _finite_rows(np.asarray(tr.received, dtype=float))
    k = int(min(tr.fail_at, len(mine) - 1)) if len(mine) else 0
    steps = np.arange(len(ref), dtype=float)
    if ref.shape[1] == 2 and tr.axis in ("step", "iterate"):
        xs = bq.LinearScale(**dict(zip(("min", "max"), _limits(ref[:, 0], mine[:, 0]),
                                       strict=True)))
        ys = bq.LinearScale(**dict(zip(("min", "max"), _limits(ref[:, 1], mine[:, 1]),
                                       strict=True)))
        sc = {"x": xs, "y": ys}
        marks = [
            bq.Lines(x=ref[:, 0], y=ref[:, 1], scales=sc, colors=[REFERENCE], stroke_width=3,
                     marker="circle", marker_size=24),
            bq.Lines(x=mine[:, 0], y=mine[:, 1], scales=sc, colors=[YOURS], stroke_width=3,
                     line_style="dashed", marker="cross", marker_size=30),
            bq.Scatter(x=ref[:1, 0], y=ref[:1, 1], scales=sc, colors=[BLACK],
                       default_size=120, marker="square"),
        ]
        if len(mine):
            marks.append(bq.Scatter(x=mine[k:k + 1, 0], y=mine[k:k + 1, 1], scales=sc,
                                    colors=[ORANGE], default_size=300, marker="diamond"))
        axes = [bq.Axis(scale=xs, label=tr.coords[0], tick_style=TICKS, num_ticks=5),
                bq.Axis(scale=ys, label=tr.coords[1], side="left",
                        tick_style=TICKS, num_ticks=5)]
        entries = [("reference (engine)", REFERENCE, "solid"), ("yours", YOURS, "dashed"),
                   ("start θ₀", BLACK, "solid"), (f"first difference ({tr.axis} {k})",
                                                  ORANGE, "solid")]
        title = "iterates in the plane"
    else:
        xs = bq.LinearScale()
        ys = bq.LinearScale(**dict(zip(("min", "max"), _limits(ref, mine), strict=True)))
        sc = {"x": xs, "y": ys}
        D = ref.shape[1]
        colors = [COORD_COLORS[j % len(COORD_COLORS)] for j in range(D)]
        marks = [bq.Lines(x=steps, y=ref.T, scales=sc, colors=colors, stroke_width=3,
                          marker="circle", marker_size=24)]
        if len(mine):
            marks.append(bq.Lines(x=steps[:len(mine)], y=mine.T, scales=sc, colors=colors,
                                  stroke_width=3, line_style="dashed", marker="cross",
                                  marker_size=30))
        axes = [bq.Axis(scale=xs, label=tr.axis, tick_style=TICKS, tick_format="d"),
                bq.Axis(scale=ys, label="value", side="left", tick_style=TICKS,
                        num_ticks=5)]
        entries = [(f"{c} reference", colors[j], "solid") for j, c in enumerate(tr.coords)]
        entries += [(f"{c} yours", colors[j], "dashed") for j, c in enumerate(tr.coords)]
        title = f"each coordinate against the {tr.axis}"
    fig = bq.Figure(marks=marks, axes=axes, title=title,
                    title_style={"font-size": "18px"},
                    fig_margin={"top": 50, "bottom": 55, "left": 75, "right": 20},
                    layout=W.Layout(width="520px", height="400px"),
                    animation_duration=0)
    return W.HBox([fig, _legend(entries)])
