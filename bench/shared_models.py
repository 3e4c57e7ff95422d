"""Benchmark: what a worker pays to open a model that a session uploaded on another worker.

For each model, saved as ``.keras`` once and kept in a throwaway redis-server as an upload
leaves it (``SharedModelFiles.put``), measured side by side in one run:

a. put: the file into Redis (the uploading worker, after the canary);
b. restore: what another worker does on the session's next request: read the file, verify its
   SHA-256 and its name, run the static checks again, load it and build its extractor (the
   canary mark trusted); median of several rounds, each into an empty LRU;
c. restore with the canary run again (the mark not trusted): one run per model.

c / b is what re-running the canary on every worker would cost. Needs ``redis-server`` on the
PATH. Prints one Markdown table; a measurement, not a test: it exits 0.

Usage:
    .venv/bin/python bench/shared_models.py [--quick] [--models small,cnn,mobilenet]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/servers.py

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split

import keras
from benchlib import machine_line, timed  # bench/benchlib.py
from modelcheck import MODELS, models_to_run  # bench/modelcheck.py: the same three models
from servers import redis_server  # tests/servers.py

from layerviz.ui.shared_models import SharedModelFiles
from layerviz.ui.store import RedisStore
from layerviz.ui.user_models import UserModels

SECRET = b"bench-secret"


def measure(name: str, rounds: int, folder: Path, url: str) -> dict:
    path = folder / f"{name}.keras"
    MODELS[name]().save(path)
    data = path.read_bytes()
    store = RedisStore(url, secret=SECRET, prefix="bench:models", item="file")
    trusted = SharedModelFiles(store, SECRET)
    untrusted = SharedModelFiles(store, SECRET, trust_marks=False)
    session = "bench-session"
    model = trusted.name_of(session, data)
    puts = [timed(lambda: trusted.put(session, model, data, path.name)) for _ in range(rounds)]

    def restore(shared: SharedModelFiles) -> None:
        assert shared.restore(session, model, UserModels(), lambda n, loaded: loaded)

    restores = [timed(lambda: restore(trusted)) for _ in range(rounds)]
    with_canary = timed(lambda: restore(untrusted))
    return {
        "model": name,
        "size": len(data) / 1e6,
        "put": statistics.median(puts),
        "restore": statistics.median(restores),
        "canary": with_canary,
    }


def main() -> None:
    quick, names = models_to_run(__doc__)
    load_at_start = os.getloadavg()[0]
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    # The tests' helper: it waits until the server answers a PING (no fixed sleep), and stops it.
    with redis_server() as url, tempfile.TemporaryDirectory() as folder:
        rows = [measure(n, 2 if quick else 5, Path(folder), url) for n in names]
    print(machine_line(load_at_start, versions=f"Keras {keras.__version__}"))
    print()
    print(
        "| model | file | put to Redis (a) | restore: checks + load (b) "
        "| restore + canary (c) | c / b |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['model']} | {r['size']:.2f} MB | {r['put'] * 1e3:.1f} ms "
            f"| {r['restore'] * 1e3:.0f} ms | {r['canary']:.1f} s "
            f"| {r['canary'] / r['restore']:.0f} |"
        )


if __name__ == "__main__":
    main()
