"""The one CSV upload control of every lab, safe against whatever a browser sends.

A ``FileUpload`` value is set by the browser through a comm message; ipywidgets'
deserializer indexes the fields it expects and raises ``KeyError`` on a missing one (a
traceback into the frontend).  :class:`SafeUpload` deserializes whatever arrives -- a
list of file records, one record, a string, a number, records without fields -- into a
tuple of dicts without raising (a non-record becomes ``{"__invalid__": <its type>}``).

:func:`check_upload` then accepts exactly the allowed form (:data:`ALLOWED`): one file
whose ``name`` is text ending in ``.csv`` and whose ``content`` is bytes (or a
memoryview) of at most :data:`MAX_UPLOAD_BYTES`, and returns ``(name, content bytes)``.
Anything else raises a ``ValueError`` naming the problem and the allowed form: content
arrives from a browser and is never trusted (a number such as 1000 is refused, never
turned into ``bytes(1000)``).  A lab shows the message beneath the control, keeps its
state, and clears the control afterwards (:func:`upload_field`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ipywidgets as W
import traitlets as T
from ipywidgets.widgets.trait_types import TypedTuple

from .controls import Field

__all__ = ["SafeUpload", "check_upload", "upload_field", "allowed_form", "MAX_UPLOAD_BYTES",
           "ALLOWED"]

MAX_UPLOAD_BYTES = 5_000_000


def _size(n: int) -> str:
    return f"{n / 1e6:.3g} MB" if n >= 100_000 else f"{n:,} bytes"


def allowed_form(max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The allowed form of an upload, in words (every upload message names it)."""
    return f"one .csv file given as bytes of at most {_size(max_bytes)}, with a name"


ALLOWED = allowed_form()
"""``"one .csv file given as bytes of at most 5 MB, with a name"``."""


# ---------------------------------------------------------------------------- the control


def _entry(js) -> dict:
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


def _from_json(js, _widget) -> tuple:
    if js is None:
        return ()
    if isinstance(js, dict):
        js = [js]
    if not isinstance(js, (list, tuple)):
        return ({"__invalid__": type(js).__name__},)
    return tuple(_entry(e) for e in js)


def _to_json(value, _widget) -> list:
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
    """A ``FileUpload`` whose value never fails to deserialize, whatever a browser sends
    (the browser's view is the same); :func:`check_upload` judges the content."""

    value = TypedTuple(T.Dict(), help="the uploaded files as sent").tag(
        sync=True, echo_update=False, from_json=_from_json, to_json=_to_json)


# ---------------------------------------------------------------------------- the check


def _a(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def check_upload(value, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[str, bytes]:
    """A ``FileUpload`` value as a browser may send it -> ``(name, content bytes)``.

    Allowed: exactly one file, a mapping with ``name`` (text ending in ``.csv``) and
    ``content`` (bytes, a bytearray or a memoryview) of at most ``max_bytes``.  Anything
    else raises a ``ValueError`` naming the problem and the allowed form (never a
    ``TypeError``; an int is never read as that many zero bytes)."""
    allowed = allowed_form(max_bytes)
    if isinstance(value, dict):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"upload must be {allowed}; got {_a(type(value).__name__)} "
                         f"instead of a file")
    if len(value) != 1:
        raise ValueError(f"upload must be {allowed}; got {len(value)} files")
    entry = value[0]
    if not isinstance(entry, dict) or "__invalid__" in entry:
        kind = entry["__invalid__"] if isinstance(entry, dict) else type(entry).__name__
        raise ValueError(f"upload must be {allowed}; got {_a(kind)} instead of a file")
    missing = [k for k in ("name", "content") if k not in entry]
    if missing:
        raise ValueError(f"upload is missing the field {', '.join(map(repr, missing))}; "
                         f"it must be {allowed}")
    content, name = entry["content"], entry["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ValueError(f"upload file name must be text of 1 to 255 characters; got "
                         f"{name!r} (upload {allowed})")
    if not name.lower().endswith(".csv"):
        raise ValueError(f"upload {name!r} is not a .csv file (upload {allowed})")
    if isinstance(content, memoryview):
        size = content.nbytes
    elif isinstance(content, (bytes, bytearray)):
        size = len(content)
    else:
        raise ValueError(f"the content of {name!r} must be the file's bytes; got "
                         f"{type(content).__name__} (upload {allowed})")
    if size > max_bytes:
        raise ValueError(f"upload {name!r} is {size:,} bytes; at most {max_bytes:,} bytes "
                         f"({_size(max_bytes)}) can be uploaded")
    return name, bytes(content)


def upload_field(use: Callable[[bytes, str], None], description: str = "upload CSV",
                 max_bytes: int = MAX_UPLOAD_BYTES) -> Field:
    """A :class:`SafeUpload` for one CSV file with its own error line beneath it.

    Each value a browser sends is checked (:func:`check_upload`); a good file is given to
    ``use(content, name)``, which raises ``ValueError`` (or ``TraitError``) with a message
    when it cannot take it (a malformed CSV: the engine's message naming the row and
    column).  Every message appears beneath the control, nothing raises into the
    frontend, and the control is cleared afterwards (the same file can be sent again)."""
    up = SafeUpload(accept=".csv", multiple=False, description=description)
    box = Field(up)

    def arrived(change) -> None:
        value = change["new"]
        if not value:                  # the control cleared (below), or nothing sent
            return
        try:
            name, content = check_upload(value, max_bytes)
            use(content, name)
        except (ValueError, T.TraitError) as err:
            box.errors.show(str(err))
        except Exception as err:  # noqa: BLE001 - nothing may reach the page as a traceback
            box.errors.show(f"the upload could not be read ({type(err).__name__}); it "
                            f"must be {allowed_form(max_bytes)}")
        else:
            box.errors.clear()
        finally:
            up.value = ()

    up.observe(arrived, "value")
    return box
