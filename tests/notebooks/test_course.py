# ruff: noqa: E501 - the formulas are searched for verbatim, one LaTeX string a line
"""The course text in lab/*.ipynb, checked without executing a kernel.

The map (index.ipynb) links notebooks that exist, times a 90-minute agenda and names every
syllabus topic; each notebook holds its derivations (found by a key formula), ends with
"Try this" and "Points to make", keeps its code cells at most 3 lines and has no outputs.
"""

import re
from pathlib import Path

import nbformat
import pytest

LAB = Path(__file__).resolve().parents[2] / "lab"
NOTEBOOKS = sorted(p for p in LAB.glob("*.ipynb") if not p.name.startswith("ex"))
COURSE = ["index", "models", "learning_rate", "batch_size", "race", "landscapes", "schedules",
          "early_stopping", "regularization", "tuning", "nonconvex", "high_dimensions"]
# The exercise notebooks are written by another engineer; the map may link them before they land.
EXERCISES = {"ex1_gradients.ipynb", "ex2_gd.ipynb", "ex3_sgd.ipynb", "ex4_momentum.ipynb",
             "ex5_rmsprop_adagrad.ipynb", "ex6_adam.ipynb"}

TOPICS = ["Models and losses", "Metrics", "Gradients", "Gradient descent and the learning rate",
          "GD vs SGD vs mini-batch", "Training dynamics", "From scratch", "Visualising",
          "Optimizers", "Loss landscapes", "Learning-rate schedules", "Early stopping",
          "Regularization", "Tuning"]

SCENES = {
    "race": ["saddle-escape", "adam-vs-adamw", "lr-too-large", "two-minima"],
    "learning_rate": ["below-2-over-L", "kappa-100", "above-2-over-L"],
    "batch_size": ["sgd-noise", "typical-batches", "full-batch"],
    "early_stopping": ["patience-5", "no-early-stopping", "restore-best"],
    "schedules": ["cosine", "one-cycle", "step-decay", "plateau"],
    "regularization": ["overfit", "l2-vs-adamw", "over-regularized"],
    "models": ["linear-fit", "logistic", "softmax"],
    "tuning": ["grid", "halving", "hyperband"],
    "high_dimensions": ["sgd-vs-adam", "sgd-lr-too-large", "adam-per-coordinate"],
}

