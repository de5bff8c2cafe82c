"""Models-family fixtures: a lab and the FileUpload value a browser sends."""

import datetime

import pytest

from descentlab.widgets.models import models_lab


@pytest.fixture
def lab():
    lab = models_lab()
    yield lab
    lab.close()


def upload_value(content, name="mine.csv"):
    """FileUpload.value as ipywidgets 8 holds it after a browser upload."""
    return ({"name": name, "type": "text/csv", "size": len(content),
             "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
             "content": memoryview(content)},)


def comm_value(content, name="mine.csv"):
    """The JSON a browser's comm message carries for FileUpload.value (before
    deserialization): a list of file records with a millisecond timestamp."""
    return [{"name": name, "type": "text/csv", "size": len(content),
             "last_modified": 1_700_000_000_000, "content": memoryview(content)}]


@pytest.fixture
def upload():
    return upload_value


@pytest.fixture
def comm():
    return comm_value
