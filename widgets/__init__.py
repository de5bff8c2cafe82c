"""descentlab.widgets."""