# notebook -> {derivation: key strings that must all appear in its markdown}
DERIVATIONS = {
    "models": {
        "theta* = argmin L": [r"\theta^\star = \arg\min_\theta L(\theta)"],
        "steepest descent": ["Taylor", "directional derivative", "Cauchy–Schwarz",
                             r"\lvert \nabla L(\theta)^\top d \rvert \le \lVert \nabla L(\theta) \rVert \, \lVert d \rVert",
                             r"d^\star = -\frac{\nabla L(\theta)}{\lVert \nabla L(\theta) \rVert}"],
        "MSE gradient": ["chain rule", r"\frac{2}{N} X^\top(\hat y - y)",
                         r"\nabla_b L = \frac{2}{N}\sum_n (\hat y_n - y_n)", "factor 2"],
        "log-loss gradient": [r"\sigma'(z) = \sigma(z)(1 - \sigma(z))",
                              r"\frac{\partial \ell}{\partial z} = p - y",
                              r"\nabla_b L = \frac{1}{N}\sum_n (p_n - y_n)"],
        "softmax gradient": [r"\nabla_z \ell = p - Y", r"\frac{1}{N} X^\top (P - Y)", "one-hot"],
        "convexity": [r"L\bigl(t\theta_a + (1 - t)\theta_b\bigr) \le t\,L(\theta_a) + (1 - t)\,L(\theta_b)",
                      "Hessian test", r"\nabla^2 L = \frac{2}{N} X^\top X",
                      r"\nabla^2 L = \frac{1}{N} X^\top \mathrm{diag}(p(1-p))\, X",
                      "hidden layer", "Swapping units"],
    },
    "learning_rate": {
        "2/L bound": [r"= (I - \eta A)\, e_{t-1}", r"A = Q\Lambda Q^\top",
                      r"c_{i,t} = (1 - \eta\lambda_i)^t\, c_{i,0}",
                      r"\lvert 1 - \eta\lambda_i \rvert < 1", r"0 < \eta < \frac{2}{L}"],
        "condition number": [r"\eta^\star = \frac{2}{L + \mu}", r"\frac{\kappa - 1}{\kappa + 1}",
                             r"\kappa = \frac{L}{\mu}"],
        "stopping": [r"\lVert \nabla L(\theta_t) \rVert_2 \le \mathrm{tol}_g",
                     r"\lvert L(\theta_t) - L(\theta_{t-1}) \rvert \le \mathrm{tol}_L",
                     "Step limit", "Divergence"],
    },
    "batch_size": {
        "epochs vs iterations": [r"\left\lceil \frac{N}{B} \right\rceil", r"\lfloor N/B \rfloor",
                                 "drop_last"],
        "unbiased": [r"\mathbb{E}\bigl[g_{\mathcal{B}}\bigr]", r"= \nabla L(\theta)"],
        "variance": [r"\frac{\sigma^2}{B}\left(1 - \frac{B-1}{N-1}\right)",
                     r"-\frac{\sigma^2}{N-1}"],
        "typical batches": ["32–128"],
    },
    "race": {
        "momentum": ["heavy ball", r"b_t = \mu\, b_{t-1} + g_t", r"\theta_t = \theta_{t-1} - \eta\, b_t",
                     r"\mu\,(\theta_{t-1} - \theta_{t-2})"],
        "nesterov": ["look-ahead", r"\varphi_t = \varphi_{t-1} - \eta\,(g_t + \mu\, b_t)",
                     r"\nabla L(\theta_{t-1} + \mu v_{t-1})", "change of variables"],
        "adagrad": [r"s_t = s_{t-1} + g_t^2"],
        "rmsprop": [r"v_t = \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2"],
        "adam bias correction": [r"(1-\beta_1^t)", r"\mathbb{E}[m_t] = (1-\beta_1^t)\,\mathbb{E}[g]",
                                 "geometric sum", "stationary",
                                 r"\hat m_t = \frac{m_t}{1 - \beta_1^t}",
                                 r"\hat v_t = \frac{v_t}{1 - \beta_2^t}"],
    },
    "regularization": {
        "L2 vs AdamW": [r"\frac{\lambda\theta}{\sqrt{\hat v_t} + \epsilon}",
                        r"\theta_{t-1} - \eta\lambda\theta_{t-1}",
                        r"(1 - \eta\lambda)\,\theta_{t-1} - \eta\, g_t", "decayed *less*"],
        "lambda range": [r"$10^{-4}$ to $10^{-2}$", "over-regulariz"],
    },
    "early_stopping": {
        "rule": [r"v_e < v^\star - \delta", "patience", "restore", "patience 5"],
    },
    "schedules": {
        "torch schedulers": ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                             "LinearLR", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts",
                             "ReduceLROnPlateau", "SequentialLR"],
        "formulas": [r"\eta\,\gamma^{\lfloor t/s \rfloor}", r"\eta\,\gamma^{\#\{i:\,m_i \le t\}}",
                     r"\eta\,\gamma^{t}", r"\bigl(1 + \cos(\pi t/T)\bigr)",
                     r"\eta\,\bigl(a + (b - a)\min(t, n)/n\bigr)",
                     r"\eta_{\mathrm{base}} + (\eta_{\max} - \eta_{\mathrm{base}})\,h_t\,s_t",
                     r"\eta_b + \tfrac12(\eta_a - \eta_b)(1 + \cos \pi q)",
                     r"\eta\,\frac{t + 1}{w + 1}", r"T_i = T_0\,T_{\mathrm{mult}}^{\,i}",
                     r"\max(\gamma\,\eta,\ \eta_{\min})"],
        "one-cycle defaults": ["pct_start=0.3", "div_factor=25", "final_div_factor=1e4"],
    },
    "tuning": {
        "grid": [r"n^k"],
        "random log-uniform": [r"\log\eta \sim \mathcal{U}(\log\eta_{\mathrm{lo}}, \log\eta_{\mathrm{hi}})"],
        "successive halving": [r"\lfloor n_i/\eta_{\mathrm{sh}} \rfloor",
                               r"r_{i+1} = \eta_{\mathrm{sh}}\, r_i", r"\eta_{\mathrm{sh}} = 3"],
        "hyperband": [r"\left\lceil \frac{s_{\max}+1}{s+1}\,\eta_{\mathrm{sh}}^{s} \right\rceil",
                      r"s_{\max} = \lfloor \log_{\eta_{\mathrm{sh}}} R \rfloor"],
        "order": ["learning rate first", "batch size"],
    },
    "high_dimensions": {
        "logistic gradient": [r"\nabla_w L = \frac{1}{N} X^\top\bigl(\sigma(Xw + b) - y\bigr)",
                              r"\frac{\partial L}{\partial w_i} = \frac{1}{N}\sum_n x_{ni}\,(p_n - y_n)"],
        "one eta": [r"\eta < 2/\lambda_{\max}", "Why one $\\eta$ fits them badly"],
        "adam per coordinate": [r"\eta_i = \frac{\eta}{\sqrt{\hat v_{t,i}} + \epsilon}",
                                r"\hat v_t = \frac{v_t}{1 - \beta_2^t}", "*diagonal* rescaling"],
        "standardized on train": ["standardized with the *training* rows"],
    },
    "landscapes": {
        "surfaces": ["`bowl`", "`quadratic`", "`booth`", "`matyas`", "`rosenbrock`", "`beale`",
                     "`saddle`", "`monkey_saddle`", "`plateau`", "`himmelblau`",
                     "`six_hump_camel`", "`three_hump_camel`", "`rastrigin`", "`ackley`",
                     "`styblinski_tang`", "`goldstein_price`", "`tanh_net`"],
        "challenges": ["ill-conditioning", "saddle points", "plateaus", "non-convexity",
                       "high dimension", "noisy gradients", "generalization"],
        "saddle escape": [r"y_t = (1 + 2\eta)^t\, y_0"],
    },
    "nonconvex": {
        "convex Hessians": [r"\nabla^2 L = \frac{2}{N}\tilde X^\top \tilde X",
                            r"\nabla^2 L = \frac1N \tilde X^\top S\, \tilde X",
                            r"S = \mathrm{diag}\bigl(p_n(1 - p_n)\bigr)"],
        "swap symmetry": [r"L(\pi\theta) = L(\theta)",
                          r"L(c) \le \tfrac12 L(\theta^\star) + \tfrac12 L(\pi\theta^\star) = L^\star"],
        "the plane": [r"\theta(a, b) = c + a\,d_1 + b\,d_2",
                      r"\frac{\partial L}{\partial a} = d_1^\top \nabla L(\theta)"],
        "saddle": [r"\partial^2 L/\partial b^2 = \frac{2}{N}\sum_n 1 = 2", "indefinite", "saddle"],
    },
}


