"""Uploads are crafted input (issue 11): whatever a browser puts in the FileUpload value
-- through ``set_state`` with the comm JSON, or through a comm ``update`` message with a
binary buffer -- is checked where it arrives.  Bytes (or a memoryview) of at most 5 MB
are read; a string, a number (1000 must not become 1000 zero bytes), a missing field or
an oversized file get a clear message beneath the upload control, and the lab keeps its
state; a malformed CSV gets the engine's message naming the row and column."""

import numpy as np
import pytest

from descentlab.widgets.data import batch_size_explorer, upload_dataset
from descentlab.widgets.ui.upload import check_upload

ALLOWED = "one .csv file given as bytes of at most 5 MB, with a name"

GOOD = ("x,y\n" + "\n".join(f"{i},{2 * i + 1 + (i % 3) * 0.1}" for i in range(400))).encode()
BAD = b"x,y\n1,2\n2,oops\n3,4\n4,5\n5,6\n6,7"


def record(content, name="good.csv"):
    return {"name": name, "type": "text/csv", "size": 0, "last_modified": 1_700_000_000_000,
            "content": content}


@pytest.fixture
def lab():
    lab = batch_size_explorer()
    lab.frame(5)
    yield lab
    lab.close()


def state(lab):
    s = lab.session
    return (lab.model.custom, lab.model.runs, s.step, s.dataset.name,
            s.view().params.tobytes())


def test_a_good_csv_through_the_comm_is_used_and_the_control_cleared(lab, browser_sends):
    up = lab.upload_control
    browser_sends(up, [{"name": "good.csv", "type": "text/csv", "size": len(GOOD),
                        "last_modified": 1_700_000_000_000}], [memoryview(GOOD)])
    assert lab.upload_box.errors.message == ""
    s = lab.session
    assert s.dataset.name == "good.csv" and s.N == 320 and s.step == 0
    assert up.value == () and lab.data_box.value == "uploaded"
    up.set_state({"value": [record(GOOD, "again.csv")]})          # bytes in the JSON
    assert lab.session.dataset.name == "again.csv"
    lab.data_box.value = "linear"                                 # back to a named set
    assert lab.model.custom is None and lab.session.dataset.name == "linear"


@pytest.mark.parametrize("payload, message", [
    ([record("x,y\n1,2\n")],
     f"the content of 'good.csv' must be the file's bytes; got str (upload {ALLOWED})"),
    ([record(1000)],
     f"the content of 'good.csv' must be the file's bytes; got int (upload {ALLOWED})"),
    ([{"name": "no_content.csv", "type": "text/csv"}],
     f"upload is missing the field 'content'; it must be {ALLOWED}"),
    ([{"content": b"x,y\n"}], f"upload is missing the field 'name'; it must be {ALLOWED}"),
    ([record(b"x" * 5_000_001)],
     "upload 'good.csv' is 5,000,001 bytes; at most 5,000,000 bytes (5 MB) can be uploaded"),
    (42, f"upload must be {ALLOWED}; got an int instead of a file"),
    ([record(b"a"), record(b"b")], f"upload must be {ALLOWED}; got 2 files"),
    ([record(GOOD, "good.txt")], f"upload 'good.txt' is not a .csv file (upload {ALLOWED})"),
    ([record(BAD, "bad.csv")], "row 2, column 'y'"),
])
def test_crafted_payloads_get_a_message_under_the_control_and_keep_state(lab, payload,
                                                                         message):
    before = state(lab)
    lab.upload_control.set_state({"value": payload})             # never raises
    assert message in lab.upload_box.errors.message
    assert state(lab) == before and lab.upload_control.value == ()
    assert lab.errors.message == ""                               # not the lab's line
    lab.upload_control.set_state({"value": [record(GOOD)]})       # a good file clears it
    assert lab.upload_box.errors.message == ""
    assert lab.session.dataset.name == "good.csv"


def test_a_malformed_csv_through_the_comm_names_row_and_column(lab, browser_sends):
    before = state(lab)
    browser_sends(lab.upload_control, [{"name": "bad.csv", "type": "text/csv",
                                        "size": len(BAD), "last_modified": 0}],
                  [memoryview(BAD)])
    msg = lab.upload_box.errors.message
    assert "row 2" in msg and "'y'" in msg and "'oops' is not a number" in msg
    assert state(lab) == before


def test_a_number_never_becomes_zero_bytes():
    with pytest.raises(ValueError, match="must be the file's bytes; got int"):
        check_upload([{"name": "n.csv", "content": 1000}])
    with pytest.raises(ValueError, match="must be the file's bytes; got int"):
        upload_dataset(1000)
    with pytest.raises(ValueError, match="got 0 files"):
        check_upload(())
    name, content = check_upload([record(memoryview(GOOD))])
    assert name == "good.csv" and content == GOOD
    ds = upload_dataset(content, name)
    assert ds.X_train.shape == (320, 1) and np.isfinite(ds.X_train).all()
