"""Load an untrusted ``.keras`` file once in a spawned, limited child before the server does.

The parent (:func:`run_canary`) writes the checked bytes to a private temporary folder and
starts ``python -m layerviz.load.canary_child`` as a *new program* (``subprocess``: fork + exec, so
nothing of the parent's TensorFlow state is inherited), with a minimal environment, no stdin,
its own session, and a wall-clock timeout. The child (:func:`main`) limits itself
(``RLIMIT_CPU``; ``RLIMIT_AS`` once TensorFlow is imported, so the budget is what loading the
model may add), checks the file again, refuses weights that declare more than its memory budget
or point outside the file, then loads it with ``safe_mode=True, compile=False``, runs it once on
zeros, times its first compiled pass (what opening it costs the server) against
``limits.canary_open_s``, and prints one JSON line. A child that dies, hangs or hits a limit
is a refusal.
"""

from __future__ import annotations

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

__all__ = ["MAX_RUNNING", "RESULT_PREFIX", "run_canary"]

#: The child's one line of result on stdout starts with this.
RESULT_PREFIX = "LAYERVIZ-CANARY "

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]

#: At most this many canaries run at once in one server process: each is a fresh TensorFlow,
#: and a burst of uploads must not start a child per request.
MAX_RUNNING = 2
_running = threading.BoundedSemaphore(MAX_RUNNING)


# --- the parent -----------------------------------------------------------------------------


def run_canary(data: bytes, limits) -> dict:
    """Load and run ``data`` (a checked ``.keras`` file) once in a limited child process.

    Args:
        data: the file's bytes.
        limits: a :class:`layerviz.load.modelcheck.CheckLimits`.

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
            sys.executable, "-s", "-m", "layerviz.load.canary_child", str(model_path),
            "--cpu-seconds", str(int(limits.canary_cpu_s)),
            "--memory-bytes", str(int(limits.canary_memory_bytes)),
            "--max-bytes", str(int(limits.max_bytes)),
            "--activation-bytes", str(int(limits.canary_activation_bytes)),
            "--open-seconds", repr(float(limits.canary_open_s)),
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
    """Only what the child needs: where Python finds layerviz, the backend Keras runs on here
    (a PyTorch-only install has no TensorFlow to fall back on), and one thread per pool."""
    import keras  # imported by now (layerviz.load): the child runs on the same backend

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(_PACKAGE_ROOT),
        "KERAS_BACKEND": keras.backend.backend(),
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
