"""Crafted uploads (issue 11): whatever a browser puts in the FileUpload value -- through
the trait, through ``set_state`` with the comm JSON, or through a comm ``update``
message with a binary buffer -- gets a clear message beneath the upload control, the lab
keeps its state and nothing raises.  A good CSV is read and the control is cleared."""

import numpy as np
import pytest

from descentlab.widgets.models import models_lab
from descentlab.widgets.ui.upload import check_upload

ALLOWED = "one .csv file given as bytes of at most 5 MB, with a name"
GOOD = ("a,b,t\n" + "\n".join(f"{i},{(i * 7) % 5},{3 * i - (i * 7) % 5}"
                              for i in range(40))).encode()


def state(lab):
    m = lab.model
    return (m.dataset, m.model, m.first, m.second, m.w, m.b, lab.session.step,
            lab.data_box.value)


def test_a_good_upload_is_read_switched_to_and_the_control_cleared(lab, upload, comm,
                                                                  browser_sends):
    lab.upload.value = upload(GOOD, "mine.csv")
    assert lab.upload_field.errors.message == ""
    ds = lab.model.built.dataset
    assert ds.name == "mine.csv" and ds.task == "regression" and ds.X_train.shape == (32, 2)
    assert lab.data_box.value == "upload: mine.csv"
    assert lab.target_box.options == ("a", "b", "t") and lab.target_box.value == "t"
    assert not lab.target_box.disabled
    assert lab.upload.value == ()                              # cleared after reading
    lab.upload.set_state({"value": comm(GOOD, "again.csv")})  # the comm JSON
    assert lab.model.built.dataset.name == "again.csv" and lab.upload.value == ()
    browser_sends(lab.upload, [{"name": "third.csv", "type": "text/csv", "size": len(GOOD),
                                "last_modified": 1_700_000_000_000}], [memoryview(GOOD)])
    assert lab.model.built.dataset.name == "third.csv" and lab.upload.value == ()
    assert lab.upload_field.errors.message == ""


def test_target_choice_and_class_labels_of_an_upload(lab, upload):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=60), rng.normal(size=60)
    t = 3 * a - b + 0.1 * rng.normal(size=60)
    text = "a,b,t\n" + "\n".join(f"{x},{y},{z}" for x, y, z in zip(a, b, t, strict=True))
    lab.upload.value = upload(text.encode(), "mine.csv")
    assert lab.model.built.model.name == "linear_regression"
    lab.target_box.value = "a"
    ds = lab.model.built.dataset
    assert ds.target_name == "a" and ds.feature_names == ("b", "t")
    lab.data_box.value = "linear"
    assert lab.target_box.disabled and lab.model.built.dataset.name == "linear"
    lab.data_box.value = "upload: mine.csv"
    labels = "x1,x2,pet\n" + "\n".join(f"{x},{y},{'cat' if x + y > 0 else 'dog'}"
                                       for x, y in zip(a, b, strict=True))
    lab.load_csv_bytes(labels.encode(), "pets.csv")
    assert lab.model.built.dataset.task == "binary" and lab.classes_box.value
    assert lab.model.built.model.name == "logistic_regression"
    assert lab.charts["fit"].mode == "boundary"


CRAFTED = [
    ("string content", [{"name": "a.csv", "type": "text/csv", "size": 3,
                         "last_modified": 0, "content": "x,y\n1,2"}],
     f"the content of 'a.csv' must be the file's bytes; got str (upload {ALLOWED})"),
    ("int content", [{"name": "a.csv", "type": "text/csv", "size": 3, "last_modified": 0,
                      "content": 1000}],
     f"the content of 'a.csv' must be the file's bytes; got int (upload {ALLOWED})"),
    ("missing content", [{"name": "a.csv", "type": "text/csv", "size": 3,
                          "last_modified": 0}],
     f"upload is missing the field 'content'; it must be {ALLOWED}"),
    ("missing everything", [{}],
     f"upload is missing the field 'name', 'content'; it must be {ALLOWED}"),
    ("several files", [{"name": f"{k}.csv", "type": "text/csv", "size": len(GOOD),
                        "last_modified": 0, "content": GOOD} for k in "ab"],
     f"upload must be {ALLOWED}; got 2 files"),
    ("not a file", ["x,y\n1,2"], f"upload must be {ALLOWED}; got a str instead of a file"),
    ("not a list", "x,y\n1,2", f"upload must be {ALLOWED}; got a str instead of a file"),
    ("oversized", [{"name": "big.csv", "type": "text/csv", "size": 1, "last_modified": 0,
                    "content": b"0" * 5_000_001}],
     "upload 'big.csv' is 5,000,001 bytes; at most 5,000,000 bytes (5 MB) can be uploaded"),
    ("bad name", [{"name": 7, "type": "text/csv", "size": 3, "last_modified": 0,
                   "content": GOOD}],
     f"upload file name must be text of 1 to 255 characters; got 7 (upload {ALLOWED})"),
    ("not a .csv", [{"name": "a.txt", "type": "text/plain", "size": len(GOOD),
                     "last_modified": 0, "content": GOOD}],
     f"upload 'a.txt' is not a .csv file (upload {ALLOWED})"),
    ("a number", 1000, f"upload must be {ALLOWED}; got an int instead of a file"),
]


