"""Peak memory of decoding small files that declare big images, several at once.

A 42 kB PNG of 4096×4096 16-bit grey decodes to 32 MB; the first reader turned it into int64
copies (+300 MB a request). This prints the peak RSS growth of N concurrent reads of such a
file into a 32×32×1 input, sampled every 2 ms, for whichever ``layerviz`` is on the path
(run it from an older checkout to compare).

    python bench/decode_memory.py [--threads 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time

import numpy as np
from PIL import Image

try:  # this checkout
    from layerviz.patterns.readers import read_pattern

    SHAPE = (32, 32, 1)
except ImportError:  # checkouts before readers.py took input shapes with their batch axis
    from layerviz.patterns.inputs import read_pattern

    SHAPE = (None, 32, 32, 1)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def sixteen_bit_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((4096, 4096), 1234, dtype=np.uint16)).save(buffer, "PNG")
    return buffer.getvalue()


def peak_growth(data: bytes, threads: int) -> tuple[int, float]:
    """Peak RSS above the start while ``threads`` readers decode ``data`` at once; seconds."""
    start, peak, done = rss_bytes(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.perf_counter()
    readers = [
        threading.Thread(target=read_pattern, args=(data, "x.png", SHAPE)) for _ in range(threads)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    return max(peak[0], rss_bytes()) - start, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = sixteen_bit_png()
    read_pattern(data, "x.png", SHAPE)  # warm up: imports, first allocations
    runs = [peak_growth(data, args.threads) for _ in range(args.repeats)]
    growth = statistics.median(r[0] for r in runs) / 2**20
    seconds = statistics.median(r[1] for r in runs)
    print(f"file {len(data) / 1000:.0f} kB, 4096x4096 16-bit grey, {args.threads} concurrent reads")
    print("| peak RSS growth (MiB, median) | wall time (s, median) | resting RSS after (MiB) |")
    print("|--:|--:|--:|")
    print(f"| {growth:.0f} | {seconds:.2f} | {rss_bytes() / 2**20:.0f} |")


if __name__ == "__main__":
    main()
