"""What keeps a frame cheap for the browser: axes that move in jumps, contours as one image."""

import struct
import zlib

import numpy as np
from contourpy import contour_generator

from descentlab.engine import problems
from descentlab.widgets.surface import race_app
from descentlab.widgets.surface.charts import frame_domain, nice_ceil
from descentlab.widgets.surface.surface_chart import IMAGE_N, contour_image, png, surface_color


def decode(data: bytes) -> np.ndarray:
    """A PNG written by :func:`png` back to ``(h, w, 4)`` (filter 0 rows only)."""
    data = bytes(data)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I", data[pos:pos + 4])[0], data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        idat += body if kind == b"IDAT" else b""
        pos += 12 + n
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 4 * w)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, 4)


def test_png_round_trips():
    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    np.testing.assert_array_equal(decode(png(rgba)), rgba)


def test_contour_image_marks_the_level_crossings_of_contourpy():
    p = problems.get("quadratic", condition=20.0, angle=30.0)
    xs, ys, Z = problems.grid(p, 200)
    C = surface_color(p, Z)[0]
    img = contour_image(C)[::-1]                         # back to rows = y upwards
    line = img[..., 3] > 1
    assert 0.01 < line.mean() < 0.2                     # lines, not a fill
    assert (img[~line][:, 3] == 1).all()                # elsewhere: invisible but clickable
    # every contourpy vertex of a level lies next to a drawn pixel
    level = np.linspace(C.min(), C.max(), 16)[5]
    pts = np.concatenate(contour_generator(xs, ys, C).lines(level))
    j = np.clip(np.round((pts[:, 0] - xs[0]) / (xs[1] - xs[0])).astype(int), 1, 198)
    i = np.clip(np.round((pts[:, 1] - ys[0]) / (ys[1] - ys[0])).astype(int), 1, 198)
    near = np.zeros(len(pts), bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            near |= line[i + di, j + dj]
    assert near.all()
    flat = contour_image(np.ones((4, 4)))
    assert (flat[..., 3] == 1).all()


def test_the_surface_chart_sends_its_contours_once_as_a_png():
    lab = race_app()
    chart = lab.charts["surface"]
    img = decode(chart.contours.image.value)
    assert img.shape == (IMAGE_N, IMAGE_N, 4)
    (x0, x1), (y0, y1) = lab.session.problem.domain
    assert list(chart.contours.x) == [x0, x1] and list(chart.contours.y) == [y0, y1]
    value = chart.contours.image.value
    lab.frame(3)
    assert chart.contours.image.value is value           # not redrawn per frame
    lab.model.problem = "himmelblau"
    assert bytes(chart.contours.image.value) != bytes(value)


def test_axis_ranges_move_in_jumps_and_hold_the_data():
    assert [nice_ceil(v) for v in (0, 10, 11, 21, 100, 101, 2001)] == [10, 10, 20, 50, 100,
                                                                      200, 5000]
    assert frame_domain([2e-3, 3.2], log=True) == (1e-3, 10.0)
    assert frame_domain([0.12, 0.97], log=False) == (0.0, 1.0)
    assert frame_domain([np.nan, -1.0], log=True) == (None, None)
    lab = race_app(max_steps=500)
    series = lab.charts["loss"].series
    ranges = set()
    for _ in range(60):
        lab.frame(1)
        y = np.asarray(series.lines.y, float)
        y = y[np.isfinite(y)]
        assert series.sx.min == 0 and series.sx.max >= lab.session.step
        assert series.sy.min <= y.min() and y.max() <= series.sy.max
        ranges.add((series.sx.max, series.sy.min, series.sy.max))
    assert len(ranges) <= 8                              # 60 frames, a few ranges
    ticks = np.asarray(series.ay.tick_values)
    assert ticks[0] == series.sy.min and ticks[-1] == series.sy.max
    assert np.allclose(np.log10(ticks), np.round(np.log10(ticks)))   # decades