@pytest.mark.parametrize("what, payload, message", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_payload_through_set_state_gets_a_message_and_keeps_state(
        what, payload, message, browser_sends):
    lab = models_lab()
    lab.move((0.4, 0.3))
    lab.step()
    before = state(lab)
    lab.upload.set_state({"value": payload})                   # never raises
    assert lab.upload_field.errors.message == message
    assert state(lab) == before and lab.upload.value == ()
    browser_sends(lab.upload, payload)                           # the comm message path
    assert lab.upload_field.errors.message == message and state(lab) == before
    lab.upload.set_state({"value": [{"name": "ok.csv", "type": "text/csv",
                                     "size": len(GOOD), "last_modified": 0,
                                     "content": GOOD}]})
    assert lab.upload_field.errors.message == ""              # a good file clears it
    assert lab.model.built.dataset.name == "ok.csv"
    lab.close()


@pytest.mark.parametrize("content", [1000, "x,y\n1,2", None, [1, 2]])
def test_crafted_content_through_the_trait_is_refused(lab, content):
    before = state(lab)
    lab.upload.value = ({"name": "a.csv", "content": content},)
    assert "must be the file's bytes; got" in lab.upload_field.errors.message
    assert "must be the file's bytes; got" in lab.upload_field.errors.widget.value  # the page
    assert state(lab) == before and lab.upload.value == ()


def test_check_upload_accepts_bytes_and_memoryview_and_refuses_int():
    assert check_upload([{"name": "a.csv", "content": b"x"}]) == ("a.csv", b"x")
    assert check_upload([{"name": "a.csv", "content": memoryview(b"xy")}]) == ("a.csv",
                                                                              b"xy")
    assert check_upload({"name": "a.csv", "content": bytearray(b"z")}) == ("a.csv", b"z")
    with pytest.raises(ValueError, match="bytes; got int"):
        check_upload([{"name": "a.csv", "content": 1000}])        # not bytes(1000)


@pytest.mark.parametrize("content, words", [
    (b"x,y\n1,2\n2,oops\n3,4\n4,5\n5,6\n6,7", ("row 2", "'y'", "not a number")),
    (b"x,y\n1,2\n2,3", ("2 data rows", "at least 5")),
    (b"x,y\n1,2\n2,3\n3\n4,5\n5,6\n6,7", ("row 3", "1 fields")),
])
def test_malformed_csv_gets_the_engines_message_and_keeps_the_last_good_data(
        lab, upload, content, words):
    lab.move((0.4, 0.3))
    before = state(lab)
    lab.upload.value = upload(content, "bad.csv")
    for w in words:
        assert w in lab.upload_field.errors.message
    assert state(lab) == before and lab.data_box.value == "linear"
    assert lab.upload.value == ()
    assert "upload: bad.csv" not in lab.data_box.options


def test_an_upload_whose_model_cannot_be_built_is_refused_whole(lab, upload, monkeypatch):
    from descentlab.engine import models
    lab.move((0.4, 0.3))
    before = state(lab)

    def no_fit(*a, **k):
        raise ValueError("fit did not reach |grad L| <= 1e-10 in 100 Newton steps")

    monkeypatch.setattr(models, "fit", no_fit)
    lab.upload.value = upload(GOOD, "stubborn.csv")
    assert "fit did not reach" in lab.upload_field.errors.message
    assert state(lab) == before and lab.model.built.dataset.name == "linear"
