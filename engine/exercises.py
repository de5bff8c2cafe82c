r"""From-scratch exercises that check themselves: students write the mathematics, the engine
grades it.

Each exercise is a function with a fixed signature (float64 numpy arrays; see :func:`text`).
:func:`grade` runs the student's function on fixed test cases, in the same order as the
engine's reference and with the student's own outputs fed back (so the first difference is
the first mistake), and returns a :class:`Feedback`:

* the first failing case, step, output and coordinate with the expected and received
  values (4 significant digits);
* the name of a common mistake when the student's outputs equal those of a planted wrong
  variant computed by the grader (flipped sign, missing factor 2, sum instead of mean, Adam
  without bias correction, :math:`\epsilon` inside the square root, coupled L2 in AdamW, no
  reshuffle, dropped last batch, :math:`t` counted from 0, ...);
* a clear message, never an exception, when the code raises, returns the wrong type or
  shape, returns NaN or inf, prints, or runs past the exercise's time limit.

References come from the engine: :mod:`.models` for gradients, :mod:`.optimizers` for
every update (equal to ``torch.optim``), :mod:`.callbacks` for early stopping.  A value
passes when :math:`|a - b| \le 10^{-6}\,(|b| + 10^{-6} \max |b|)` over the output.

Time limit.  In the main thread (a notebook, a test), a student call runs under
``signal.setitimer(ITIMER_REAL)``: when the exercise's budget is spent, SIGALRM raises an
internal exception (a ``BaseException``, so ``except Exception`` in student code does not
swallow it); code that catches even that is traced from then on and gets the exception
again at every bytecode until it gives up.  The previous handler and timer are restored
afterwards.  Elsewhere (a worker thread, where ``signal`` is not
allowed) a ``sys.settrace`` hook checks the clock as the student's Python bytecode runs;
no thread is ever started.  Neither can interrupt one long C call (a huge ``np.ones``, a
``time.sleep`` off the main thread): then the time is checked when the call returns.

:func:`as_optimizer` turns a student step function (``adam_step``, ...) into a
:class:`.base.GradientTransformation` over the runs axis, to race it beside the engine's
optimizers in :func:`.runner.run` and :func:`.optimizers.race`.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import math
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import callbacks, models, optimizers
from . import problems as _problems
from . import transforms as T
from .base import ChainState, GradientTransformation, apply_updates, common_runs, find_state
from .base import replace_state as _replace_state
from .checks import check_grads, hparam

__all__ = [
    "Case",
    "Feedback",
    "Trajectory",
    "RTOL",
    "names",
    "text",
    "hint",
    "solution",
    "signature",
    "reference",
    "cases",
    "mistakes",
    "grade",
    "as_optimizer",
    "step_exercise_of",
    "STEP_EXERCISES",
    "StepState",
]

RTOL = 1e-6
"""Relative tolerance of a pass (rounding of a different but correct order of operations
is ~1e-15; every planted mistake moves the result by far more)."""

NOT_IMPLEMENTED = "not implemented yet"
MAX_PRINTED = 2000  # characters of captured student output kept in the feedback


# ---------------------------------------------------------------------------- feedback


class Trajectory(NamedTuple):
    """The iterates of the first failing case, for a plot: ``expected (T+1, D)`` from the
    reference, ``received (T'+1, D)`` from the student (``T' <= T``; NaN where missing).
    ``axis`` names the horizontal count ("step", "epoch", "iterate"); ``coords`` the D
    coordinate names; ``fail_at`` the row of the first difference."""

    case: str
    axis: str
    coords: tuple
    expected: np.ndarray
    received: np.ndarray
    fail_at: int


class Feedback(NamedTuple):
    """The grade of one exercise.

    ``status`` is one of "passed", "failed" (wrong numbers), "not_implemented", "error"
    (the code raised), "bad_output" (wrong type or shape), "not_finite" (NaN or inf),
    "timeout", "invalid" (unknown exercise, not a function).  ``case``, ``where``,
    ``output``, ``index``, ``expected``, ``received`` locate the first failure; ``mistake``
    is the recognised common mistake (``mistake_key`` its key); ``expected_text`` and
    ``received_text`` the two values as the message shows them; ``printed`` what the
    student's code printed; ``trajectory`` the iterates (trajectory exercises only).
    """

    name: str
    passed: bool
    status: str
    message: str
    case: str = ""
    where: str = ""
    output: str = ""
    index: str = ""
    expected: Any = None
    received: Any = None
    expected_text: str = ""
    received_text: str = ""
    mistake: str = ""
    mistake_key: str = ""
    printed: str = ""
    trajectory: Trajectory | None = None
    seconds: float = 0.0


class _Problem(Exception):
    """A failure of the student's code (raised inside the harness, caught by grade)."""

    def __init__(self, status: str, detail: str, where: str = ""):
        super().__init__(detail)
        self.status, self.detail, self.where = status, detail, where


class _Timeout(BaseException):
    """Raised into student code when its time is up (not an Exception: not swallowed)."""


@contextlib.contextmanager
def _at(where: str):
    """Label the failures raised inside with ``where`` (the innermost label wins)."""
    try:
        yield
    except _Problem as p:
        if not p.where:
            p.where = where
        raise


class Frame(NamedTuple):
    """One compared moment of a run: ``where`` (e.g. "step 3") and its outputs by name."""

    where: str
    values: dict


class Case(NamedTuple):
    """A test case: ``label`` as the messages show it, ``args`` the student's arguments
    (gradients, ``gd``, ``minibatch_sgd``, ``early_stopping``), ``info`` what a step
    exercise's run needs: ``grad`` (the gradient oracle), ``theta0``, ``steps``,
    ``hparams`` by the signature's names."""

    label: str
    args: tuple
    info: dict


class Mistake(NamedTuple):
    key: str
    text: str
    variants: tuple  # wrong implementations with the student's signature


# ---------------------------------------------------------------------------- time limit


_PROTECTED = frozenset({__file__, contextlib.__file__})  # the grader's own frames


@contextlib.contextmanager
def _alarm(seconds: float):
    """SIGALRM after ``seconds`` raises _Timeout; restores the old handler and timer (e.g.
    pytest-timeout's) on the way out.

    Code that catches the exception and carries on is not let off: the first alarm also
    traces the student's frames (and any new one), raising _Timeout at every bytecode
    until the call is over; the alarm repeats every 50 ms too."""
    armed = [True]
    escalate = sys.gettrace() is None  # leave a debugger's or coverage's tracer alone

    def tracer(frame, event, arg):
        # not on "exception" events: an error in a tracer unsets it (CPython), and the
        # one shot must land inside the student's except clause
        if armed[0] and event != "exception" and frame.f_code.co_filename not in _PROTECTED:
            raise _Timeout
        return tracer

    def handler(signum, frame):
        if not armed[0]:
            return
        if escalate:
            f = frame
            while f is not None and f.f_code is not _CALL_SITE:
                if f.f_code.co_filename not in _PROTECTED:
                    f.f_trace = tracer
                    f.f_trace_opcodes = True
                f = f.f_back
            sys.settrace(tracer)
        raise _Timeout

    started = time.perf_counter()
    old_handler = signal.signal(signal.SIGALRM, handler)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-4), 0.05)
    try:
        yield
    finally:
        try:
            armed[0] = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if escalate:
                sys.settrace(None)
            signal.signal(signal.SIGALRM,
                          signal.SIG_DFL if old_handler is None else old_handler)
            if old_delay > 0:
                left = old_delay - (time.perf_counter() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), old_interval)


@contextlib.contextmanager
def _traced(deadline: float):
    """A trace hook that raises _Timeout in the student's Python code once past
    ``deadline`` (this thread only; the clock is read every 256 bytecodes).  Skipped when
    a tracer (debugger, coverage) is already set."""
    old = sys.gettrace()
    if old is not None:
        yield
        return
    clock = time.perf_counter
    events = [0]

    def tracer(frame, event, arg):
        if event == "call":  # every bytecode: a one-line `while True: pass` has no line events
            frame.f_trace_opcodes = True
        events[0] += 1
        if not events[0] & 255 and clock() > deadline:
            raise _Timeout
        return tracer

    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(None)


def _time_limit(seconds: float):
    """The guard for one student call: an alarm in the main thread, else a trace hook."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        try:
            signal.getsignal(signal.SIGALRM)
            return _alarm(seconds)
        except (ValueError, OSError):  # pragma: no cover - embedded interpreters
            pass
    return _traced(time.perf_counter() + seconds)


# ---------------------------------------------------------------------------- calling code


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, (list, dict, tuple)):
        return copy.deepcopy(a)
    return a


def _trusted(fn, *args):
    """Call a reference or a planted variant (on copies, warnings off)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*(_copy(a) for a in args))


