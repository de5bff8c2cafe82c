"""Validation shared by the families' ``traitlets`` models (no widgets, no engine).

:func:`validates` registers a validator that is handed the trait's name and the proposed
value; :func:`refused` raises an engine refusal (``ValueError``, with the engine's
message naming the parameter and its range) as the ``TraitError`` traitlets expects --
traitlets rolls back the traits of a ``hold_trait_notifications`` block on a TraitError
only, so an edit of several traits is refused whole.  :class:`RunChoice` is the
``selected`` run index of a model with a list of ``runs``.
"""

from __future__ import annotations

import contextlib
import functools

import traitlets as T

__all__ = ["validates", "refused", "RunChoice"]


def validates(*names: str):
    """``@validates("a", "b")`` over ``def check(self, name, value) -> value``: the
    traitlets validator of those traits, given the trait's name and the proposed value."""
    def register(check):
        @functools.wraps(check)
        def validator(self, proposal):
            return check(self, proposal["trait"].name, proposal["value"])
        return T.validate(*names)(validator)
    return register


@contextlib.contextmanager
def refused(*errors: type[Exception]):
    """Inside the block, an exception of ``errors`` (default ``ValueError``) is raised as
    a ``TraitError`` with the same message."""
    caught = errors or (ValueError,)
    try:
        yield
    except caught as err:
        raise T.TraitError(str(err)) from None


class RunChoice(T.HasTraits):
    """``selected``: the index of one of the model's ``runs`` (the run the panels show),
    refused outside them and moved to the last run when the runs shrink below it."""

    selected = T.Int(0, help="the run the panels show")

    @T.observe("runs")
    def _clamp_selected(self, change):
        if self.selected >= len(change["new"]):
            self.selected = len(change["new"]) - 1

    @validates("selected")
    def _v_selected(self, name, index):
        R = len(self.runs)
        if not 0 <= index < R:
            raise T.TraitError(f"{name} must be an integer in [0, {R - 1}], got {index}")
        return index
