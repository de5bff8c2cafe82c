"""The schedule explorer headless: every argument of the selected schedule is a control
(the engine's names and defaults), an edit re-runs the runs under the new value and the lr
they used equals engine.schedules / torch, a bad value is refused next to its control with
the state kept, reduce-on-plateau drops are drawn, and the formula panel tells the truth."""

import importlib

import numpy as np
import pytest
import traitlets as T

from descentlab.engine import callbacks as cb
from descentlab.engine import runner, schedules
from descentlab.widgets.surface import schedule_explorer
from descentlab.widgets.surface.build import (
    BASE_RATIO,
    PLATEAU,
    SCHEDULES,
    editable,
    schedule_parameters,
)

LRS = np.array([0.05, 0.0125])        # the explorer's two runs: lr and lr / 4


def snapshot(lab):
    s = lab.session
    return (lab.model.config(), s.step, s.history.params.copy(), s.history.lr.copy())


def assert_kept(lab, before):
    s = lab.session
    assert lab.model.config() == before[0] and s.step == before[1]
    np.testing.assert_array_equal(s.history.params, before[2])
    np.testing.assert_array_equal(s.history.lr, before[3])


def test_the_menu_offers_every_schedule_and_reduce_on_plateau():
    lab = schedule_explorer()
    controls = lab.widget.children[2].children[0].children     # the left column
    assert controls[0] is lab.schedule_menu and lab.params_box in controls
    assert tuple(lab.schedule_menu.control.options) == SCHEDULES
    assert SCHEDULES == (*schedules.names(), PLATEAU)
    assert set(schedule_parameters(PLATEAU)) >= {"factor", "patience", "threshold",
                                                 "cooldown", "min_lr"}
    lab.close()


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_argument_is_a_control_showing_the_engines_value(name):
    lab = schedule_explorer()
    lab.schedule_menu.control.value = name                  # a person picks it
    assert lab.model.schedule == name and lab.model.schedule_params == {}
    fields = lab.param_fields[name]
    assert tuple(fields) == editable(name)
    assert list(lab.params_box.children) == list(fields.values())
    names = set(schedule_parameters(name)) - {"lr", "max_lr"}
    assert {BASE_RATIO if k == "base_lr" else k for k in names} == set(fields)
    built = lab.session.built_for(lab.session.cfg)
    for key, f in fields.items():
        v = f.control.value
        if name == PLATEAU:
            rule = built.plateau
            want = rule.every if key == "every" else getattr(rule.rule, key)
        elif key == BASE_RATIO:
            want = 0.1
        else:
            kw = schedules.get(name, **_kwargs(lab)).params
            want = kw[key] if kw[key] is not None else kw["step_size_up"]
        if isinstance(want, list):
            assert [int(x) for x in v.split(",")] == want
        else:
            assert v == pytest.approx(want, rel=1e-3), key
    lab.close()


def _kwargs(lab):
    from descentlab.widgets.surface.build import schedule_kwargs
    cfg = lab.session.cfg
    return schedule_kwargs(cfg.schedule, LRS, cfg.max_steps, cfg.schedule_params)


def test_editing_an_argument_reruns_and_the_lr_curve_is_the_engines():
    lab = schedule_explorer(schedule="step", max_steps=200)
    lab.frame(120)
    f = lab.param_fields["step"]
    f["gamma"].control.value = 0.3
    f["step_size"].control.value = 40
    assert lab.model.schedule_params == {"gamma": 0.3, "step_size": 40}
    s = lab.session
    assert s.step == 120 and not s.events.events              # re-ran, nothing spliced
    want = schedules.step(LRS, 40, gamma=0.3)(np.arange(120))
    np.testing.assert_allclose(s.history.lr[1:].T, want, rtol=1e-15, atol=0)
    assert "re-ran from step 0 under the new schedule" in lab.status.widget.value
    assert "step: step_size 50 → 40: re-ran from step 0" in lab.status.widget.value
    lab.flush()
    used = np.reshape(lab.charts["lr"].series.lines.y, (2, -1))
    np.testing.assert_array_equal(used, s.history.lr.T)
    lab.close()


def test_milestones_and_text_arguments_are_edited_and_checked():
    lab = schedule_explorer(schedule="multistep", max_steps=100)
    lab.frame(100)
    box = lab.param_fields["multistep"]["milestones"]
    box.control.value = "10, 30, 30"
    want = schedules.multistep(LRS, [10, 30, 30], gamma=0.1)(np.arange(100))
    np.testing.assert_allclose(lab.session.history.lr[1:].T, want, rtol=1e-15)
    before = snapshot(lab)
    box.control.value = "ten, 30"
    assert "milestones must be integers separated by commas" in box.errors.widget.value
    assert box.control.value == "10, 30, 30"
    assert_kept(lab, before)
    lab.schedule_menu.control.value = "cyclic"
    mode = lab.param_fields["cyclic"]["mode"]
    mode.control.value = "triangular2"
    lab.frame(100)
    want = schedules.cyclic(LRS / 10, LRS, 12, mode="triangular2")(np.arange(100))
    np.testing.assert_allclose(lab.session.history.lr[1:].T, want, rtol=1e-15)
    ratio = lab.param_fields["cyclic"][BASE_RATIO]
    ratio.control.value = 0.5
    want = schedules.cyclic(LRS * 0.5, LRS, 12, mode="triangular2")(np.arange(100))
    np.testing.assert_allclose(lab.session.history.lr[1:].T, want, rtol=1e-15)
    lab.close()


