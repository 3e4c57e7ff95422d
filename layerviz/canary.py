"""Load an untrusted ``.keras`` file once in a spawned, limited child before the server does.

The parent (:func:`run_canary`) writes the checked bytes to a private temporary folder and
starts ``python -m layerviz.canary`` as a *new program* (``subprocess``: fork + exec, so
nothing of the parent's TensorFlow state is inherited), with a minimal environment, no stdin,
its own session, and a wall-clock timeout. The child (:func:`main`) limits itself
(``RLIMIT_CPU``; ``RLIMIT_AS`` once TensorFlow is imported, so the budget is what loading the
model may add), checks the file again, refuses weights that declare more than its memory budget
or point outside the file, then loads it with ``safe_mode=True, compile=False``, runs it once on
zeros and prints one JSON line. A child that dies, hangs or hits a limit is a refusal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from layerviz.errors import UnsafeModelError

__all__ = ["MAX_RUNNING", "RESULT_PREFIX", "main", "run_canary"]

#: The child's one line of result on stdout starts with this.
RESULT_PREFIX = "LAYERVIZ-CANARY "

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent

#: At most this many canaries run at once in one server process: each is a fresh TensorFlow,
#: and a burst of uploads must not start a child per request.
MAX_RUNNING = 2
_running = threading.BoundedSemaphore(MAX_RUNNING)
#: Largest file the child may write (Keras writes a small keras.json in its private home).
_MAX_WRITE_BYTES = 16 * 2**20

#: How TensorFlow and numpy say an allocation failed (RLIMIT_AS makes allocations fail).
_OUT_OF_MEMORY = ("ResourceExhausted", "OOM when allocating", "Unable to allocate")


# --- the parent -----------------------------------------------------------------------------


def run_canary(data: bytes, limits) -> dict:
    """Load and run ``data`` (a checked ``.keras`` file) once in a limited child process.

    Args:
        data: the file's bytes.
        limits: a :class:`layerviz.modelcheck.CheckLimits`.

    Returns:
        What the child measured: ``inputs`` (name, shape, dtype), ``outputs``, ``parameters``,
        ``seconds``.

    Raises:
        UnsafeModelError: the child refused the file, died, hung or hit a limit.
    """
    started = time.monotonic()
    if not _running.acquire(timeout=limits.canary_timeout_s):
        raise UnsafeModelError(
            f"the server is busy checking {MAX_RUNNING} other models; try again in a minute"
        )
    try:
        result = _run_child(data, limits)
    finally:
        _running.release()
    result["seconds"] = time.monotonic() - started
    return result


def _run_child(data: bytes, limits) -> dict:
    """Write ``data`` to a private folder and run the child on it; its result or a refusal."""
    with tempfile.TemporaryDirectory(prefix="layerviz-canary-") as folder:
        model_path = Path(folder) / "model.keras"
        fd = os.open(model_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        command = [
            sys.executable, "-s", "-m", "layerviz.canary", str(model_path),
            "--cpu-seconds", str(int(limits.canary_cpu_s)),
            "--memory-bytes", str(int(limits.canary_memory_bytes)),
            "--max-bytes", str(int(limits.max_bytes)),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=_child_environment(folder),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=limits.canary_timeout_s,
                start_new_session=True,  # a signal for the server's group does not reach it
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UnsafeModelError(
                f"loading the model in a sandbox did not finish within "
                f"{limits.canary_timeout_s:g} s; it was stopped"
            ) from None
    return _result_of(done, limits)


def _child_environment(folder: str) -> dict[str, str]:
    """Only what the child needs: where Python finds layerviz, and one thread per pool."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(_PACKAGE_ROOT),
        "HOME": folder,
        "KERAS_HOME": str(Path(folder) / "keras"),
        "LANG": "C.UTF-8",
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        # Each thread's malloc arena reserves 64 MB of address space, which RLIMIT_AS counts.
        "MALLOC_ARENA_MAX": "2",
    }


def _result_of(done: subprocess.CompletedProcess, limits) -> dict:
    """The child's JSON result, or the refusal its exit or its message says."""
    for line in reversed(done.stdout.decode("utf-8", "replace").splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            if result.get("ok"):
                return result
            raise UnsafeModelError(f"loading the model in a sandbox failed: {result['error']}")
    code = done.returncode
    if code < 0:
        raise UnsafeModelError(_signal_reason(-code, limits))
    tail = _last_line(done.stderr)
    raise UnsafeModelError(
        f"loading the model in a sandbox failed: the process exited with code {code}"
        + (f" ({tail})" if tail else "")
    )


def _signal_reason(number: int, limits) -> str:
    """Why a child killed by signal ``number`` is a refusal, in words."""
    memory = f"{limits.canary_memory_bytes / 2**20:.0f} MiB"
    if number == signal.SIGXCPU:
        return f"loading the model in a sandbox used more than {limits.canary_cpu_s} s of CPU"
    if number == signal.SIGXFSZ:
        return "loading the model in a sandbox tried to write a file larger than 16 MiB"
    name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else number
    if number in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
        return (
            f"loading the model in a sandbox crashed ({name}), as it does when the model "
            f"needs more than its {memory} memory limit"
        )
    return f"loading the model in a sandbox was killed by {name}"


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


# --- the child ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """The child: limit itself, check, load and run the model once, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m layerviz.canary")
    parser.add_argument("path", type=Path)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--max-bytes", type=int, required=True)
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
    from layerviz.modelcheck import CheckLimits, check_model_file

    data = args.path.read_bytes()
    check_model_file(data, args.max_bytes, limits=CheckLimits(), canary=False)
    import keras  # layerviz's __init__ has imported TensorFlow quietly by now
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    _limit(_resource().RLIMIT_AS, _address_space() + args.memory_bytes)
    _limit(_resource().RLIMIT_FSIZE, _MAX_WRITE_BYTES)
    _check_weights(data, args.memory_bytes)
    model = keras.saving.load_model(args.path, safe_mode=True, compile=False)
    if not isinstance(model, keras.Model) or not model.inputs:
        raise UnsafeModelError("the file holds no model with inputs")
    zeros = [
        np.zeros([1, *(d or 1 for d in t.shape[1:])], dtype=str(t.dtype)) for t in model.inputs
    ]
    outputs = model(zeros if len(zeros) > 1 else zeros[0], training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return {
        "inputs": [
            {"name": str(t.name), "shape": list(t.shape[1:]), "dtype": str(t.dtype)}
            for t in model.inputs
        ],
        "outputs": [list(o.shape[1:]) for o in outputs],
        "parameters": int(model.count_params()),
    }


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
    with h5py.File(weights, "r") as store:

        def visit(name: str, link) -> None:
            nonlocal declared
            if isinstance(link, h5py.ExternalLink):
                raise UnsafeModelError(f"weights entry {name!r} links to another file")
            item = store.get(name) if isinstance(link, h5py.HardLink) else None
            if isinstance(item, h5py.Dataset):
                if item.external or item.is_virtual:
                    raise UnsafeModelError(f"weights entry {name!r} reads data outside the file")
                declared += item.size * item.dtype.itemsize

        store.visititems_links(visit)
    if declared > budget:
        raise UnsafeModelError(
            f"the weights file declares {declared / 1e9:.1f} GB of weights in "
            f"{len(data) / 1e3:.0f} kB; the memory limit is {budget / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    sys.exit(main())
