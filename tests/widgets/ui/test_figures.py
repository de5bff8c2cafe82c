"""What the figure helpers send to bqplot: lines it can draw without a console error, and
axes it can tick (the browser tests in tests/browser assert the console stays empty)."""

import bqplot as bq
import numpy as np
import pytest

from descentlab.widgets.ui.figures import EMPTY, ChartTabs, SeriesChart, drawable

NAN = np.nan


def lines_bqplot_can_draw(x, y):
    """bqplot's two rules for a ``Lines`` mark: every line has a finite point (else
    ``d="null"``) and ends on one (its label goes at its last point)."""
    Y = np.atleast_2d(y)
    X = np.broadcast_to(x, Y.shape)
    ok = np.isfinite(X) & np.isfinite(Y)
    return bool(ok.any(axis=1).all() and ok[:, -1].all())


def test_lines_that_end_on_nan_get_a_closing_point_and_keep_their_data():
    steps = np.arange(4.0)
    y = np.array([[1, 2, 3, 4], [1, 2, NAN, NAN], [NAN] * 4])
    x2, y2 = drawable(steps, y)
    assert lines_bqplot_can_draw(x2, y2)
    np.testing.assert_array_equal(x2, [0, 1, 2, 3, 3])
    np.testing.assert_array_equal(y2[:, :4], y)                  # the data, unchanged
    np.testing.assert_array_equal(y2[:, 4], [4, 2, 1])
    # the closing points draw nothing: a repeat of the last point, or after a gap
    assert y2[0, 3] == y2[0, 4] and np.isnan(y2[1, 3]) and np.isnan(y2[2, 3])


def test_finite_lines_are_sent_as_they_are_and_nothing_finite_is_none():
    x, y = np.arange(3.0), np.array([[1.0, 2.0, 3.0]])
    x2, y2 = drawable(x, y)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    assert drawable(x, np.full((2, 3), NAN)) is None
    assert drawable(EMPTY, EMPTY) is None
    assert drawable(x, np.array([[1.0, -1.0, 0.0]]), positive=True) is not None
    assert drawable(x, np.array([[0.0, -1.0, 0.0]]), positive=True) is None   # log axis


def test_per_line_x_and_one_line_with_gaps():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, NAN]])
    y = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    x2, y2 = drawable(x, y)
    assert lines_bqplot_can_draw(x2, y2) and x2.shape == y2.shape == (2, 4)
    cx, cy = drawable(np.array([0, 1, NAN, 2, 3, NAN]), np.array([0, 1, NAN, 2, 3, NAN]))
    assert cx.shape == cy.shape == (7,) and lines_bqplot_can_draw(cx, cy)


@pytest.mark.parametrize("log", [True, False])
def test_the_y_axis_has_a_domain_it_can_tick(log):
    """Empty or one value: bqplot would give a log scale [0, 1] (a tick at log 0) or an
    axis with num_ticks a zero-width domain ("Invalid array length")."""
    c = SeriesChart("t", "step", "L", log=log)
    c.show(np.arange(2.0), np.full((2, 2), NAN))
    assert 0 < c.sy.min < c.sy.max if log else c.sy.min < c.sy.max
    c.show(np.arange(2.0), np.full((2, 2), 0.5))                 # every run at one value
    assert c.sy.min < 0.5 < c.sy.max
    c.show(np.arange(2.0), np.array([[0.5, 0.25], [0.5, 0.1]]))
    if log:     # whole decades around the data, a tick at each decade
        assert (c.sy.min, c.sy.max) == (0.1, 1.0) and list(c.ay.tick_values) == [0.1, 1.0]
    else:
        assert c.sy.min is None and c.sy.max is None             # from the data again
    c.show(np.arange(2.0), np.array([[0.69314, 0.69316]]))       # within 1%: one value
    assert c.sy.min < 0.69314 and c.sy.max > 0.69316
    if not log:
        assert c.sy.max - c.sy.min > 0.1                         # ticks that differ


def test_a_live_log_switch_moves_the_axis_then_clears_then_moves_the_lines():
    c = SeriesChart("t", "step", "L", log=True)
    c.show(np.arange(3.0), np.array([[1.0, 0.1, 0.01]]))
    assert list(c.ay.tick_values) == [0.01, 0.1, 1.0]
    c.set_log(False)
    assert c.ay.scale is c.lin and c.lines.scales["y"] is c.lin
    assert c.ay.tick_values is None                              # no decade ticks on it
    assert c.lines.y.size == 0                                   # old data never on it
    assert (c.log.min, c.log.max) == (c.lin.min, c.lin.max) == (1.0, 10.0)
    c.show(np.arange(3.0), np.array([[-1.0, -2.0, -3.0]]))
    assert c.lin.min is None and isinstance(c.ay.scale, bq.LinearScale)
    assert c.ay.num_ticks == 6 and c.ay.tick_format == ".3g"


def test_chart_tabs_keep_every_chart_laid_out_and_show_one():
    a, b = SeriesChart("a", "x", "y"), SeriesChart("b", "x", "y")
    tabs = ChartTabs(["a", "b"], [a.widget, b.widget])
    assert [w.layout.visibility for w in tabs.stack.children] == ["visible", "hidden"]
    tabs.buttons.value = 1
    assert tabs.selected_index == 1
    assert [w.layout.visibility for w in tabs.stack.children] == ["hidden", "visible"]
    assert {w.layout.grid_area for w in tabs.stack.children} == {"chart"}