@pytest.mark.parametrize("schedule, key, bad, words, good", [
    ("step", "step_size", 0, "step_size must be an integer in [1, inf), got 0", 25),
    ("step", "gamma", -0.5, "gamma must be in (0, inf); got -0.5", 0.7),
    ("cosine", "eta_min", -1.0, "eta_min must be in [0, inf); got -1", 1e-3),
    ("cyclic", BASE_RATIO, 2.0, "base_lr / max_lr must be in [0, 1]; got 2.0", 0.2),
    ("one_cycle", "pct_start", 1.5, "pct_start must be in (0, 1); got 1.5", 0.4),
    (PLATEAU, "factor", 1.5, "factor must be in (0, 1); got 1.5", 0.5),
    (PLATEAU, "patience", -1, "patience must be an integer in [0, inf); got -1", 3),
    (PLATEAU, "threshold", -0.1, "threshold must be in [0, inf); got -0.1", 0.01),
    (PLATEAU, "cooldown", -3, "cooldown must be an integer in [0, inf); got -3", 2),
    (PLATEAU, "min_lr", -1e-3, "min_lr must be in [0, inf); got -0.001", 1e-4),
    (PLATEAU, "every", 0, "every must be an integer in [1, inf), got 0", 2),
])
def test_a_bad_value_is_shown_next_to_its_control_and_the_state_is_kept(schedule, key, bad,
                                                                        words, good):
    lab = schedule_explorer(schedule=schedule, max_steps=80)
    lab.frame(30)
    before = snapshot(lab)
    box = lab.param_fields[schedule][key]
    shown = box.control.value
    box.control.value = bad
    assert words in box.errors.widget.value
    assert box.control.value == shown                        # the last good value
    assert_kept(lab, before)
    assert all(f.errors.message == "" for k, f in lab.param_fields[schedule].items()
               if k != key)
    box.control.value = good                                  # a good value clears it
    assert box.errors.message == "" and lab.model.schedule_params == {key: good}
    lab.close()


def test_changing_the_schedule_swaps_the_controls_and_starts_from_its_defaults():
    lab = schedule_explorer(schedule="step", max_steps=100)
    lab.param_fields["step"]["gamma"].control.value = 0.2
    lab.frame(50)
    lab.schedule_menu.control.value = "cosine"
    assert lab.model.schedule_params == {}                    # step's gamma does not leak
    assert tuple(lab.param_fields["cosine"]) == ("T_max", "eta_min")
    assert lab.params_box.children[0].control.value == 100
    lab.model.max_steps = 300                                  # T follows max steps
    assert lab.param_fields["cosine"]["T_max"].control.value == 300
    lab.schedule_menu.control.value = "step"                   # back: step's own defaults
    assert lab.param_fields["step"]["gamma"].control.value == 0.5
    assert lab.param_fields["step"]["step_size"].control.value == 75
    with pytest.raises(T.TraitError):
        lab.model.set_schedule("cosine", {"T_max": 0})
    assert lab.model.schedule == "step" and lab.model.schedule_params == {}
    lab.close()


def torch_plateau_lrs(lab):
    """(R, T) lrs of torch ReduceLROnPlateau + SGD(momentum) on the lab's quadratic, one
    torch run per run, stepped on the loss after every step, with the lab's gradient noise."""
    torch = pytest.importorskip("torch")
    ref = importlib.import_module("reference.make_runner_vectors")
    cfg = lab.session.cfg
    kw = {k: v for k, v in runner.plateau().rule._asdict().items()
          if k in ("factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr",
                   "eps")}
    kw.update({k: v for k, v in cfg.schedule_params.items() if k != "every"})
    T_ = lab.session.step
    R = len(cfg.runs)
    out, params = np.zeros((R, T_)), np.zeros((R, T_ + 1, 2))
    sigma = cfg.grad_noise
    for r, run in enumerate(cfg.runs):
        p = torch.tensor(lab.session.history.params[0, r], dtype=torch.float64,
                         requires_grad=True)
        opt = torch.optim.SGD([p], lr=run.lr, momentum=cfg.momentum)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", **kw)
        params[r, 0] = p.detach().numpy()
        for t in range(1, T_ + 1):
            out[r, t - 1] = opt.param_groups[0]["lr"]
            opt.zero_grad()
            ref.quadratic(p, **cfg.problem_params).backward()
            if sigma:
                xi = np.random.default_rng([cfg.seed, t - 1]).standard_normal((R, 2))
                p.grad.add_(torch.tensor(sigma * xi[r]))
            opt.step()
            with torch.no_grad():
                sched.step(float(ref.quadratic(p, **cfg.problem_params)))
            params[r, t] = p.detach().numpy()
    return out, params


