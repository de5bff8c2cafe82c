"""What each named surface teaches, in a sentence a presenter can say (its formula is the
engine's own ``Problem.latex``).  Shown under the surface in every surface lab."""

from __future__ import annotations

__all__ = ["LESSONS", "lesson"]

LESSONS = {
    "bowl": "Round and convex: every direction has the same curvature 2, so GD walks "
            "straight to the minimum; stable for η < 2/L = 1.",
    "quadratic": "Ill-conditioned and rotated: curvatures 1 and κ. GD is stable only for "
                 "η < 2/κ, so the flat direction crawls — the condition number sets the pace; "
                 "momentum and Adam help.",
    "booth": "A convex quadratic with coupled coordinates: the minimum (1, 3) is unique; a "
             "clean first race.",
    "matyas": "A flat, nearly singular valley along x = y: small gradients, slow progress — "
              "ill-conditioning without a steep wall.",
    "rosenbrock": "The banana valley: easy to fall into, hard to follow. GD zig-zags across "
                  "the steep walls; momentum and Adam ride the curved floor to (1, 1).",
    "beale": "Sharp ridges and a flat corner: large gradients far away, tiny ones near the "
             "minimum (3, 0.5) — where adaptive step sizes pay off.",
    "saddle": "x² − y² has no minimum: the origin is a saddle point (gradient zero, not a "
              "minimum) and the loss falls without bound along y. Started exactly on the x "
              "axis, GD never leaves it; noise (SGD) escapes.",
    "monkey_saddle": "A flat saddle (x³ − 3xy²): the gradient and the Hessian vanish at the "
                     "origin — first- and second-order tests both fail; unbounded below.",
    "plateau": "Almost flat far from the well: the gradient is tiny, plain GD barely moves — "
               "why normalised steps (Adam, RMSprop) and warm restarts matter.",
    "himmelblau": "Four global minima of equal loss: where you start decides where you end — "
                  "the answer of a non-convex problem is not unique.",
    "six_hump_camel": "Six local minima, two of them global: a small landscape with traps; "
                      "compare where each optimizer settles.",
    "three_hump_camel": "One global and two local minima: a good start matters; momentum can "
                        "carry a run over a low ridge.",
    "rastrigin": "A bowl covered with bumps: a local minimum at every integer point. "
                 "Gradients lead to the nearest one; the global minimum (0, 0) needs luck, "
                 "noise or a large step.",
    "ackley": "A nearly flat plain full of small dimples around one deep hole at the origin: "
              "many local minima and vanishing gradients at once.",
    "styblinski_tang": "Four basins of different depth: the deepest at (−2.90, −2.90); a "
                       "run that starts elsewhere settles in a shallower one.",
    "goldstein_price": "Values spanning six orders of magnitude with several local minima: "
                       "fixed step sizes fail — the case for schedules and adaptivity.",
    "tanh_net": "A real network (2 tanh units, fitted to 24 noisy points) on the plane "
                "θ = c + a·d₁ + b·d₂ through its minimum θ* (a = 1) and θ* with the two "
                "hidden units swapped (a = −1): the same function, so two minima of equal "
                "loss. Their midpoint (0, 0) has both units equal and a far higher loss — "
                "a convex loss would put it at most at the minima's level, so this loss "
                "is not convex. The ridge a = 0 bottoms out in a saddle; started on it, "
                "GD converges to the saddle.",
}
"""One sentence per surface: the challenge of the field it shows."""


def lesson(name: str) -> str:
    """The lesson of surface ``name`` ("" for a custom surface)."""
    return LESSONS.get(name, "")
