"""The canary's child: a new program that limits itself, checks, loads and runs a model once.

Started by :func:`layerviz.load.canary.run_canary` as ``python -m layerviz.load.canary_child``
(fork + exec: nothing of the parent's TensorFlow state is inherited). It limits itself
(``RLIMIT_CPU``; ``RLIMIT_AS`` once TensorFlow is imported, so the budget is what loading the
model may add), checks the file again with :func:`layerviz.load.modelcheck.check_model_file`,
refuses weights that declare more than its memory budget or point outside the file, then loads
it with ``safe_mode=True, compile=False``, runs it once on zeros and prints one JSON line
(:data:`layerviz.load.canary.RESULT_PREFIX`). Kept apart from the parent so that the static
checks may start a canary without the canary importing the checks back.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from layerviz.errors import UnsafeModelError
from layerviz.load.canary import RESULT_PREFIX
from layerviz.load.modelcheck import CheckLimits, check_model_file

__all__ = ["main"]

#: Largest file the child may write (Keras writes a small keras.json in its private home).
_MAX_WRITE_BYTES = 16 * 2**20

#: How TensorFlow and numpy say an allocation failed (RLIMIT_AS makes allocations fail).
#: How each backend says it ran out of memory: TensorFlow, XLA (JAX), numpy, PyTorch's allocator.
_OUT_OF_MEMORY = (
    "ResourceExhausted",
    "OOM when allocating",
    "Unable to allocate",
    "can't allocate memory",
)


def main(argv: list[str] | None = None) -> int:
    """The child: limit itself, check, load and run the model once, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m layerviz.load.canary_child")
    parser.add_argument("path", type=Path)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--max-bytes", type=int, required=True)
    parser.add_argument("--activation-bytes", type=int, default=512 * 2**20)
    parser.add_argument("--open-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    # SIGXCPU at the soft limit says why; SIGKILL at the hard one if that signal is ignored.
    _limit(_resource().RLIMIT_CPU, args.cpu_seconds, args.cpu_seconds + 5)
    try:
        result = _trial(args)
    except MemoryError:
        return _emit({"ok": False, "error": _memory_message(args.memory_bytes)})
    except Exception as exc:  # anything the file causes is a refusal, said in one line
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        if any(sign in text for sign in _OUT_OF_MEMORY):
            text = f"{_memory_message(args.memory_bytes)} ({text[:200]})"
        return _emit({"ok": False, "error": text[:500]})
    return _emit({"ok": True, **result})


def _resource():
    import resource  # Unix only; imported here so the parent side imports on any system

    return resource


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    resource = _resource()
    resource.setrlimit(which, (soft, soft if hard is None else hard))


def _memory_message(budget: int) -> str:
    return f"the model needs more than its {budget / 2**20:.0f} MiB memory limit"


def _emit(result: dict) -> int:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 3


def _trial(args) -> dict:
    """Check again, bound memory, look at the weights' declared sizes, load, run on zeros."""
    data = args.path.read_bytes()
    check_model_file(data, args.max_bytes, limits=CheckLimits(), canary=False)
    import keras  # layerviz.load has imported Keras (and its backend) quietly by now
    import numpy as np

    _one_thread(keras.backend.backend())
    _limit(_resource().RLIMIT_AS, _address_space() + args.memory_bytes)
    _limit(_resource().RLIMIT_FSIZE, _MAX_WRITE_BYTES)
    _check_weights(data, args.memory_bytes)
    model = keras.saving.load_model(args.path, safe_mode=True, compile=False)
    if not isinstance(model, keras.Model) or not model.inputs:
        raise UnsafeModelError("the file holds no model with inputs")
    _check_activations(model, args.activation_bytes)
    zeros = [
        np.zeros([1, *(d or 1 for d in t.shape[1:])], dtype=str(t.dtype)) for t in model.inputs
    ]
    batch = zeros if len(zeros) > 1 else zeros[0]
    outputs = model(batch, training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    open_seconds = _timed_first_compiled_pass(model, batch, args.open_seconds)
    return {
        "inputs": [
            {"name": str(t.name), "shape": list(t.shape[1:]), "dtype": str(t.dtype)}
            for t in model.inputs
        ],
        "outputs": [list(o.shape[1:]) for o in outputs],
        "parameters": int(model.count_params()),
        "open_seconds": open_seconds,
    }


class _TooSlowToOpen(Exception):
    """The first compiled pass ran past its budget (raised by the interval timer)."""


def _timed_first_compiled_pass(model, batch, budget: float) -> float:
    """Seconds the model's first compiled pass takes (``predict_on_batch``: traced, then run),
    which is what opening it costs the server: a pass traced over every layer. Stopped by a
    timer at ``budget`` seconds with a refusal that says so (the parent's wall-clock limit
    stops a pass the timer cannot interrupt)."""
    import signal
    import time

    fired = []

    def stop(signum, frame):
        fired.append(True)
        raise _TooSlowToOpen

    previous = signal.signal(signal.SIGALRM, stop)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        model.predict_on_batch(batch)
    except BaseException:
        # Raised inside a trace, the timer's exception may come out wrapped by TensorFlow.
        if not fired:
            raise
        raise UnsafeModelError(
            f"opening the model (its first compiled pass) took more than {budget:g} s in the "
            f"sandbox; this server allows {budget:g} s (LAYERVIZ_OPEN_S)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return time.monotonic() - started


def _activation_bytes(model) -> int:
    """What one pattern's layer outputs take together, from their declared shapes (a free
    axis counts as 1), nested models' layers included: before anything runs."""
    import keras
    import numpy as np

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += _activation_bytes(layer)
            continue
        try:
            outputs = keras.tree.flatten(layer.output)
        except (AttributeError, ValueError):  # a layer called more than once
            continue
        for tensor in outputs:
            size = int(np.prod([d or 1 for d in tensor.shape[1:]], dtype=np.float64))
            total += size * np.dtype(str(tensor.dtype)).itemsize
    return total


def _check_activations(model, budget: int) -> None:
    needed = _activation_bytes(model)
    if needed > budget:
        raise UnsafeModelError(
            f"one pattern's layer outputs take {needed / 1e9:.1f} GB; "
            f"this server allows {budget / 2**20:.0f} MB"
        )


def _one_thread(backend: str) -> None:
    """Run the trial on one CPU thread, on whichever backend Keras runs."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)


def _address_space() -> int:
    """This process's virtual size now, in bytes (``/proc/self/statm``'s first field)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _check_weights(data: bytes, budget: int) -> None:
    """Refuse weights that point outside the file, or declare more bytes than the budget.

    A dataset's shape is HDF5 metadata: a 10 kB file can declare terabytes, which Keras would
    try to allocate when it reads them. Here, in the child, h5py reads only that metadata.
    """
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "model.weights.h5" not in archive.namelist():
            return
        weights = io.BytesIO(archive.read("model.weights.h5"))
    declared = 0
    problems: list[str] = []
    with h5py.File(weights, "r") as store:
        # An exception raised inside h5py's visitor comes out as "SystemError: FastRLock.
        # __exit__ returned a result with an exception set": note the problem, stop, raise after.
        def visit(name: str, link) -> bool | None:
            nonlocal declared
            problem = _outside_the_file(store, name, link)
            if problem is not None:
                problems.append(problem)
                return True  # stops the visit
            item = store.get(name) if isinstance(link, h5py.HardLink) else None
            if isinstance(item, h5py.Dataset):
                declared += item.size * item.dtype.itemsize
            return None

        store.visititems_links(visit)
    if problems:
        raise UnsafeModelError(problems[0])
    if declared > budget:
        raise UnsafeModelError(
            f"the weights file declares {declared / 1e9:.1f} GB of weights in "
            f"{len(data) / 1e3:.0f} kB; the memory limit is {budget / 2**20:.0f} MiB"
        )


def _outside_the_file(store, name: str, link) -> str | None:
    """Which of HDF5's three ways of reading another file a weights entry uses, if any."""
    import h5py

    if isinstance(link, h5py.ExternalLink):
        return f"weights entry {name!r} is an HDF5 external link to another file"
    item = store.get(name) if isinstance(link, h5py.HardLink) else None
    if not isinstance(item, h5py.Dataset):
        return None
    if item.external:
        return f"weights entry {name!r} uses HDF5 external storage (its data is in another file)"
    if item.is_virtual:
        return f"weights entry {name!r} is an HDF5 virtual dataset (it reads other files)"
    return None


if __name__ == "__main__":
    sys.exit(main())
