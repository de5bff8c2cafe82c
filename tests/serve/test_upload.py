"""Crafted widget state from a hostile client: the models lab's FileUpload (a CSV) gets a
``value`` whose ``content`` is not the file's bytes, through a raw websocket comm message
exactly as a browser would send it. The app answers with a clear message beneath the
control and nothing resembling a traceback reaches the websocket.

Needs the app-side validation (lead, issue 11): the message text is the one
tests/widgets/data/test_data_upload.py fixes ("must be the file's bytes; got ...")."""

import json

import pytest
from serve.kernelws import KernelSocket, render

LEAKS = ("Traceback", "site-packages", 'File "/', ".py\", line")


@pytest.mark.parametrize("content, kind", [("x,y\n1,2\n", "str"), (1000, "int")])
def test_crafted_upload_gets_a_clear_message_and_no_traceback(server, content, kind):
    _, kernel_id = render(server.url, "models.ipynb")
    ks = KernelSocket(server.url, kernel_id)
    try:
        states = ks.widget_states()
        uploads = [k for k, v in states.items() if v["model_name"] == "FileUploadModel"]
        assert len(uploads) == 1, "the models lab has one FileUpload (for a CSV)"
        crafted = {"name": "crafted.csv", "type": "text/csv", "size": 9,
                   "last_modified": 0, "content": content}
        ks.send("shell", "comm_msg", {"comm_id": uploads[0], "data": {
            "method": "update", "state": {"value": [crafted]}, "buffer_paths": []}})
        got = ks.read(8, until=lambda ch, m: "must be the file" in json.dumps(m["content"]))
    finally:
        ks.close()
    text = json.dumps([m["content"] for _, m in got])
    assert not [m for _, m in got if m["msg_type"] == "error"], text[:2000]
    for leak in LEAKS:
        assert leak not in text, text[:2000]
    assert f"must be the file's bytes; got {kind}" in text, text[:2000]
