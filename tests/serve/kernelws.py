"""A minimal kernel websocket client (jupyter v1 protocol) for crafting messages the way a
hostile client could: connect to a Voilà kernel, send shell/comm messages, read iopub.

The v1 frame (jupyter_server's ``kernel.websocket.jupyter.org`` protocol v1): an 8-byte
count n of offsets, n 8-byte offsets, then the channel name and the message parts
(header, parent header, metadata, content, buffers...) at those offsets.
"""

import json
import re
import time
import urllib.request
import uuid

import websocket

V1 = "v1.kernel.websocket.jupyter.org"


def render(base: str, notebook: str, timeout: float = 90) -> tuple[str, str]:
    """GET a Voilà page; return (html, kernel id). Voilà starts (or takes from the pool) a
    kernel for every render, as for a browser."""
    with urllib.request.urlopen(f"{base}/voila/render/{notebook}", timeout=timeout) as r:
        html = r.read().decode()
    m = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html)
    assert m, "no kernel id in the rendered page"
    return html, m.group(1)


def pack(channel: str, parts: list[bytes]) -> bytes:
    chan = channel.encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(chan))
    for p in parts:
        offsets.append(offsets[-1] + len(p))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + chan + b"".join(parts)


def unpack(frame: bytes) -> tuple[str, dict]:
    n = int.from_bytes(frame[:8], "little")
    offs = [int.from_bytes(frame[8 * (i + 1): 8 * (i + 2)], "little") for i in range(n)]
    parts = [frame[offs[i]: offs[i + 1]] for i in range(n - 1)] + [frame[offs[-1]:]]
    channel = parts[0].decode()
    header, parent, metadata, content = (json.loads(p or b"{}") for p in parts[1:5])
    return channel, {"header": header, "parent_header": parent, "metadata": metadata,
                     "content": content, "msg_type": header.get("msg_type"),
                     "buffers": parts[5:]}


class KernelSocket:
    """One websocket to one kernel; ``send`` a message, ``read`` messages for a while."""

    def __init__(self, base: str, kernel_id: str, subprotocols=(V1,), timeout: float = 10):
        ws_base = base.replace("http://", "ws://")
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{ws_base}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            subprotocols=list(subprotocols) or None, timeout=timeout)
        self.log: list[tuple[str, dict]] = []

    def send(self, channel: str, msg_type: str, content: dict, buffers=(), metadata=None) -> str:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                  "username": "crafted", "date": "2026-01-01T00:00:00Z", "version": "5.4"}
        parts = [json.dumps(x).encode() for x in (header, {}, metadata or {}, content)]
        parts += list(buffers)
        self.ws.send_binary(pack(channel, parts))
        return msg_id

    def read(self, seconds: float, until=None) -> list[tuple[str, dict]]:
        """Collect messages for up to ``seconds`` (or until ``until(channel, msg)``)."""
        got = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            if isinstance(frame, str):  # legacy JSON frame (never with v1)
                msg = json.loads(frame)
                item = (msg.get("channel", ""), {**msg, "msg_type": msg["header"]["msg_type"]})
            else:
                item = unpack(frame)
            got.append(item)
            self.log.append(item)
            if until and until(*item):
                break
        return got

    def widget_states(self, seconds: float = 30) -> dict:
        """All widget models of the kernel, {model_id: {"model_name":..., "state":...}},
        asked for through ipywidgets' control comm as a browser's widget manager does."""
        comm_id = uuid.uuid4().hex
        self.send("shell", "comm_open", {"comm_id": comm_id, "data": {},
                                         "target_name": "jupyter.widget.control"},
                  metadata={"version": "1.0.0"})
        self.send("shell", "comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}})
        for _, msg in self.read(seconds, until=lambda ch, m: m["msg_type"] == "comm_msg" and
                                m["content"].get("data", {}).get("method") == "update_states"):
            data = msg["content"].get("data", {})
            if data.get("method") == "update_states":
                return data["states"]
        raise AssertionError("the kernel did not answer request_states")

    def close(self):
        self.ws.close()
