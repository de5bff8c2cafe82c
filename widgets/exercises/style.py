"""Colours, fonts and small text helpers for the check view (projector-readable)."""

from __future__ import annotations

import html
import re

# Okabe-Ito, colour-blind safe
ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, BLACK = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
COORD_COLORS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)
REFERENCE, YOURS = BLUE, VERMILLION

FONT = "font-size: 17px; line-height: 1.45;"
TICKS = {"font-size": "15px"}

FAILURES = {  # status -> headline; each shows as a vermillion ✘
    "failed": "not yet right",
    "not_finite": "NaN or inf",
    "bad_output": "wrong type or shape",
    "error": "your code raised an error",
}

STATUS = {  # status -> (symbol, headline, colour)
    "passed": ("✔", "passed", GREEN),
    "not_implemented": ("…", "not implemented yet", ORANGE),
    **{status: ("✘", headline, VERMILLION) for status, headline in FAILURES.items()},
    "timeout": ("⏱", "too slow", VERMILLION),
    "invalid": ("?", "cannot check", PURPLE),
}


def esc(text) -> str:
    return html.escape(str(text), quote=False)


def inline(text: str) -> str:
    """Escaped text with `code` and **bold**; $...$ is left for MathJax (HTMLMath)."""
    out = []
    for part in re.split(r"(`[^`]+`)", str(text)):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{esc(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", esc(part)))
    return "".join(out)


def markdown(text: str) -> str:
    """The few markdown forms the exercise texts use: paragraphs, bullets, inline code."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if all(ln.lstrip().startswith(("* ", "- ")) or ln.startswith("  ") for ln in lines) \
                and lines[0].lstrip().startswith(("* ", "- ")):
            items, cur = [], []
            for ln in lines:
                if ln.lstrip().startswith(("* ", "- ")):
                    if cur:
                        items.append(" ".join(cur))
                    cur = [ln.lstrip()[2:]]
                else:
                    cur.append(ln.strip())
            items.append(" ".join(cur))
            blocks.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
        else:
            blocks.append(f"<p>{inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "".join(blocks)
