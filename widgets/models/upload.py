"""The CSV upload control, safe against what any browser can send.

A ``FileUpload`` value is set by the browser through a comm message; ipywidgets'
deserializer indexes the fields it expects and raises ``KeyError`` on a missing one (a
traceback into the frontend).  :class:`SafeUpload` deserializes whatever arrives into a
tuple of dicts without raising; :func:`~.build.check_upload` then accepts exactly one file
whose ``content`` is bytes (or a memoryview) of at most the stated size, and names the
problem otherwise.  After a file is read, the value is cleared.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as W
import traitlets as T
from ipywidgets.widgets.trait_types import TypedTuple

__all__ = ["SafeUpload"]


def _entry(js):
    if not isinstance(js, dict):
        return {"__invalid__": type(js).__name__}
    out = dict(js)
    lm = js.get("last_modified")
    if isinstance(lm, (int, float)) and not isinstance(lm, bool):
        try:
            out["last_modified"] = dt.datetime.fromtimestamp(lm / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            out.pop("last_modified")
    return out


def _from_json(js, _widget):
    if isinstance(js, dict):
        js = [js]
    if not isinstance(js, (list, tuple)):
        return ({"__invalid__": type(js).__name__},)
    return tuple(_entry(e) for e in js)


def _to_json(value, _widget):
    out = []
    for f in value:
        if all(k in f for k in ("name", "type", "size", "content")):
            js = {k: f[k] for k in ("name", "type", "size", "content")}
            lm = f.get("last_modified")
            js["last_modified"] = (int(lm.timestamp() * 1000) if isinstance(lm, dt.datetime)
                                   else 0)
            out.append(js)
    return out


class SafeUpload(W.FileUpload):
    """``FileUpload`` whose value never fails to deserialize (the browser's view is the
    same); the lab validates the content."""

    value = TypedTuple(T.Dict(), help="The file upload value").tag(
        sync=True, echo_update=False, from_json=_from_json, to_json=_to_json)