def _user_line(exc: BaseException) -> str:
    """' (line 4 of your code: `x = ...`)' for the innermost frame outside this module."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    if not frames:
        return ""
    f = frames[-1]
    code = f": `{f.line.strip()}`" if f.line and f.line.strip() else ""
    return f" (line {f.lineno} in {f.name}{code})"


class _Student:
    """Calls the student's function: copies of the inputs, output captured, warnings off,
    a time budget shared by all calls of one grade, every exception turned into _Problem."""

    def __init__(self, name: str, limit: float):
        self.name, self.limit = name, float(limit)
        self.spent = 0.0
        self.printed = io.StringIO()

    def __call__(self, fn, *args):
        left = self.limit - self.spent
        if left <= 0:
            raise _Problem("timeout", self._too_long())
        args = tuple(_copy(a) for a in args)
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(self.printed), \
                    contextlib.redirect_stderr(self.printed), \
                    np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with _time_limit(left):
                    out = fn(*args)
        except _Timeout:
            raise _Problem("timeout", self._too_long()) from None
        except NotImplementedError:
            raise _Problem("not_implemented", f"{NOT_IMPLEMENTED}: `{self.name}` still raises "
                           "NotImplementedError. Replace `raise NotImplementedError` with your "
                           "code and run the cell again.") from None
        except RecursionError:
            raise _Problem("error", "your code raised RecursionError (a function that calls "
                           "itself without end)") from None
        except BaseException as e:  # noqa: BLE001 - student code may raise anything
            detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            raise _Problem("error", f"your code raised {type(e).__name__}"
                           f"{': ' + detail if detail else ''}{_user_line(e)}") from None
        finally:
            self.spent += time.perf_counter() - start
        if self.spent > self.limit:
            raise _Problem("timeout", self._too_long())
        return out

    def _too_long(self) -> str:
        return (f"`{self.name}` ran for more than {self.limit:g} s, the time limit of this "
                "exercise. Is there a loop that never ends, or a loop over far more steps "
                "than asked?")

    def output(self) -> str:
        s = self.printed.getvalue()
        return s if len(s) <= MAX_PRINTED else s[:MAX_PRINTED] + "\n... (output cut)"


_CALL_SITE = _Student.__call__.__code__  # where student frames end, walking outwards


# ---------------------------------------------------------------------------- outputs


def _unpack(out, names: tuple) -> tuple:
    """The student's tuple of ``len(names)`` outputs, or _Problem."""
    want = "(" + ", ".join(names) + ")"
    if out is None:
        raise _Problem("bad_output", f"returned None: did you forget `return {want[1:-1]}`?")
    if not isinstance(out, (tuple, list)):
        raise _Problem("bad_output", f"returned a {type(out).__name__}; expected a tuple "
                       f"{want}")
    if len(out) != len(names):
        raise _Problem("bad_output", f"returned {len(out)} values; expected {len(names)}: "
                       f"{want}")
    return tuple(out)


