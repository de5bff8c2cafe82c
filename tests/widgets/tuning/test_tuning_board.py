"""tuning_board headless: a search plays a round a frame and equals the engine's search
run at once; the table and chart grow live (nothing drawn before the first round); the
chart is coloured by batch size with a key; the CSV holds the full log; step 2 trains the
batch sizes at the best lr; bad input is refused beneath its control."""

import base64
import re

import numpy as np
import pytest

from descentlab.engine import tuning
from descentlab.widgets.tuning import tuning_board
from descentlab.widgets.tuning.charts import batch_color


def engine_search(tb):
    m, b = tb.model, tb.session.cfg.built
    kw = {"batch_size": m.batch_size, "seed": 0}
    space = {"lr": tuning.log_uniform(m.lr_lo, m.lr_hi), "batch_size": m.batch_size}
    if m.search == "grid":
        grid = {"lr": [float(v) for v in np.geomspace(m.lr_lo, m.lr_hi, m.trials)]}
        return tuning.grid_search(b.model, b.dataset, grid, epochs=m.epochs, **kw)
    if m.search == "random":
        return tuning.random_search(b.model, b.dataset, space, m.trials, epochs=m.epochs,
                                    **kw)
    if m.search == "successive halving":
        return tuning.successive_halving(b.model, b.dataset, space, n_configs=m.trials,
                                         eta=3, min_epochs=m.epochs, **kw)
    return tuning.hyperband_bracket(b.model, b.dataset, space, max_epochs=m.epochs, eta=3,
                                    **kw)


def test_nothing_trained_or_drawn_at_build(tb):
    assert tb.session.step == 0 and tb.session.history.rows == []
    chart = tb.charts["scores"]
    assert chart.points.x.size == 0 and chart.points.y.size == 0      # no placeholder dot
    assert chart.ring.x.size == 0
    tb.flush()
    assert "nothing trained yet" in tb.panels["table"].widget.value
    assert "round 0 / 9" in tb.counter.value
    assert "application/vnd.jupyter.widget-view+json" in tb._repr_mimebundle_()


@pytest.mark.parametrize("search", ["grid", "random", "successive halving", "hyperband"])
def test_played_search_equals_the_engines_search_table_chart_and_csv(search):
    tb = tuning_board(epochs=9 if search == "hyperband" else 5)
    tb.model.search = search
    while tb.frame(1):
        pass
    tb.flush()
    log = tb.session.history.rows
    want = engine_search(tb).log
    assert len(log) == len(want)
    for got, ref in zip(log, want, strict=True):
        assert got["lr"] == ref["lr"] and got["rung"] == ref["rung"]
        assert got["epochs"] == ref["epochs"] and got["trial"] == ref["trial"]
        assert got["score"] == pytest.approx(ref["score"], rel=1e-9)
    view = tb.session.view(tb.session.step)
    top = [t.score for t in view.ranked if t.rung == view.ranked[0].rung]
    assert top == sorted(top)                               # best first
    chart = tb.charts["scores"]
    np.testing.assert_array_equal(chart.points.x, [r["lr"] for r in log])
    text = tb.export.text()
    assert len(text.strip().split("\n")) == len(log) + 1
    tb.export.refresh()
    b64 = re.search(r"base64,([^\"]+)", tb.export.link.value).group(1)
    assert base64.b64decode(b64).decode() == text
    tb.close()


def test_the_table_and_chart_grow_a_round_a_frame(tb):
    for k in (1, 2, 3):
        tb.frame(1)
        tb.flush()
        assert len(tb.charts["scores"].points.x) == k
        assert tb.charts["scores"].ring.x.tolist() == [tb.session.history.rows[-1]["lr"]]
        assert tb.panels["table"].widget.value.count("<tr>") == k + 1     # head + k rows
        assert f"round {k} / 9" in tb.counter.value
    tb.keys.press("ArrowLeft")                             # scrub back: 2 rounds on screen
    assert len(tb.charts["scores"].points.x) == 2 and tb.session.step == 3


def test_numbers_in_the_table_have_3_to_4_significant_digits(tb):
    tb.frame(9)
    tb.flush()
    cells = re.findall(r"text-align:right'>([^<]*)<", tb.panels["table"].widget.value)
    decimals = [c for c in cells if "." in c]
    assert decimals and all(len(re.sub(r"[^0-9]", "", c).lstrip("0")) <= 4 for c in decimals)


