"""The old flat data apps' tuning-board test, left for the tuning family to port (the data
apps' tests moved to tests/widgets/data/)."""

import base64
import re

import numpy as np

from descentlab.widgets import tuning_board


def test_tuning_board_table_chart_and_csv():
    tb = tuning_board()
    assert tb.result is None                       # nothing trained at build
    for method in tb.METHODS:
        tb.method.value = method
        tb.run()
        rows = tb.result.rows()
        scores = [r["score"] for r in rows if r["rung"] == rows[0]["rung"]]
        assert scores == sorted(scores)
        log = tb.result.log
        np.testing.assert_array_equal(tb.points.x, [r["lr"] for r in log])
        text = base64.b64decode(re.search(r"base64,([^\"]+)", tb.link.value).group(1)).decode()
        assert len(text.strip().split("\n")) == len(log) + 1
    tb.lr_lo.value = -1
    tb.widget.children[1].children[0].children[-1].click()
    assert "lr range" in tb.errors.message and len(tb.result.log) == len(log)
