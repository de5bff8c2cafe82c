"""descentlab.widgets.exercises.check: the verdict of the engine's grader as widgets."""

import ast
from pathlib import Path

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.engine import exercises
from descentlab.widgets import exercises as wex
from descentlab.widgets.exercises import check


def solution(name):
    ns = {"np": np}
    exec(exercises.solution(name), ns)
    return ns[name]


def walk(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from walk(c)


def html_of(view):
    return " ".join(w.value for w in walk(view) if isinstance(w, (W.HTML, W.HTMLMath)))


def figures(view):
    return [w for w in walk(view) if isinstance(w, bq.Figure)]


def uphill_gd(grad, theta0, lr, steps):
    out = [theta0]
    for _ in range(steps):
        out.append(out[-1] + lr * grad(out[-1]))
    return np.array(out)


def test_a_pass_is_one_clear_line_and_the_help_buttons():
    view = check("gd", solution("gd"))
    assert isinstance(view, W.VBox) and view.feedback.passed
    text = html_of(view)
    assert "passed" in text and "#009E73" in text
    assert not figures(view) and "<table" not in text
    assert repr(view).startswith("check('gd') passed |")
    assert {b.description for b in walk(view) if isinstance(b, W.ToggleButton)} == \
        {"Hint", "Solution"}


def test_a_failure_shows_the_located_table_and_the_trajectory_plot():
    view = check("gd", uphill_gd)
    fb = view.feedback
    text = html_of(view)
    assert "<table" in text and fb.expected_text in text and fb.received_text in text
    assert "likely mistake" in text and "uphill" in text
    (fig,) = figures(view)
    ref, mine = fig.marks[0], fig.marks[1]
    np.testing.assert_allclose(np.c_[ref.x, ref.y], fb.trajectory.expected)
    np.testing.assert_allclose(np.c_[mine.x, mine.y], fb.trajectory.received)
    assert ref.colors == ["#0072B2"] and mine.colors == ["#D55E00"]
    legend = [w for w in walk(view) if isinstance(w, W.HBox) and fig in w.children][0]
    assert any(isinstance(c, W.HTML) and "reference" in c.value for c in legend.children)


def test_step_and_epoch_exercises_plot_too_and_gradients_do_not():
    def sgd_uphill(X, y, w0, b0, lr, B, epochs, seed):
        w, b = solution("minibatch_sgd")(X, y, w0, b0, -lr, B, epochs, seed)
        return w, b
    assert len(figures(check("minibatch_sgd", sgd_uphill))) == 1
    assert len(figures(check("adam_step", lambda th, g, m, v, t, lr, *a:
                             (th + lr * g, m, v)))) == 1
    view = check("mse_grad", lambda X, y, w, b: (X.T @ (X @ w + b - y), 0.0))
    assert not figures(view) and "<table" in html_of(view)


def test_hint_and_solution_appear_only_when_asked():
    view = check("adam_step", solution("adam_step"))
    hint, sol = [b for b in walk(view) if isinstance(b, W.ToggleButton)]
    assert "beta1**t" not in html_of(view).replace("&quot;", "")
    sol.value = True
    assert "def adam_step" in html_of(view)
    sol.value = False
    assert "def adam_step" not in html_of(view)
    hint.value = True
    assert "1 - beta1**t" in html_of(view)


def stub(*args):
    raise NotImplementedError


def test_stub_error_shape_timeout_and_printing_get_messages_never_tracebacks():
    cases = {
        "not implemented yet": check("mse_grad", stub),
        "ZeroDivisionError": check("mse_grad", lambda X, y, w, b: 1 / 0),
        "has shape": check("mse_grad", lambda X, y, w, b: (np.zeros(7), 0.0)),
        "NaN or inf": check("rmsprop_step", lambda th, g, v, *a: (th * np.nan, v)),
        "time limit": wex.check_view("gd", lambda *a: [0 for _ in iter(int, 1)],
                                     time_limit=0.2),
    }
    for words, view in cases.items():
        text = html_of(view)
        assert words in text, (words, text)
        assert "Traceback" not in text
    def chatty(grad, theta0, lr, steps):
        print("step <b>0</b>")
        return solution("gd")(grad, theta0, lr, steps)
    text = html_of(check("gd", chatty))
    assert "what your code printed" in text and "&lt;b&gt;0&lt;/b&gt;" in text


def test_a_drawing_failure_still_shows_the_verdict(monkeypatch):
    import descentlab.widgets.exercises.plot as plot

    def broken(tr):
        raise RuntimeError("no")
    monkeypatch.setattr(plot, "trajectory_plot", broken)
    view = check("gd", uphill_gd)
    assert "uphill" in html_of(view) and "could not be drawn" in html_of(view)


def test_unknown_exercise_is_a_message():
    view = check("nope", stub)
    assert "unknown exercise" in html_of(view) and not figures(view)


def test_the_check_package_imports_only_ipywidgets_bqplot_numpy_and_the_engine():
    allowed = {"ipywidgets", "bqplot", "numpy", "html", "re", "__future__"}
    for path in (Path(wex.__file__).parent).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module]
            else:
                continue
            for m in mods:
                assert m.split(".")[0] in allowed or m.startswith("descentlab.engine"), \
                    f"{path.name} imports {m}"
