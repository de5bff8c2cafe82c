"""Frame cost of a surface lab in the kernel: engine steps + chart updates, headless widgets.

    python tests/benchmarks/bench_frames.py

For 1, 8 and 32 runs (an Adam lr sweep racing on Rosenbrock, one engine step per frame;
the surface family's :class:`~descentlab.widgets.surface.SurfaceLab` with every chart):
the median frame time, the messages each frame sends (all widgets, counted at
``Widget._send``) and the largest frame rate the kernel could sustain (1 / median).
Target: under 10 ms per frame at 8 runs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

from ipywidgets import Widget

from descentlab.widgets.surface import Run, SurfaceLab, SurfaceModel

FRAMES = 200


async def measure(lab, speed: int):
    """Median frame cost, messages per frame and the busiest widget's messages per frame."""
    sent = Counter()
    original = Widget._send

    def counting(self, msg, buffers=None):
        sent[self.model_id] += 1
        return original(self, msg, buffers)

    Widget._send = counting
    try:
        times, msgs, worst = [], [], 0
        for _ in range(FRAMES):
            sent.clear()
            t0 = time.perf_counter()
            lab.frame(speed)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0)
            msgs.append(sum(sent.values()))
            worst = max(worst, max(sent.values()))
    finally:
        Widget._send = original
        lab.close()
    med = statistics.median(times)
    return med * 1e3, statistics.median(msgs), worst, 1.0 / med


async def bench(R: int, speed: int = 1):
    """Inside a running event loop, as in a kernel (the math panel is throttled to 4/s)."""
    m = SurfaceModel(problem="rosenbrock",
                     runs=[Run("Adam", 0.005 * (i + 1)) for i in range(R)],
                     max_steps=100_000, grad_tol=0.0)
    return await measure(SurfaceLab(m), speed)


async def bench_data(R: int = 8, speed: int = 1):
    """A batch-size explorer with R runs (batch sizes 1..N), one iteration per frame."""
    from descentlab.widgets import batch_size_explorer  # the data family

    lab = batch_size_explorer(batch_sizes=[2 ** i for i in range(R - 1)] + [None], epochs=1000)
    return await measure(lab, speed)


async def main():
    print(f"{'runs':>5} {'median ms/frame':>16} {'msgs/frame':>11} {'max msgs/widget':>16} "
          f"{'max fps':>8}")
    for R in (1, 8, 32):
        ms, msgs, worst, fps = await bench(R)
        print(f"{R:>5} {ms:>16.2f} {msgs:>11.0f} {worst:>16d} {fps:>8.0f}")
    ms, msgs, worst, fps = await bench_data(8)
    print(f"{'data 8':>5} {ms:>16.2f} {msgs:>11.0f} {worst:>16d} {fps:>8.0f}  "
          "(batch_size_explorer)")


if __name__ == "__main__":
    asyncio.run(main())
