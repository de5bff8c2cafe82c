"""Building blocks with no lab knowledge.

``controls`` (a control with its own error line; status line; buttons), ``figures`` (the
chart interface, figures, axes, keys beside the data, contours, arrows, the multi-run
series chart), ``format`` (3-4 significant digits), ``palette`` (colour-blind-safe run
colours), ``export`` (CSV through a ``data:`` link).
"""