def test_plateau_scene_drops_the_rate_as_torch_does_and_draws_the_drops():
    lab = schedule_explorer()
    lab.apply_scene("plateau")
    while lab.frame(50):
        pass
    s = lab.session
    assert s.cfg.schedule == PLATEAU and s.cfg.grad_noise == 1.0
    lrs, params = torch_plateau_lrs(lab)
    np.testing.assert_allclose(s.history.lr[1:].T, lrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.transpose(s.history.params, (1, 0, 2)), params,
                               rtol=1e-10, atol=1e-12)
    drops = s.drops(s.step)
    assert len(drops) >= 4 and {d[1] for d in drops} == {0, 1}
    assert min(lrs.min(axis=1)) >= 1e-4                       # min_lr holds
    lab.flush()
    chart = lab.charts["lr"]
    assert chart.series.figure.title == chart.PLATEAU_TITLE
    assert np.size(chart.plan.x) == 0 == np.size(chart.plan.y)   # no plan: an empty mark
    np.testing.assert_array_equal(chart.drops.x, [d[0] + 1 for d in drops])
    np.testing.assert_array_equal(chart.drops.y, [s.history.lr[d[0] + 1, d[1]] for d in drops])
    colors = lab.style().colors
    assert list(chart.drops.colors) == [colors[d[1]] for d in drops]
    # each dot sits on the rate the run used at that step; the run's labels stay its own
    assert s.labels == ["Momentum η 0.05", "Momentum η 0.0125"]
    assert s.view().events == ()                              # drops are not live edits
    lab.close()


def test_editing_a_plateau_argument_reruns_with_it_and_equals_torch():
    lab = schedule_explorer(schedule=PLATEAU, max_steps=150)
    lab.frame(150)
    f = lab.param_fields[PLATEAU]
    f["factor"].control.value = 0.5
    f["patience"].control.value = 3
    f["threshold"].control.value = 1e-3
    f["threshold_mode"].control.value = "abs"
    assert lab.model.schedule_params == {"factor": 0.5, "patience": 3, "threshold": 1e-3,
                                         "threshold_mode": "abs"}
    assert lab.session.step == 150
    lrs, _ = torch_plateau_lrs(lab)
    np.testing.assert_allclose(lab.session.history.lr[1:].T, lrs, rtol=1e-12)
    assert (np.diff(lrs, axis=1) != 0).any()
    # and the rule itself, fed the run's own losses, gives the same rates
    rule = lab.session.built_for(lab.session.cfg).plateau.rule
    st = cb.plateau_init(rule, LRS)
    for t in range(1, 150):
        st = cb.plateau_update(rule, st, lab.session.history.loss[t])
        np.testing.assert_allclose(lab.session.history.lr[t + 1], st.lr, rtol=1e-15)
    lab.close()


def test_the_panel_states_the_formula_with_the_values_now():
    lab = schedule_explorer(schedule="step", max_steps=200)
    panel = lab.panels["schedule"]
    assert schedules.LATEX["step"] in panel.rule.value
    assert "StepLR(optimizer, step_size=50, gamma=0.5)" in panel.rule.value
    lab.param_fields["step"]["gamma"].control.value = 0.25
    assert "StepLR(optimizer, step_size=50, gamma=0.25)" in panel.rule.value
    assert r"$\gamma$ = 0.25 (<code>gamma</code>)" in panel.rule.value
    lab.frame(60)
    lab.flush()
    assert f"η used by step 60: run 1: {0.05 * 0.25:.4g}, run 2: {0.0125 * 0.25:.4g}" in \
        panel.now.value
    lab.schedule_menu.control.value = PLATEAU
    assert runner.PLATEAU_LATEX in panel.rule.value
    assert "ReduceLROnPlateau(optimizer, mode=&#x27;min&#x27;, factor=0.1, patience=10" in \
        panel.rule.value
    lab.param_fields[PLATEAU]["patience"].control.value = 4
    assert "patience=4" in panel.rule.value and "$p$ = 4" in panel.rule.value
    lab.frame(100)
    lab.flush()
    assert "plateau drops by step" in panel.now.value
    lab.schedule_menu.control.value = "warmup_cosine"
    assert ("SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1/21, total_iters=20),"
            " CosineAnnealingLR(optimizer, T_max=180, eta_min=0)], milestones=[20])"
            ) in panel.rule.value
    lab.close()