def _read(name):
    return nbformat.read(LAB / f"{name}.ipynb", as_version=4)


def _markdown(nb):
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _flat(text):
    """Whitespace collapsed, so a key formula may wrap across lines."""
    return " ".join(text.split())


def _links(text):
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_course_notebook_exists():
    missing = [n for n in COURSE if not (LAB / f"{n}.ipynb").exists()]
    assert not missing, missing


def test_map_links_only_existing_notebooks():
    bad = []
    for target in _links(_markdown(_read("index"))):
        if target.startswith(("http://", "https://", "#")):
            continue
        path = target.split("?")[0].split("#")[0]
        if not path.endswith(".ipynb"):
            continue
        if not (LAB / path).exists() and path not in EXERCISES:
            bad.append(target)
    assert not bad, f"index.ipynb links notebooks that are not in lab/: {bad}"


def test_map_links_every_notebook_and_exercise():
    links = {t.split("?")[0] for t in _links(_markdown(_read("index")))}
    wanted = {f"{n}.ipynb" for n in COURSE if n != "index"} | EXERCISES
    assert wanted <= links, sorted(wanted - links)


def test_every_notebook_links_only_existing_notebooks():
    for p in NOTEBOOKS:
        for target in _links(_markdown(nbformat.read(p, as_version=4))):
            path = target.split("?")[0].split("#")[0]
            if path.endswith(".ipynb"):
                assert (LAB / path).exists() or path in EXERCISES, f"{p.name} links {target}"


def test_map_names_the_race_once():
    """The gallery's browser test finds exactly one link named "Optimizer race"."""
    links = re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", _markdown(_read("index")))
    race = [(text, target) for text, target in links if "optimizer race" in text.lower()]
    assert race == [("Optimizer race", "race.ipynb")], race


def test_map_links_every_scene():
    links = set(_links(_markdown(_read("index"))))
    missing = [f"{app}.ipynb?scene={s}" for app, scenes in SCENES.items() for s in scenes
               if f"{app}.ipynb?scene={s}" not in links]
    assert not missing, missing


def test_agenda_adds_up_to_90_minutes():
    text = _markdown(_read("index"))
    rows = re.findall(r"^\|\s*(\d+)–(\d+)\s*\|\s*(\d+) min\s*\|", text, flags=re.M)
    assert len(rows) == 7, rows
    starts = [int(a) for a, _, _ in rows]
    ends = [int(b) for _, b, _ in rows]
    lengths = [int(m) for _, _, m in rows]
    assert starts[0] == 0 and ends[-1] == 90
    assert starts[1:] == ends[:-1], "the parts must follow each other"
    assert all(e - s == m for s, e, m in zip(starts, ends, lengths, strict=True))
    assert sum(lengths) == 90
    assert [(s, e) for s, e in zip(starts, ends, strict=True)] == \
        [(0, 10), (10, 25), (25, 40), (40, 55), (55, 65), (65, 80), (80, 90)]