def _arr(value, name: str, shape: tuple, hint: str = "") -> np.ndarray:
    """``value`` as a float64 array of exactly ``shape`` (shape () also takes one-element
    arrays), or _Problem naming ``name``."""
    if value is None:
        raise _Problem("bad_output", f"`{name}` is None; expected "
                       + ("a number" if shape == () else f"an array of shape {shape}"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            a = np.array(value, dtype=np.float64)
    except Exception:  # noqa: BLE001 - anything that is not numbers
        kind = "a number" if shape == () else f"a float array of shape {shape}"
        raise _Problem("bad_output", f"`{name}` is a {type(value).__name__} "
                       f"({_short(value)}); expected {kind}") from None
    if shape == () and a.size == 1:
        return a.reshape(())
    if a.shape != shape:
        raise _Problem("bad_output", f"`{name}` has shape {a.shape}; expected {shape}"
                       + (f" ({hint})" if hint else ""))
    return a


def _epoch_number(value, name: str, allow_none: bool) -> float:
    """An epoch number (int, or None when allowed) encoded as float (None -> NaN)."""
    if value is None:
        if allow_none:
            return math.nan
        raise _Problem("bad_output", f"`{name}` is None; expected an int")
    if isinstance(value, (bool, np.bool_)):
        raise _Problem("bad_output", f"`{name}` is a bool ({value}); expected an int")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) \
            and float(value) == round(float(value)):
        return float(value)
    kind = "an int or None" if allow_none else "an int"
    raise _Problem("bad_output", f"`{name}` is {_short(value)} ({type(value).__name__}); "
                   f"expected {kind}")


def _short(value) -> str:
    try:
        s = repr(value)
    except Exception:  # noqa: BLE001
        s = object.__repr__(value)
    return s if len(s) <= 60 else s[:57] + "..."


def _fmt(x, discrete: bool = False) -> str:
    """4 significant digits; epoch numbers as ints, NaN as None."""
    x = float(x)
    if discrete:
        return "None" if math.isnan(x) else str(int(x))
    return f"{x:.4g}"


def _close(a: np.ndarray, b: np.ndarray, discrete: bool = False) -> np.ndarray:
    """Elementwise: a equals b (to RTOL relative, or exactly for discrete outputs)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if discrete:
        return same
    finite = np.abs(b[np.isfinite(b)])
    scale = 1e-6 * finite.max() if finite.size else 0.0
    with np.errstate(invalid="ignore"):
        return same | (np.abs(a - b) <= RTOL * (np.abs(b) + scale) + 1e-300)


def _first_difference(ref: list, got: list, discrete: bool):
    """(frame, output, flat index) of the first value of ``got`` that differs from ``ref``,
    or None (``got`` may be shorter than ``ref`` when the student's run stopped early)."""
    for k, (fr, fg) in enumerate(zip(ref, got, strict=False)):
        for name, b in fr.values.items():
            a = fg.values[name]
            ok = _close(a, b, discrete)
            if not ok.all():
                return k, name, int(np.flatnonzero(~ok.ravel())[0])
    return None


def _same(ref: list, got: list, discrete: bool) -> bool:
    return len(ref) >= len(got) and _first_difference(ref, got, discrete) is None


# ---------------------------------------------------------------------------- exercises


class _Exercise(NamedTuple):
    name: str
    title: str
    signature: str
    text: str
    hint: str
    solution: str
    reference: Callable
    cases: Callable[[], list]
    run: Callable
    mistakes: tuple
    path: Callable | None = None  # (case, frames) -> (T+1, D) iterates, for a plot
    axis: str = "step"
    coords: Callable | None = None  # case -> coordinate names
    discrete: bool = False
    time_limit: float = 2.0


_EXERCISES: dict[str, _Exercise] = {}


def _register(ex: _Exercise) -> None:
    _EXERCISES[ex.name] = ex


def _data(seed: int, n: int, f: int, task: str):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    w = rng.normal(size=f)
    b = float(rng.normal())
    if task == "regression":
        y = X @ rng.normal(size=f) + 0.3 * rng.normal(size=n) + 0.5
    else:
        y = (rng.random(n) < 0.5).astype(np.float64)
        X = 1.5 * X
    return X, y, w, b


# ---- 1. gradients ------------------------------------------------------------------------


def _grad_cases(task: str):
    def cases():
        out = []
        for i, (seed, n, f) in enumerate(((0, 8, 3), (1, 5, 1), (2, 12, 4)), 1):
            X, y, w, b = _data(seed, n, f, task)
            out.append(Case(f"case {i} (N = {n} rows, F = {f} features)", (X, y, w, b), {}))
        return out
    return cases


def _run_grad(fn, case, call):
    X, y, w, b = case.args
    out = call(fn, X, y, w, b)
    dw, db = _unpack(out, ("dw", "db"))
    return [Frame("", {"dw": _arr(dw, "dw", w.shape, "one entry per feature"),
                       "db": _arr(db, "db", ())})]


def _model_grad(model, X, y, w, b):
    theta = np.concatenate([np.asarray(w, np.float64), [float(b)]])[None]
    g = model.grad(theta, X, y)[0]
    return g[:-1], float(g[-1])


def _ref_mse_grad(X, y, w, b):
    return _model_grad(models.linear_regression(), X, y, w, b)


def _ref_logloss_grad(X, y, w, b):
    return _model_grad(models.logistic_regression(), X, y, w, b)


def _mse_variant(factor=2.0, mean=True, sign=1.0, bias=True):
    def fn(X, y, w, b):
        r = sign * (X @ w + (b if bias else 0.0) - y)
        n = len(y) if mean else 1
        return factor * X.T @ r / n, factor * r.sum() / n
    return fn


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logloss_variant(mean=True, sign=1.0, link="sigmoid"):
    def fn(X, y, w, b):
        z = X @ w + b
        p = _sigmoid(z)
        if link == "sigmoid":
            d = p - y
        elif link == "none":
            d = z - y
        else:  # the chain rule through sigma: the MSE-style derivative on p
            d = (p - y) * p * (1 - p)
        d = sign * d / (len(y) if mean else 1)
        return X.T @ d, d.sum()
    return fn


_SIGN_GRAD = ("flipped sign: you used (y − ŷ) where the derivative has (ŷ − y). The gradient "
              "points uphill; the descent step subtracts it.")
_SUM = ("a sum instead of a mean: L is a mean over the N rows, so its gradient is divided "
        "by N too.")

_register(_Exercise(
    name="mse_grad",
    title="Gradient of the mean squared error",
    signature="mse_grad(X, y, w, b) -> (dw, db)",
    text=r"""**`mse_grad(X, y, w, b) -> (dw, db)`**

Linear regression with the mean squared error (the loss of `torch.nn.MSELoss`, no ½):

$$\hat y = X w + b, \qquad L(w, b) = \frac{1}{N}\sum_{n=1}^{N} (\hat y_n - y_n)^2$$

* `X`: float64 array `(N, F)`, one row per example; `y`: `(N,)`; `w`: `(F,)`; `b`: a float.
* Return `dw` $= \partial L / \partial w$, shape `(F,)`, and `db` $= \partial L / \partial b$,
  a float.
* Do not change `X`, `y` or `w` in place (the grader passes copies anyway).
""",
    hint=r"""Write the residual $r = X w + b - y$ (shape `(N,)`). Then
$\partial L/\partial w = \frac{2}{N} X^\top r$ and $\partial L/\partial b = \frac{2}{N}\sum_n r_n$.
The 2 comes from the square; the $\frac1N$ from the mean.""",
    solution='''def mse_grad(X, y, w, b):
    r = X @ w + b - y                 # residuals, (N,)
    N = len(y)
    dw = 2.0 / N * (X.T @ r)          # (F,)
    db = 2.0 / N * r.sum()            # a float
    return dw, db
''',
    reference=_ref_mse_grad,
    cases=_grad_cases("regression"),
    run=_run_grad,
    mistakes=(
        Mistake("factor_2", "missing factor 2: the derivative of (ŷ − y)² is 2(ŷ − y), and "
                "this L has no ½ in front.", (_mse_variant(factor=1.0),)),
        Mistake("sum", _SUM, (_mse_variant(mean=False), _mse_variant(factor=1.0, mean=False))),
        Mistake("sign", _SIGN_GRAD, (_mse_variant(sign=-1.0),
                                     _mse_variant(sign=-1.0, factor=1.0))),
        Mistake("no_bias", "the prediction leaves out b: ŷ = X w + b.",
                (_mse_variant(bias=False),)),
    ),
))

_register(_Exercise(
    name="logloss_grad",
    title="Gradient of the log-loss (binary cross-entropy)",
    signature="logloss_grad(X, y, w, b) -> (dw, db)",
    text=r"""**`logloss_grad(X, y, w, b) -> (dw, db)`**

Logistic regression with the mean binary cross-entropy (`torch.nn.BCEWithLogitsLoss`):

$$z = X w + b, \quad p = \sigma(z) = \frac{1}{1 + e^{-z}}, \quad
L(w, b) = -\frac{1}{N}\sum_{n=1}^{N} \big(y_n \log p_n + (1 - y_n)\log(1 - p_n)\big)$$

* `X`: `(N, F)`; `y`: `(N,)` with values 0.0 or 1.0; `w`: `(F,)`; `b`: a float.
* Return `dw` $= \partial L / \partial w$, shape `(F,)`, and `db` $= \partial L / \partial b$,
  a float.
""",
    hint=r"""Use $\sigma'(z) = \sigma(z)(1 - \sigma(z))$: the derivative of the loss of one row
with respect to its logit is simply $p_n - y_n$ (the $\sigma'$ cancels). Then
$\partial L/\partial w = \frac{1}{N} X^\top (p - y)$ and
$\partial L/\partial b = \frac{1}{N}\sum_n (p_n - y_n)$ — no factor 2 here.""",
    solution='''def logloss_grad(X, y, w, b):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))      # sigma(z), (N,)
    N = len(y)
    dw = X.T @ (p - y) / N
    db = (p - y).sum() / N
    return dw, db
''',
    reference=_ref_logloss_grad,
    cases=_grad_cases("binary"),
    run=_run_grad,
    mistakes=(
        Mistake("sum", _SUM, (_logloss_variant(mean=False),)),
        Mistake("sign", _SIGN_GRAD.replace("(y − ŷ) where the derivative has (ŷ − y)",
                                           "(y − p) where the derivative has (p − y)"),
                (_logloss_variant(sign=-1.0),)),
        Mistake("no_sigmoid", "the logit z is used where the probability p = σ(z) belongs: "
                "the gradient has (σ(z) − y).", (_logloss_variant(link="none"),)),
        Mistake("extra_sigma_prime", "an extra factor σ'(z) = p(1 − p): with the cross-entropy "
                "it cancels, leaving p − y.", (_logloss_variant(link="mse"),)),
    ),
))


# ---- 2. gradient descent -----------------------------------------------------------------


class _Grad:
    """The gradient oracle handed to the student: ``grad(theta (D,)) -> (D,)``."""

    def __init__(self, problem, scale: float = 1.0):
        self.problem, self.scale, self.dim = problem, scale, problem.dim

    def __call__(self, theta):
        t = np.asarray(theta, dtype=np.float64)
        if t.shape != (self.dim,):
            raise ValueError(f"grad expects theta of shape ({self.dim},); got shape {t.shape}")
        with np.errstate(all="ignore"):
            return self.scale * self.problem.grad(t[None].copy())[0]

    def __deepcopy__(self, memo):
        return self


def _ref_gd(grad, theta0, lr, steps):
    opt = optimizers.sgd(lr=lr)
    theta = np.array(theta0, dtype=np.float64)[None]
    state = opt.init(theta)
    out = [theta[0]]
    for _ in range(int(steps)):
        u, state = opt.update(np.asarray(grad(theta[0]), dtype=np.float64)[None], state, theta)
        theta = apply_updates(theta, u)
        out.append(theta[0])
    return np.array(out)


def _gd_cases():
    quad = _problems.get("quadratic", condition=10.0, angle=30.0)
    rosen = _problems.get("rosenbrock")
    return [
        Case("case 1 (rotated quadratic, condition 10, lr 0.05, 20 steps)",
             (_Grad(quad), np.array([-2.5, 2.0]), 0.05, 20), {}),
        Case("case 2 (Rosenbrock, lr 0.001, 30 steps)",
             (_Grad(rosen), np.array([-1.5, 2.0]), 1e-3, 30), {}),
        Case("case 3 (steps = 0: only θ₀)", (_Grad(quad), np.array([1.0, -0.5]), 0.1, 0), {}),
    ]


def _run_gd(fn, case, call):
    grad, theta0, lr, steps = case.args
    out = call(fn, grad, theta0, lr, steps)
    thetas = _arr(out, "thetas", (steps + 1, theta0.shape[0]),
                  f"steps + 1 = {steps + 1} rows, θ₀ first, then one row per step")
    return [Frame(f"iterate θ_{k}", {f"thetas[{k}]": thetas[k]}) for k in range(steps + 1)]


def _move(theta, lr, d, kind):
    """The step ``theta - lr * d``, or uphill ``theta + lr * d`` for the "sign" mistake
    (the planted wrong steps)."""
    return theta + lr * d if kind == "sign" else theta - lr * d


def _gd_variant(kind):
    def fn(grad, theta0, lr, steps):
        theta = np.array(theta0, dtype=np.float64)
        rows = [theta.copy()]
        for _ in range(steps):
            g = grad(theta0 if kind == "at_start" else theta)
            theta = _move(theta, lr, g, kind)
            rows.append(theta.copy())
        if kind == "alias":
            rows = [theta] * (steps + 1)
        return np.array(rows)
    return fn


def _gd_path(case, frames):
    return np.array([next(iter(f.values.values())) for f in frames])


_SIGN_STEP = ("flipped sign: the step goes uphill (θ + η·…); descent subtracts the "
              "(scaled) gradient.")

_register(_Exercise(
    name="gd",
    title="Gradient descent from scratch",
    signature="gd(grad, theta0, lr, steps) -> thetas",
    text=r"""**`gd(grad, theta0, lr, steps) -> thetas`**

Full-batch gradient descent, `torch.optim.SGD(lr=lr)`:

$$\theta_t = \theta_{t-1} - \eta\, \nabla L(\theta_{t-1}), \qquad t = 1, \dots, T$$

* `grad`: a function, `grad(theta)` returns $\nabla L(\theta)$, shape `(D,)`.
* `theta0`: the start $\theta_0$, shape `(D,)`; `lr`: $\eta$; `steps`: $T$ (may be 0).
* Return `thetas`, shape `(steps + 1, D)`: $\theta_0$ first, then $\theta_1, \dots, \theta_T$.
""",
    hint=r"""Keep a list of iterates that starts with a copy of `theta0`. In a loop of `steps`
iterations, evaluate the gradient at the *current* θ, step against it, and append a
**copy** of the new θ (appending the same array you then change in place would make every
row equal the last). Return `np.array(list_of_iterates)`.""",
    solution='''def gd(grad, theta0, lr, steps):
    theta = np.array(theta0, dtype=float)
    thetas = [theta.copy()]
    for _ in range(steps):
        theta = theta - lr * grad(theta)
        thetas.append(theta.copy())
    return np.array(thetas)
''',
    reference=_ref_gd,
    cases=_gd_cases,
    run=_run_gd,
    mistakes=(
        Mistake("sign", _SIGN_STEP, (_gd_variant("sign"),)),
        Mistake("alias", "every row is the final θ: you appended the same array and then "
                "changed it in place. Append `theta.copy()` (or build a new array each step).",
                (_gd_variant("alias"),)),
        Mistake("at_start", "the gradient is always taken at θ₀: evaluate `grad(theta)` at the "
                "current iterate.", (_gd_variant("at_start"),)),
    ),
    path=_gd_path,
    axis="iterate",
    coords=lambda case: ("θ[0]", "θ[1]"),
))


# ---- 3. mini-batch SGD -------------------------------------------------------------------


def _ref_minibatch_sgd(X, y, w0, b0, lr, batch_size, epochs, seed):
    model = models.linear_regression()
    opt = optimizers.sgd(lr=lr)
    theta = np.concatenate([np.asarray(w0, np.float64), [float(b0)]])[None]
    state = opt.init(theta)
    rng = np.random.default_rng(seed)
    N = len(y)
    for _ in range(int(epochs)):
        order = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = order[i:i + batch_size]
            u, state = opt.update(model.grad(theta, X[idx], y[idx]), state, theta)
            theta = apply_updates(theta, u)
    return theta[0, :-1], float(theta[0, -1])


def _sgd_variant(kind):
    def fn(X, y, w0, b0, lr, batch_size, epochs, seed):
        w, b = np.array(w0, dtype=np.float64), float(b0)
        rng = np.random.default_rng(seed)
        N = len(y)
        fixed = rng.permutation(N)
        for e in range(epochs):
            if kind == "no_shuffle":
                order = np.arange(N)
            elif kind == "no_reshuffle":
                order = fixed
            elif kind == "rng_each_epoch":
                order = np.random.default_rng(seed).permutation(N)
            else:
                order = fixed if e == 0 else rng.permutation(N)
            stop = N - N % batch_size if kind == "drop_last" else N
            for i in range(0, stop, batch_size):
                idx = order[i:i + batch_size]
                Xb, yb = X[idx], y[idx]
                n = batch_size if kind in ("divide_by_B", "sum") else len(idx)
                if kind == "sum":
                    n = 1
                factor = 1.0 if kind == "factor_2" else 2.0
                sign = -1.0 if kind == "sign" else 1.0
                r = Xb @ w + b - yb
                dw = sign * factor * Xb.T @ r / n
                w = w - lr * dw
                if kind == "sequential":
                    r = Xb @ w + b - yb
                db = sign * factor * r.sum() / n
                b = b - lr * db
        return w, b
    return fn


def _sgd_cases():
    out = []
    spec = ((0, 10, 2, 4, 3, 0.05, "batch 4 does not divide N = 10"),
            (3, 7, 1, 1, 2, 0.02, "batch 1: plain SGD"),
            (1, 6, 2, 6, 3, 0.1, "batch = N: full-batch GD"))
    for i, (seed, n, f, bs, epochs, lr, what) in enumerate(spec, 1):
        X, y, w0, b0 = _data(seed + 10, n, f, "regression")
        out.append(Case(f"case {i} ({what}; lr {lr:g}, {epochs} epochs, seed {seed})",
                        (X, y, w0, b0, lr, bs, epochs, seed), {}))
    return out


def _run_sgd(fn, case, call):
    X, y, w0, b0, lr, bs, epochs, seed = case.args
    frames = []
    for e in range(epochs + 1):
        where = f"after epoch {e} (called with epochs = {e})" if e else "called with epochs = 0"
        with _at(where):
            w, b = _unpack(call(fn, X, y, w0, b0, lr, bs, e, seed), ("w", "b"))
            frames.append(Frame(where, {"w": _arr(w, "w", w0.shape, "one entry per feature"),
                                        "b": _arr(b, "b", ())}))
    return frames


def _sgd_path(case, frames):
    return np.array([np.concatenate([f.values["w"], [f.values["b"]]]) for f in frames])


_RESHUFFLE = ("no reshuffle between epochs: every epoch used the same order. Create "
              "`rng = np.random.default_rng(seed)` once, before the epoch loop, and draw "
              "`order = rng.permutation(N)` at the start of every epoch.")

_register(_Exercise(
    name="minibatch_sgd",
    title="Mini-batch SGD from scratch",
    signature="minibatch_sgd(X, y, w0, b0, lr, batch_size, epochs, seed) -> (w, b)",
    text=r"""**`minibatch_sgd(X, y, w0, b0, lr, batch_size, epochs, seed) -> (w, b)`**

Linear regression with the MSE loss $L_{\mathcal B} = \frac{1}{|\mathcal B|}
\sum_{n \in \mathcal B} (x_n^\top w + b - y_n)^2$ of each mini-batch $\mathcal B$, trained
with plain SGD (`torch.optim.SGD(lr=lr)`): $w \leftarrow w - \eta\,\nabla_w L_{\mathcal B}$,
$b \leftarrow b - \eta\,\nabla_b L_{\mathcal B}$, both gradients taken at the same $(w, b)$.

The batch order is fixed so the result can be checked to the last digit:

1. `rng = np.random.default_rng(seed)`, **once**, before the first epoch;
2. each epoch: `order = rng.permutation(N)`;
3. batches `order[i:i + batch_size]` for `i = 0, batch_size, 2 * batch_size, ...` in that
   order; the last batch is smaller when `batch_size` does not divide N (keep it);
4. the gradient of a batch is the **mean** over its rows.

* `X`: `(N, F)`; `y`: `(N,)`; `w0`: `(F,)`; `b0`: a float; `epochs` may be 0.
* Return the final `w` `(F,)` and `b` (a float).
""",
    hint=r"""Two loops: `for epoch in range(epochs)`, then `for i in range(0, N, batch_size)`.
Inside, take `idx = order[i:i + batch_size]`, `Xb, yb = X[idx], y[idx]`, the residual
`r = Xb @ w + b - yb`, and the gradients `2 * Xb.T @ r / len(idx)` and
`2 * r.sum() / len(idx)` — `len(idx)`, not `batch_size`, for the short last batch. Update
`w` and `b` only after computing both.""",
    solution='''def minibatch_sgd(X, y, w0, b0, lr, batch_size, epochs, seed):
    w, b = np.array(w0, dtype=float), float(b0)
    N = len(y)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = order[i:i + batch_size]
            Xb, yb = X[idx], y[idx]
            r = Xb @ w + b - yb
            dw = 2.0 * Xb.T @ r / len(idx)
            db = 2.0 * r.sum() / len(idx)
            w, b = w - lr * dw, b - lr * db
    return w, b
''',
    reference=_ref_minibatch_sgd,
    cases=_sgd_cases,
    run=_run_sgd,
    mistakes=(
        Mistake("sign", _SIGN_STEP, (_sgd_variant("sign"),)),
        Mistake("factor_2", "missing factor 2 in the MSE gradient: d/dŷ (ŷ − y)² = 2(ŷ − y).",
                (_sgd_variant("factor_2"),)),
        Mistake("sum", "a sum instead of a mean: divide each batch's gradient by the number "
                "of rows in the batch.", (_sgd_variant("sum"),)),
        Mistake("no_reshuffle", _RESHUFFLE, (_sgd_variant("no_reshuffle"),
                                             _sgd_variant("rng_each_epoch"))),
        Mistake("no_shuffle", "no shuffling at all: the rows were taken in their stored order. "
                "Draw `order = rng.permutation(N)` every epoch.", (_sgd_variant("no_shuffle"),)),
        Mistake("drop_last", "the last, smaller batch was dropped: when batch_size does not "
                "divide N, the final batch `order[i:i + batch_size]` is shorter; keep it.",
                (_sgd_variant("drop_last"),)),
        Mistake("divide_by_B", "the short last batch was divided by batch_size: the mean is "
                "over its own rows, `len(idx)`.", (_sgd_variant("divide_by_B"),)),
        Mistake("sequential", "b was updated with the residual of the new w: compute both "
                "gradients at the same (w, b), then update both.", (_sgd_variant("sequential"),)),
    ),
    path=_sgd_path,
    axis="epoch",
    coords=lambda case: tuple(f"w[{j}]" for j in range(case.args[2].shape[0])) + ("b",),
    time_limit=5.0,
))


# ---- 4. optimizer steps ------------------------------------------------------------------


class _StepSpec(NamedTuple):
    slots: tuple         # state names in the signature, e.g. ("m", "v")
    engine_names: tuple  # the engine's quantity names of those slots
    has_t: bool
    hparams: tuple       # hyperparameter names after (t), in the signature's order
    defaults: dict       # torch defaults for as_optimizer


STEP_EXERCISES = {
    "momentum_step": _StepSpec(("buf",), ("velocity",), False, ("lr", "momentum"),
                               {"lr": 1e-2, "momentum": 0.9}),
    "nesterov_step": _StepSpec(("buf",), ("velocity",), False, ("lr", "momentum"),
                               {"lr": 1e-2, "momentum": 0.9}),
    "rmsprop_step": _StepSpec(("v",), ("square_avg",), False, ("lr", "alpha", "eps"),
                              {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}),
    "adagrad_step": _StepSpec(("G",), ("sum_sq",), False, ("lr", "eps"),
                              {"lr": 1e-2, "eps": 1e-10}),
    "adam_step": _StepSpec(("m", "v"), ("mu", "nu"), True, ("lr", "beta1", "beta2", "eps"),
                           {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    "adamw_step": _StepSpec(("m", "v"), ("mu", "nu"), True,
                            ("lr", "beta1", "beta2", "eps", "weight_decay"),
                            {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                             "weight_decay": 1e-2}),
}
"""The step exercises: state slots, the engine's names for them, and torch's defaults."""


def _engine_step(opt, kind, sub, theta, grad):
    """One update of engine optimizer ``opt`` from the sub-state ``sub`` of type ``kind``."""
    p = np.asarray(theta, dtype=np.float64)[None]
    state = _replace_state(opt.init(p), kind, lambda s: sub)
    u, new = opt.update(np.asarray(grad, dtype=np.float64)[None], state, p)
    return apply_updates(p, u)[0], find_state(new, kind)


def _ref_momentum_step(theta, grad, buf, lr, momentum):
    new, s = _engine_step(optimizers.sgd(lr=lr, momentum=momentum), T.TraceState,
                          T.TraceState(1, np.asarray(buf, np.float64)[None]), theta, grad)
    return new, s.velocity[0]


def _ref_nesterov_step(theta, grad, buf, lr, momentum):
    new, s = _engine_step(optimizers.sgd(lr=lr, momentum=momentum, nesterov=True),
                          T.TraceState, T.TraceState(1, np.asarray(buf, np.float64)[None]),
                          theta, grad)
    return new, s.velocity[0]


def _ref_rmsprop_step(theta, grad, v, lr, alpha, eps):
    new, s = _engine_step(optimizers.rmsprop(lr=lr, alpha=alpha, eps=eps), T.ScaleByRmsState,
                          T.ScaleByRmsState(np.asarray(v, np.float64)[None], None), theta, grad)
    return new, s.square_avg[0]


def _ref_adagrad_step(theta, grad, G, lr, eps):
    new, s = _engine_step(optimizers.adagrad(lr=lr, eps=eps), T.ScaleByAdagradState,
                          T.ScaleByAdagradState(np.asarray(G, np.float64)[None]), theta, grad)
    return new, s.sum_sq[0]


def _adam_sub(m, v, t):
    return T.ScaleByAdamState(int(t) - 1, np.asarray(m, np.float64)[None],
                              np.asarray(v, np.float64)[None], None)


def _ref_adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
    new, s = _engine_step(optimizers.adam(lr=lr, betas=(beta1, beta2), eps=eps),
                          T.ScaleByAdamState, _adam_sub(m, v, t), theta, grad)
    return new, s.mu[0], s.nu[0]


def _ref_adamw_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    new, s = _engine_step(optimizers.adamw(lr=lr, betas=(beta1, beta2), eps=eps,
                                           weight_decay=weight_decay),
                          T.ScaleByAdamState, _adam_sub(m, v, t), theta, grad)
    return new, s.mu[0], s.nu[0]


def _step_cases(name: str):
    quad = _problems.get("quadratic", condition=10.0, angle=30.0)
    start = np.array([-2.5, 2.0])
    hp = {
        "momentum_step": [{"lr": 0.02, "momentum": 0.9}] * 2,
        "nesterov_step": [{"lr": 0.02, "momentum": 0.9}] * 2,
        "rmsprop_step": [{"lr": 0.05, "alpha": 0.9, "eps": 1e-8},
                         {"lr": 0.05, "alpha": 0.9, "eps": 1e-8},
                         {"lr": 0.05, "alpha": 0.9, "eps": 0.5}],
        "adagrad_step": [{"lr": 0.5, "eps": 1e-10}, {"lr": 0.5, "eps": 1e-10},
                         {"lr": 0.5, "eps": 0.5}],
        "adam_step": [{"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                      {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                      {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 0.5}],
        "adamw_step": [{"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                        "weight_decay": 0.1},
                       {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                        "weight_decay": 0.1},
                       {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 0.5,
                        "weight_decay": 0.3}],
    }[name]
    what = ("rotated quadratic, condition 10, 25 steps",
            "tiny gradients (loss × 1e-6), 10 steps",
            "large eps, 15 steps")
    scales, steps = (1.0, 1e-6, 1.0), (25, 10, 15)
    out = []
    for i, h in enumerate(hp):
        label = ", ".join(f"{k} {v:g}" for k, v in h.items())
        out.append(Case(f"case {i + 1} ({what[i]}; {label})", (),
                        {"grad": _Grad(quad, scales[i]), "theta0": start, "steps": steps[i],
                         "hparams": h}))
    return out


def _run_steps(name: str):
    spec = STEP_EXERCISES[name]
    outputs = ("theta",) + spec.slots

    def run(fn, case, call):
        grad, theta, steps, h = (case.info[k] for k in ("grad", "theta0", "steps", "hparams"))
        slots = [np.zeros_like(theta) for _ in spec.slots]
        frames = []
        for t in range(1, steps + 1):
            g = grad(theta)
            args = (theta, g, *slots) + ((t,) if spec.has_t else ()) \
                + tuple(h[k] for k in spec.hparams)
            with _at(f"step {t}"):
                parts = _unpack(call(fn, *args), outputs)
                arrays = [_arr(p, n, theta.shape) for p, n in zip(parts, outputs, strict=True)]
            frames.append(Frame(f"step {t}", dict(zip(outputs, arrays, strict=True))))
            theta, *slots = arrays
        return frames

    return run


def _step_path(case, frames):
    return np.array([case.info["theta0"]] + [f.values["theta"] for f in frames])


# planted wrong steps ------------------------------------------------------------------------


def _momentum_variant(kind):
    def fn(theta, grad, buf, lr, momentum):
        if kind == "velocity_form":  # v = mu v - lr g; theta += v
            buf = momentum * buf - lr * grad
            return theta + buf, buf
        buf = momentum * buf + ((1 - momentum) * grad if kind == "dampened" else grad)
        return _move(theta, lr, buf, kind), buf
    return fn


def _nesterov_variant(kind):
    def fn(theta, grad, buf, lr, momentum):
        buf = momentum * buf + grad
        if kind == "plain":
            d = buf
        elif kind == "no_mu":
            d = grad + buf
        else:
            d = grad + momentum * buf
        return _move(theta, lr, d, kind), buf
    return fn


def _rms_variant(kind):
    def fn(theta, grad, v, lr, alpha, eps):
        if kind == "swapped":
            v = (1 - alpha) * v + alpha * grad ** 2
        elif kind == "no_one_minus":
            v = alpha * v + grad ** 2
        else:
            v = alpha * v + (1 - alpha) * grad ** 2
        d = grad / (np.sqrt(v + eps) if kind == "eps_inside" else np.sqrt(v) + eps)
        return _move(theta, lr, d, kind), v
    return fn


def _adagrad_variant(kind):
    def fn(theta, grad, G, lr, eps):
        old = G
        G = grad ** 2 if kind == "no_sum" else G + grad ** 2
        acc = old if kind == "late" else G
        d = grad / (np.sqrt(acc + eps) if kind == "eps_inside" else np.sqrt(acc) + eps)
        return _move(theta, lr, d, kind), G
    return fn


def _adam_core(kind, theta, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    tt = t + 1 if kind == "t_plus" else t - 1 if kind == "t_minus" else t
    if kind == "no_bias":
        mh, vh = m, v
    else:
        mh, vh = m / (1 - beta1 ** tt), v / (1 - beta2 ** tt)
    d = mh / (np.sqrt(vh + eps) if kind == "eps_inside" else np.sqrt(vh) + eps)
    return d, m, v


def _adam_variant(kind):
    def fn(theta, grad, m, v, t, lr, beta1, beta2, eps):
        d, m, v = _adam_core(kind, theta, grad, m, v, t, lr, beta1, beta2, eps)
        return _move(theta, lr, d, kind), m, v
    return fn


def _adamw_variant(kind):
    def fn(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
        if kind == "coupled":
            grad = grad + weight_decay * theta
        core = kind if kind not in ("coupled", "no_lr", "after") else "ok"
        d, m, v = _adam_core(core, theta, grad, m, v, t, lr, beta1, beta2, eps)
        if kind == "coupled":
            return theta - lr * d, m, v
        if kind == "after":
            return (theta - lr * d) * (1 - lr * weight_decay), m, v
        decayed = theta * (1 - weight_decay) if kind == "no_lr" \
            else theta * (1 - lr * weight_decay)
        return _move(decayed, lr, d, kind), m, v
    return fn


_EPS_INSIDE = ("eps inside the square root: torch divides by √v + ε (ε added after the "
               "root), not √(v + ε).")
_NO_BIAS = ("no bias correction: m and v start at 0, so divide them by 1 − β₁ᵗ and "
            "1 − β₂ᵗ before the step.")
_T_FROM_0 = ("t counted from 0: t is already 1 at the first step, so the corrections are "
             "1 − β₁ᵗ and 1 − β₂ᵗ with that t (no t + 1, no t − 1).")


def _adam_mistakes(variant):
    return (
        Mistake("sign", _SIGN_STEP, (variant("sign"),)),
        Mistake("no_bias", _NO_BIAS, (variant("no_bias"),)),
        Mistake("eps_inside", _EPS_INSIDE, (variant("eps_inside"),)),
        Mistake("t_from_0", _T_FROM_0, (variant("t_plus"), variant("t_minus"))),
    )


_STEP_TEXT = {
    "momentum_step": (
        "SGD with momentum (torch)", "(theta, grad, buf, lr, momentum) -> (theta, buf)",
        r"""`torch.optim.SGD(lr, momentum)` with dampening 0, one step:

$$b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t$$

* `theta`, `grad` ($g_t$), `buf` ($b_{t-1}$): `(D,)` arrays; `lr` $\eta$, `momentum` $\mu$:
  floats.  `buf` is all zeros before the first step (so $b_1 = g_1$, as in torch).
* Return the new `theta` and the new `buf` ($b_t$, the one torch stores).""",
        r"""Two lines: `buf = momentum * buf + grad`, then `theta = theta - lr * buf`.
The buffer holds the running sum of gradients, not a velocity scaled by η.""",
        '''def momentum_step(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    theta = theta - lr * buf
    return theta, buf
'''),
    "nesterov_step": (
        "SGD with Nesterov momentum (torch)", "(theta, grad, buf, lr, momentum) -> (theta, buf)",
        r"""`torch.optim.SGD(lr, momentum, nesterov=True)`, one step (torch's form of the
look-ahead, which needs no extra gradient evaluation):

$$b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t)$$

* Same arguments as `momentum_step`; `buf` starts at zeros.
* Return the new `theta` and the new `buf` ($b_t$).""",
        r"""First the buffer, exactly as in momentum: `buf = momentum * buf + grad`. The
step then looks ahead along the *new* buffer: `theta - lr * (grad + momentum * buf)`.""",
        '''def nesterov_step(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    theta = theta - lr * (grad + momentum * buf)
    return theta, buf
'''),
    "rmsprop_step": (
        "RMSprop (torch)", "(theta, grad, v, lr, alpha, eps) -> (theta, v)",
        r"""`torch.optim.RMSprop(lr, alpha, eps)`, one step:

$$v_t = \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2, \qquad
\theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}$$

* `v` ($v_{t-1}$) starts at zeros; everything is elementwise; **ε outside the square root**;
  no bias correction.
* Return the new `theta` and the new `v`.""",
        r"""`v = alpha * v + (1 - alpha) * grad**2`, then
`theta - lr * grad / (np.sqrt(v) + eps)`. The tests use tiny gradients, where
`np.sqrt(v + eps)` gives a very different step.""",
        '''def rmsprop_step(theta, grad, v, lr, alpha, eps):
    v = alpha * v + (1 - alpha) * grad**2
    theta = theta - lr * grad / (np.sqrt(v) + eps)
    return theta, v
'''),
    "adagrad_step": (
        "AdaGrad (torch)", "(theta, grad, G, lr, eps) -> (theta, G)",
        r"""`torch.optim.Adagrad(lr, eps=eps)` (no learning-rate decay), one step:

$$G_t = G_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{G_t} + \epsilon}$$

* `G` ($G_{t-1}$, the running sum of squared gradients) starts at zeros; **ε outside the
  square root**.
* Return the new `theta` and the new `G`.""",
        r"""Accumulate first (`G = G + grad**2`), then divide by `np.sqrt(G) + eps` —
using the *updated* G, so the very first step already has a finite size η·g/|g|.""",
        '''def adagrad_step(theta, grad, G, lr, eps):
    G = G + grad**2
    theta = theta - lr * grad / (np.sqrt(G) + eps)
    return theta, G
'''),
    "adam_step": (
        "Adam (torch)", "(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)",
        r"""`torch.optim.Adam(lr, betas=(beta1, beta2), eps=eps)`, step number $t$:

$$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$$
$$\hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
\theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

* `m`, `v` start at zeros; **`t = 1` at the first step** (the grader passes it);
  **ε outside the square root**.
* Return the new `theta`, `m` and `v` (the moments *before* bias correction).""",
        r"""Update both moments, bias-correct copies of them with `1 - beta1**t` and
`1 - beta2**t` (t as given: it is 1 at the first step), then
`theta - lr * m_hat / (np.sqrt(v_hat) + eps)`. Return the uncorrected `m` and `v`.""",
        '''def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v
'''),
    "adamw_step": (
        "AdamW (torch)",
        "(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (theta, m, v)",
        r"""`torch.optim.AdamW(lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)`:
Adam with **decoupled** weight decay. The weights shrink directly, then the Adam step
(whose moments see the plain gradient $g_t$):

$$\theta' = \theta_{t-1}\,(1 - \eta\lambda), \qquad
\theta_t = \theta' - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

with $m_t, v_t, \hat m_t, \hat v_t$ exactly as in `adam_step` ($t = 1$ first; ε outside
the root).  Return the new `theta`, `m`, `v`.""",
        r"""Do **not** add `weight_decay * theta` to the gradient (that is Adam's coupled L2).
Shrink first: `theta = theta * (1 - lr * weight_decay)`, then take the ordinary Adam step
from the shrunk `theta` with the plain `grad`.""",
        '''def adamw_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    theta = theta * (1 - lr * weight_decay)          # decoupled decay
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v
'''),
}

_STEP_MISTAKES = {
    "momentum_step": (
        Mistake("sign", _SIGN_STEP, (_momentum_variant("sign"),)),
        Mistake("dampened", "the buffer is an average, μb + (1 − μ)g: torch's buffer (dampening "
                "0) is μb + g.", (_momentum_variant("dampened"),)),
        Mistake("velocity_form", "your buf is −η × torch's buffer (the 'v = μv − ηg, θ += v' "
                "form). It gives the same θ at a constant lr, but torch stores b = μb + g; "
                "return that.", (_momentum_variant("velocity_form"),)),
    ),
    "nesterov_step": (
        Mistake("sign", _SIGN_STEP, (_nesterov_variant("sign"),)),
        Mistake("plain", "this is plain momentum (θ − ηb): Nesterov steps along g + μb.",
                (_nesterov_variant("plain"),)),
        Mistake("no_mu", "the look-ahead term is missing its μ: step along g + μ·b, with b "
                "the new buffer.", (_nesterov_variant("no_mu"),)),
    ),
    "rmsprop_step": (
        Mistake("sign", _SIGN_STEP, (_rms_variant("sign"),)),
        Mistake("eps_inside", _EPS_INSIDE, (_rms_variant("eps_inside"),)),
        Mistake("swapped", "α and 1 − α are swapped: v = αv + (1 − α)g² keeps most of the "
                "old average.", (_rms_variant("swapped"),)),
        Mistake("no_one_minus", "the new g² is missing its factor (1 − α).",
                (_rms_variant("no_one_minus"),)),
    ),
    "adagrad_step": (
        Mistake("sign", _SIGN_STEP, (_adagrad_variant("sign"),)),
        Mistake("eps_inside", _EPS_INSIDE.replace("√v", "√G").replace("(v + ε)", "(G + ε)"),
                (_adagrad_variant("eps_inside"),)),
        Mistake("no_sum", "G is not accumulated: AdaGrad adds every g² to G (G + g²).",
                (_adagrad_variant("no_sum"),)),
        Mistake("late", "the step used G before adding this step's g²: accumulate first, "
                "then divide.", (_adagrad_variant("late"),)),
    ),
    "adam_step": _adam_mistakes(_adam_variant),
    "adamw_step": (
        Mistake("coupled_l2", "L2 added to the gradient (that is Adam with weight_decay): "
                "AdamW decays the weights directly, θ ← θ(1 − ηλ), and its moments see the "
                "plain gradient (decoupled).", (_adamw_variant("coupled"),)),
        Mistake("decay_no_lr", "the decay is missing the learning rate: torch shrinks by "
                "(1 − η·λ), not (1 − λ).", (_adamw_variant("no_lr"),)),
        Mistake("decay_after", "the decay was applied after the Adam step: shrink θ first, "
                "then step.", (_adamw_variant("after"),)),
    ) + _adam_mistakes(_adamw_variant),
}

_STEP_REFS = {
    "momentum_step": _ref_momentum_step,
    "nesterov_step": _ref_nesterov_step,
    "rmsprop_step": _ref_rmsprop_step,
    "adagrad_step": _ref_adagrad_step,
    "adam_step": _ref_adam_step,
    "adamw_step": _ref_adamw_step,
}

for _name, (_title, _sig, _body, _hint, _sol) in _STEP_TEXT.items():
    _register(_Exercise(
        name=_name,
        title=_title,
        signature=_name + _sig,
        text=f"**`{_name}{_sig}`**\n\n{_body}\n\nThe grader runs your step function for "
             "several steps on a 2-D surface, feeding back the θ and state you return.\n",
        hint=_hint,
        solution=_sol,
        reference=_STEP_REFS[_name],
        cases=(lambda n: lambda: _step_cases(n))(_name),
        run=_run_steps(_name),
        mistakes=_STEP_MISTAKES[_name],
        path=_step_path,
        axis="step",
        coords=lambda case: ("θ[0]", "θ[1]"),
    ))
del _name, _title, _sig, _body, _hint, _sol


# ---- 5. early stopping -------------------------------------------------------------------


def _ref_early_stopping(val_losses, patience, min_delta):
    cfg = callbacks.early_stopping(patience=patience, min_delta=min_delta)
    p = np.zeros((1, 1))
    state = callbacks.early_stopping_init(cfg, p)
    for e, v in enumerate(np.asarray(val_losses, dtype=np.float64), 1):
        state = callbacks.early_stopping_update(cfg, state, v, e, p)
        if state.stopped[0]:
            break
    stop = int(state.stop_epoch[0]) if state.stopped[0] else None
    return stop, int(state.best_epoch[0])


def _es_variant(kind):
    def fn(val_losses, patience, min_delta):
        best, best_epoch, bad, prev = math.inf, 0, 0, math.inf
        for e, v in enumerate(val_losses, 1):
            ref = prev if kind == "previous" else best
            delta = 0.0 if kind == "no_delta" else min_delta
            better = v <= ref - delta if kind == "ties" else v < ref - delta
            prev = v
            if better:
                best, best_epoch, bad = v, e, 0
            else:
                bad += 1
            if (bad > patience) if kind == "off_by_one" else (bad >= patience and not better):
                if kind == "zero_based":
                    return e - 1, best_epoch - 1
                return e, best_epoch
        if kind == "zero_based":
            return None, best_epoch - 1
        return (len(val_losses) if kind == "last_epoch" else None), best_epoch
    return fn


def _es_cases():
    nan = math.nan
    spec = (
        ([1.0, 0.8, 0.7, 0.72, 0.71, 0.73, 0.74, 0.69, 0.75], 3, 0.0, "a plateau"),
        ([0.5, 0.5, 0.5, 0.4, 0.3], 2, 0.0, "ties"),
        ([1.0, 0.95, 0.9, 0.89, 0.885, 0.88, 0.87], 2, 0.02, "improvements below min_delta"),
        ([3.0, 2.0, 1.5, 1.2], 5, 0.0, "never stops"),
        ([1.0, 1.1, 0.9], 0, 0.0, "patience 0"),
        ([1.0, nan, 0.9, nan, nan, 0.5], 2, 0.0, "NaN losses"),
    )
    return [Case(f"case {i} ({what}: patience {p}, min_delta {d:g}, val_losses "
                 f"{[round(x, 3) for x in v]})", (np.array(v), p, d), {})
            for i, (v, p, d, what) in enumerate(spec, 1)]


def _run_es(fn, case, call):
    vals, patience, min_delta = case.args
    stop, best = _unpack(call(fn, vals, patience, min_delta), ("stop_epoch", "best_epoch"))
    return [Frame("", {"stop_epoch": np.array(_epoch_number(stop, "stop_epoch", True)),
                       "best_epoch": np.array(_epoch_number(best, "best_epoch", False))})]


_register(_Exercise(
    name="early_stopping",
    title="Early stopping",
    signature="early_stopping(val_losses, patience, min_delta) -> (stop_epoch, best_epoch)",
    text=r"""**`early_stopping(val_losses, patience, min_delta) -> (stop_epoch, best_epoch)`**

The rule of the engine's `callbacks.early_stopping` (and of Keras and Lightning).
`val_losses[e - 1]` is the validation loss $v_e$ measured after epoch $e = 1, 2, \dots$
Keep the best value so far $v^\ast$ (start: $+\infty$) and a count of bad epochs (start: 0).
For each epoch in order:

1. epoch $e$ **improves** when $v_e < v^\ast - \delta$ ($\delta$ = `min_delta`; strictly
   less, so a tie is not an improvement; a NaN never improves);
2. if it improves: $v^\ast \leftarrow v_e$, `best_epoch` $\leftarrow e$, bad count $\leftarrow 0$;
3. otherwise the bad count grows by 1, and when it reaches `patience` training **stops at
   epoch $e$** (with `patience = 0`: at the first epoch that does not improve).

* `val_losses`: float64 array `(E,)`; `patience`: int $\ge 0$; `min_delta`: float $\ge 0$.
* Return `stop_epoch` (an int, or `None` if the losses run out before patience does) and
  `best_epoch` (an int, 0 if no epoch improved). Epochs are numbered from 1.
""",
    hint=r"""Loop with `for e, v in enumerate(val_losses, start=1)`. Compare with the best so
far (not with the previous epoch), using `v < best - min_delta`. Count the epochs since the
last improvement and return `(e, best_epoch)` as soon as the count reaches `patience`;
after the loop, return `(None, best_epoch)`.""",
    solution='''def early_stopping(val_losses, patience, min_delta):
    best, best_epoch, bad = float("inf"), 0, 0
    for e, v in enumerate(val_losses, start=1):
        if v < best - min_delta:          # False for NaN
            best, best_epoch, bad = v, e, 0
        else:
            bad += 1
            if bad >= patience:
                return e, best_epoch
    return None, best_epoch
''',
    reference=_ref_early_stopping,
    cases=_es_cases,
    run=_run_es,
    mistakes=(
        Mistake("off_by_one", "stops one epoch late: stop when the bad count *reaches* "
                "patience (>=), not when it exceeds it.", (_es_variant("off_by_one"),)),
        Mistake("ties", "a tie counted as an improvement: improvement is strictly "
                "v < best − min_delta.", (_es_variant("ties"),)),
        Mistake("no_delta", "min_delta is ignored: an improvement must beat the best by more "
                "than min_delta.", (_es_variant("no_delta"),)),
        Mistake("previous", "compared with the previous epoch instead of the best so far.",
                (_es_variant("previous"),)),
        Mistake("zero_based", "epochs numbered from 0: the first epoch is epoch 1.",
                (_es_variant("zero_based"),)),
        Mistake("last_epoch", "when patience never runs out, return None as stop_epoch (not "
                "the last epoch).", (_es_variant("last_epoch"),)),
    ),
    discrete=True,
))


# ---------------------------------------------------------------------------- public API


def _get(name) -> _Exercise:
    ex = _EXERCISES.get(name) if isinstance(name, str) else None
    if ex is None:
        raise ValueError(f"unknown exercise {name!r}; the exercises are: {', '.join(_EXERCISES)}")
    return ex


def names() -> list[str]:
    """The exercises, in course order."""
    return list(_EXERCISES)


def text(name: str) -> str:
    """The exercise statement (markdown with LaTeX): signature, conventions, shapes."""
    return _get(name).text


def signature(name: str) -> str:
    """The exact signature students implement, e.g. ``"gd(grad, theta0, lr, steps) -> thetas"``."""
    return _get(name).signature


def hint(name: str) -> str:
    """A hint (markdown) that stops short of the solution."""
    return _get(name).hint


def solution(name: str) -> str:
    """A reference solution as Python source defining the function ``name`` (plain numpy,
    ``np`` imported by the caller)."""
    return _get(name).solution


def cases(name: str) -> list[Case]:
    """The test cases :func:`grade` runs for ``name``, in order (fresh copies)."""
    return _get(name).cases()


def reference(name: str) -> Callable:
    """The engine's reference with the student's signature (what :func:`grade` compares to)."""
    return _get(name).reference


def mistakes(name: str) -> dict[str, str]:
    """The common mistakes :func:`grade` recognises for ``name``: key -> explanation."""
    return {m.key: m.text for m in _get(name).mistakes}


def grade(name: str, fn, *, time_limit: float | None = None) -> Feedback:
    """Grade the student's function ``fn`` for exercise ``name``; never raises.

    ``time_limit`` (seconds, default per exercise: 2 s, 5 s for ``minibatch_sgd``) bounds
    the total time of all calls of ``fn``.  See :class:`Feedback` for what comes back.
    """
    start = time.perf_counter()
    try:
        fb = _grade(name, fn, time_limit)
    except Exception as e:  # noqa: BLE001 - the grader itself must never take a notebook down
        fb = Feedback(str(name), False, "error", f"the grader failed on this input "
                      f"({type(e).__name__}: {e}); please report it")
    return fb._replace(seconds=time.perf_counter() - start)


def _grade(name, fn, time_limit) -> Feedback:
    try:
        ex = _get(name)
    except ValueError as e:
        return Feedback(str(name), False, "invalid", str(e))
    if not callable(fn):
        return Feedback(name, False, "invalid", f"check needs your function `{name}` itself "
                        f"(a callable); got {_short(fn)}")
    student = _Student(name, ex.time_limit if time_limit is None else time_limit)
    cases = ex.cases()
    refs = [ex.run(ex.reference, c, _trusted) for c in cases]
    got: list = []
    failure = None  # (case index, _Problem)
    for i, case in enumerate(cases):
        try:
            got.append(ex.run(fn, case, student))
        except _Problem as p:
            failure = (i, p)
            break
    printed = student.output()
    first = next(((i, d) for i, (r, g) in enumerate(zip(refs, got, strict=False))
                  if (d := _first_difference(r, g, ex.discrete)) is not None), None)
    if failure is not None and (first is None or failure[0] <= first[0]):
        i, p = failure
        where = ", ".join(s for s in (cases[i].label, p.where) if s)
        msg = p.detail if p.status == "not_implemented" else f"{where}: {p.detail}"
        return _with_printed(Feedback(name, False, p.status, msg, case=cases[i].label,
                                      where=p.where, printed=printed))
    if first is None:
        n = len(cases)
        return _with_printed(Feedback(
            name, True, "passed", f"passed: all {n} cases of `{name}` match the engine's "
            f"reference (to {RTOL:g} relative).", printed=printed))
    i, (k, output, flat) = first
    frame_r, frame_g = refs[i][k], got[i][k]
    b, a = frame_r.values[output], frame_g.values[output]
    exp, rec = b.ravel()[flat], a.ravel()[flat]
    index = "" if b.ndim == 0 else "[" + ", ".join(map(str, np.unravel_index(flat, b.shape))) + "]"
    mistake = _diagnose(ex, cases, got, failure)
    status = "failed" if np.isfinite(rec) or ex.discrete else "not_finite"
    where = ", ".join(s for s in (cases[i].label, frame_r.where) if s)
    detail = f"`{output}{index}` expected {_fmt(exp, ex.discrete)}, received " \
             f"{_fmt(rec, ex.discrete)}"
    if status == "failed" and not ex.discrete and exp != 0:
        detail += f" (relative difference {abs(rec - exp) / abs(exp):.2g})"
    elif status == "not_finite":
        detail += " (not a finite number)"
    msg = f"{where}: {detail}." + (f" Likely mistake: {mistake.text}" if mistake else "")
    traj = None
    if ex.path is not None:
        traj = _trajectory(ex, cases[i], refs[i], got[i], k)
    return _with_printed(Feedback(
        name, False, status, msg, case=cases[i].label, where=frame_r.where, output=output,
        index=index, expected=float(exp), received=float(rec),
        expected_text=_fmt(exp, ex.discrete), received_text=_fmt(rec, ex.discrete),
        mistake=mistake.text if mistake else "", mistake_key=mistake.key if mistake else "",
        printed=printed, trajectory=traj))


def _with_printed(fb: Feedback) -> Feedback:
    if not fb.printed:
        return fb
    lines = fb.printed.count("\n") + (not fb.printed.endswith("\n"))
    return fb._replace(message=fb.message + f" (Your code printed {lines} line"
                       f"{'s' if lines != 1 else ''} while it was graded; shown below.)")


def _diagnose(ex: _Exercise, cases, got, failure):
    """The first planted mistake whose outputs equal the student's on every case the
    student completed."""
    for m in ex.mistakes:
        for variant in m.variants:
            try:
                ok = all(_same(ex.run(variant, c, _trusted), g, ex.discrete)
                         for c, g in zip(cases, got, strict=False))
            except Exception:  # noqa: BLE001 - a variant that cannot run this case
                ok = False
            if ok and got:
                return m
    return None


def _trajectory(ex, case, ref, got, k) -> Trajectory:
    expected = ex.path(case, ref)
    received = np.full_like(expected, np.nan)
    mine = ex.path(case, got)
    received[:len(mine)] = mine
    offset = expected.shape[0] - len(ref)  # a path with the start prepended
    return Trajectory(case.label, ex.axis, tuple(ex.coords(case)), expected, received,
                      k + offset)


# ---------------------------------------------------------------------------- as_optimizer


class StepState(NamedTuple):
    """State of a student optimizer from :func:`as_optimizer`: ``count`` steps done,
    ``slots`` the ``(R, D)`` state arrays in the signature's order (``buf``; ``v``; ``G``;
    ``m, v``), ``names`` the engine's names for them (so :func:`.optimizers.quantities`
    shows ``velocity``, ``square_avg``, ``sum_sq``, ``mu``/``nu``), ``error`` the first
    message from the student's code ("" while it behaves)."""

    count: int
    velocity: np.ndarray | None = None
    square_avg: np.ndarray | None = None
    sum_sq: np.ndarray | None = None
    mu: np.ndarray | None = None
    nu: np.ndarray | None = None
    error: str = ""


def step_exercise_of(fn) -> str:
    """The step exercise a function implements: its ``__name__`` when that is a step
    exercise, else the one whose signature has exactly ``fn``'s parameter names
    (``momentum_step`` for the shared momentum/Nesterov signature).  ValueError if none."""
    name = getattr(fn, "__name__", None)
    if name in STEP_EXERCISES:
        return name
    try:
        params = tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = ()
    for key, spec in STEP_EXERCISES.items():
        want = ("theta", "grad", *spec.slots) + (("t",) if spec.has_t else ()) + spec.hparams
        if params == want:
            return key
    raise ValueError(f"cannot tell which step exercise {_short(fn)} implements; name it one of "
                     f"{', '.join(STEP_EXERCISES)} or pass the exercise name")


def as_optimizer(name: str | None, fn, *, on_error: str = "nan", time_limit: float = 1.0,
                 **hparams) -> GradientTransformation:
    r"""Wrap a student step function as an optimizer over the runs axis.

    ``name`` is a step exercise (``"momentum_step"``, ``"nesterov_step"``,
    ``"rmsprop_step"``, ``"adagrad_step"``, ``"adam_step"``, ``"adamw_step"``), or None to
    infer it with :func:`step_exercise_of`, and ``fn`` the student's function with that
    signature.  ``hparams`` are its hyperparameters by the
    signature's names (``lr``, ``momentum``, ``alpha``, ``eps``, ``beta1``, ``beta2``,
    ``weight_decay``), each a scalar or an ``(R,)`` array; missing ones take torch's
    defaults (:data:`STEP_EXERCISES`).  ``lr`` may also be a schedule ``lr(count)``, and
    the state carries a learning-rate sub-state, so :func:`.optimizers.current_lr` and
    :func:`.optimizers.set_lr_scale` work as for the engine's optimizers.

    Each update calls ``fn`` once per run r on row r (``(D,)`` arrays, like the exercise),
    with ``t = count + 1`` for Adam, and returns :math:`u = \theta_{\text{new}} - \theta`.
    When ``fn`` raises, returns a bad shape, or runs longer than ``time_limit`` seconds in
    one update: ``on_error="nan"`` makes that run's update NaN (the runner then stops it as
    "diverged") and records the message in ``StepState.error``; ``on_error="raise"``
    raises ValueError with the message.
    """
    if name is None:
        name = step_exercise_of(fn)
    spec = STEP_EXERCISES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"as_optimizer needs a step exercise, one of "
                         f"{', '.join(STEP_EXERCISES)}; got {name!r}")
    if not callable(fn):
        raise ValueError(f"fn must be your `{name}` function; got {_short(fn)}")
    if on_error not in ("nan", "raise"):
        raise ValueError(f"on_error must be 'nan' or 'raise'; got {on_error!r}")
    time_limit = hparam(time_limit, "time_limit", 0.0, lo_open=True)
    unknown = sorted(set(hparams) - set(spec.hparams))
    if unknown:
        raise ValueError(f"{name} has hyperparameters {', '.join(spec.hparams)}; got unknown "
                         f"{', '.join(unknown)}")
    given = {**spec.defaults, **hparams}
    lr_transform = T.scale_by_learning_rate(given["lr"])
    ranges = {"momentum": (0.0, None, False), "alpha": (0.0, 1.0, False),
              "eps": (0.0, None, True), "beta1": (0.0, 1.0, False),
              "beta2": (0.0, 1.0, False), "weight_decay": (0.0, None, False)}
    values = {}
    for k in spec.hparams[1:]:
        lo, hi, lo_open = ranges[k]
        values[k] = hparam(given[k], k, lo, hi, lo_open=lo_open,
                           hi_open=k in ("beta1", "beta2"))
    runs = common_runs(lr_transform.runs,
                       *(v.shape[0] for v in values.values() if isinstance(v, np.ndarray)))

    def init(params):
        p = np.asarray(params, dtype=np.float64)
        if p.ndim != 2:
            raise ValueError(f"params must have shape (R, D); got shape {p.shape}")
        for k, v in values.items():
            if isinstance(v, np.ndarray) and v.shape[0] != p.shape[0]:
                raise ValueError(f"{k} has {v.shape[0]} values but there are {p.shape[0]} "
                                 "runs")
        slots = {n: np.zeros_like(p) for n in spec.engine_names}
        return ChainState((StepState(0, **slots), lr_transform.init(p)))

    def update(grads, state, params):
        g, p = check_grads(grads, params)
        own, lr_state = state.inner
        u, lr_state = lr_transform.update(np.ones((p.shape[0], 1)), lr_state, p)
        lr = -u[:, 0]
        R = p.shape[0]
        t = own.count + 1
        new_theta = np.empty_like(p)
        slots = [np.array(getattr(own, n), dtype=np.float64) for n in spec.engine_names]
        new_slots = [np.empty_like(p) for _ in slots]
        error = own.error
        student = _Student(name, time_limit)
        outputs = ("theta",) + spec.slots
        for r in range(R):
            hp = tuple(lr[r] if k == "lr" else (v[r] if isinstance(v, np.ndarray) else v)
                       for k, v in (("lr", None), *values.items()))
            args = (p[r], g[r], *(s[r] for s in slots)) + ((t,) if spec.has_t else ()) + hp
            try:
                with _at(f"run {r}, step {t}"):
                    parts = _unpack(student(fn, *args), outputs)
                    arrays = [_arr(x, n, (p.shape[1],)) for x, n in
                              zip(parts, outputs, strict=True)]
            except _Problem as e:
                message = f"{name}, {e.where}: {e.detail}"
                if on_error == "raise":
                    raise ValueError(message) from None
                error = error or message
                arrays = [np.full(p.shape[1], np.nan)] * len(outputs)
            new_theta[r] = arrays[0]
            for s, a in zip(new_slots, arrays[1:], strict=True):
                s[r] = a
        own = StepState(t, **dict(zip(spec.engine_names, new_slots, strict=True)), error=error)
        return new_theta - p, ChainState((own, lr_state))

    return GradientTransformation(init, update, runs)
