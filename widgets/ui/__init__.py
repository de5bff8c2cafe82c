"""Building blocks with no lab knowledge.

``controls`` (a control with its own error line; status line; buttons), ``figures`` (the
chart interface, figures, axes, keys beside the data, contours, arrows, heat-map scaling,
the multi-run series chart), ``format`` (3-4 significant digits), ``parse`` (text boxes of
several numbers), ``palette`` (colour-blind-safe colours that follow the run, class
colours), ``export`` (CSV through a ``data:`` link), ``upload`` (the one CSV upload
control, safe against any browser payload, and its check), ``marks`` (empty marks for
``draw`` to fill: x-y scales, points, a surface's heat map and contours; a scale's range),
``traits`` (the validation the families' config models share: validators given name and
value, an engine refusal as a TraitError, the selected-run index).
"""