def test_step_2_trains_the_batch_sizes_at_the_best_lr_coloured_with_a_key(tb):
    tb.step2.click()
    assert "step 1 is not finished" in tb.stage_errors.message
    tb.frame(9)
    best = tb.session.view(9).best
    assert tb.model.batch_sizes == "4, 16, 64" and tb.session.step == 9     # kept
    tb.step2.click()
    assert tb.stage_errors.message == "" and tb.model.stage == "batch size"
    assert tb.model.best_lr == best.lr and tb.session.step == 0
    assert tb.session.horizon == 3
    tb.frame(3)
    tb.flush()
    rows = tb.session.history.rows
    assert len(rows) == 9 + 3                              # step 1 stays on the chart
    assert [r["batch_size"] for r in rows[9:]] == [4, 16, 64]
    assert {r["lr"] for r in rows[9:]} == {best.lr} and {r["stage"] for r in rows[9:]} == {
        "batch size"}
    chart = tb.charts["scores"]
    sizes = (4, 16, 64)
    assert list(chart.points.colors) == [batch_color(r["batch_size"]) for r in rows]
    assert len(set(chart.points.colors)) == 3
    for b in sizes:
        assert f"batch size {b}" in chart.key.widget.value
    before = batch_color(16)
    tb.fields["batch_sizes"].control.value = "16, 128"       # another list: same colour
    assert batch_color(16) == before and batch_color(4) != batch_color(64)
    assert chart.widget.children == (chart.figure, chart.key.widget)    # key beside
    assert "step 2: batch size" in tb.panels["table"].widget.value
    assert len(tb.export.text().strip().split("\n")) == 13
    tb.step1.click()
    assert tb.model.stage == "lr" and tb.session.history.rows == []


def test_bad_input_is_refused_beneath_its_control_and_the_search_kept(tb):
    tb.frame(4)
    f = tb.fields["lr_lo"]
    f.control.value = -1
    assert "lr range" in f.errors.message and f.control.value == 0.001
    assert tb.session.step == 4 and len(tb.session.history.rows) == 4
    f = tb.fields["batch_size"]
    f.control.value = 10_000
    assert "batch_size" in f.errors.message and tb.model.batch_size == 16
    f = tb.fields["batch_sizes"]
    f.control.value = "8, lots"
    assert "batch sizes must be integers" in f.errors.message
    f = tb.fields["trials"]
    f.control.value = 1
    assert "configs must be an integer in 2..81" in f.errors.message
    assert tb.session.step == 4


def test_a_setting_change_restarts_the_search(tb):
    tb.frame(3)
    tb.fields["trials"].control.value = 5
    assert tb.session.step == 0 and tb.session.horizon == 5
    assert tb.charts["scores"].points.x.size == 0


def test_every_scene_applies(tb, applies):
    for name in tb.scenes():
        applies(tb, name)
    tb.apply_scene("hyperband")                  # 27 at 1 epoch, 9 at 3, 3 at 9, 1 at 27
    assert tb.session.horizon == 4 and tb.model.search == "hyperband"
    assert [(len(r.configs) or r.keep, r.epochs) for r in tb.session.cfg.plan.rounds] == [
        (27, 1), (9, 3), (3, 9), (1, 27)]
    tb.apply_scene("halving")
    assert [(len(r.configs) or r.keep, r.epochs) for r in tb.session.cfg.plan.rounds] == [
        (9, 5), (3, 15), (1, 45)]


def test_a_new_data_set_in_step_2_goes_back_to_step_1(tb):
    tb.frame(9)
    tb.to_step2()
    tb.fields["dataset"].control.value = "moons"
    assert tb.model.stage == "lr" and tb.model.dataset == "moons"
    assert tb.session.history.rows == [] and tb.session.cfg.built.dataset.name == "moons"


def test_step_2_with_a_batch_size_the_data_cannot_take_is_refused(tb):
    tb.frame(9)
    N = tb.session.cfg.built.dataset.X_train.shape[0]
    tb.fields["batch_sizes"].control.value = f"4, {N + 1}"
    assert "batch_size" in tb.fields["batch_sizes"].errors.message
    assert tb.model.batch_sizes == "4, 16, 64" and tb.session.step == 9     # kept
    tb.step2.click()
    assert tb.stage_errors.message == "" and tb.model.stage == "batch size"


def test_a_frame_sends_at_most_one_message_per_widget(tb, sends):
    tb.frame(1)
    sends.clear()
    tb.frame(1)
    assert sends and max(sends.values()) == 1