def test_map_names_every_syllabus_topic():
    text = _markdown(_read("index"))
    missing = [t for t in TOPICS if t not in _flat(text)]
    assert not missing, missing
    table = re.findall(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|", text, flags=re.M)
    numbered = {int(n): topic for n, topic, _ in table}
    assert [numbered.get(i) for i in range(1, 15)] == TOPICS


def test_map_has_the_driving_box_and_a_self_study_path():
    text = _markdown(_read("index"))
    for key in ("Space", "→", "←", "**R**", "?projector=1", "Binder", "race your own optimizer"):
        assert key in text, key


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_derivations_are_written_out(name):
    text = _flat(_markdown(_read(name)))
    missing = [(what, key) for what, keys in DERIVATIONS[name].items() for key in keys
               if _flat(key) not in text]
    assert not missing, missing


FIELD_NUMBERS = {
    "index": ["lr $10^{-3}$", "lr $10^{-2}$", "32–128", "5 is a common default",
              "$10^{-4}$ to $10^{-2}$", "tune the learning rate first, then the batch size, then the rest",
              "SGD is slow but can generalise best with tuning", "SGD + momentum for vision",
              "RMSprop for RNNs and non-stationary problems", "Adam the default",
              "AdamW for transformers"],
    "race": ["| Adam | lr $10^{-3}$ | the default |", "| SGD | lr $10^{-2}$ |", "vision",
             "RNNs, non-stationary problems", "transformers"],
    "learning_rate": ["start SGD at $10^{-2}$ and Adam at $10^{-3}$"],
    "batch_size": ["Typical batch sizes are 32–128"],
    "early_stopping": ["**patience 5**"],
    "regularization": ["**$\\lambda$ from $10^{-4}$ to $10^{-2}$**", "over-regularizes"],
    "high_dimensions": ["SGD and SGD + momentum at lr $10^{-2}$", "Adam at lr $10^{-3}$",
                        "typical 32–128"],
    "tuning": ["**The learning rate first.**", "**Then the batch size.**", "**Then the rest:**",
               "SGD at $10^{-2}$, Adam at $10^{-3}$"],
}


@pytest.mark.parametrize("name", sorted(FIELD_NUMBERS))
def test_field_numbers_where_they_belong(name):
    text = _flat(_markdown(_read(name)))
    missing = [key for key in FIELD_NUMBERS[name] if _flat(key) not in text]
    assert not missing, missing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_try_this_then_points_to_make(path):
    nb = nbformat.read(path, as_version=4)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert md[-2].lstrip().startswith("## Try this"), path.name
    assert md[-1].lstrip().startswith("## Points to make"), path.name
    assert nb.cells[-1].cell_type == "markdown" and nb.cells[-2].cell_type == "markdown"
    tasks = re.findall(r"^\d+\. ", md[-2], flags=re.M)
    points = re.findall(r"^- ", md[-1], flags=re.M)
    assert len(tasks) >= 3 and len(points) >= 3, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_small_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.strip().splitlines()) <= 3, (path.name, cell.source)
            assert cell.outputs == [] and cell.execution_count is None, path.name


APP_CELLS = {
    "models": "models_lab()", "learning_rate": "lr_explorer()", "batch_size":
    "batch_size_explorer()", "race": "race_app()", "landscapes": 'race_app(problem="saddle")',
    "schedules": "schedule_explorer()", "early_stopping": "early_stopping_trainer()",
    "regularization": "regularization_explorer()", "tuning": "tuning_board()",
    "nonconvex": 'race_app(problem="tanh_net"',
    "high_dimensions": "high_dimensions_explorer()",
}


@pytest.mark.parametrize("name", sorted(APP_CELLS))
def test_app_cell_follows_its_derivations(name):
    nb = _read(name)
    kinds = [c.cell_type for c in nb.cells]
    i = next(i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and APP_CELLS[name] in c.source)
    assert f"from descentlab.widgets import {APP_CELLS[name].split('(')[0]}" in nb.cells[i].source
    assert kinds[i - 1] == "markdown"                 # the text that moves with it, just above
    assert kinds.count("code") <= 2                   # the app, at most one more preset of it


def test_index_has_no_code():
    assert all(c.cell_type == "markdown" for c in _read("index").cells)


def test_math_is_balanced():
    for p in NOTEBOOKS:
        text = _markdown(nbformat.read(p, as_version=4))
        assert text.count("$$") % 2 == 0, p.name
        inline = text.replace("$$", "").replace(r"\$", "")
        assert inline.count("$") % 2 == 0, p.name
