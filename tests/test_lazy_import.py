"""``import layerviz`` and ``layerviz --help`` import neither Keras nor any backend (issue 21).

Run in fresh interpreters: this test process has imported Keras long ago.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import layerviz

REPO = Path(__file__).resolve().parents[1]

#: Modules that mean a model library was imported.
HEAVY = ("keras", "tensorflow", "jax", "torch", "dash")


def _python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user has it: unset
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_import_layerviz_imports_no_model_library():
    probe = f"import sys, layerviz; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = _python("-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert done.stderr == ""


def test_help_is_quiet_and_imports_no_model_library():
    probe = (
        "import sys; from layerviz.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    done = _python("-c", probe)
    assert "usage: layerviz" in done.stdout
    assert done.stderr.strip() == "[]"


def test_python_m_layerviz_help_prints_only_the_usage():
    done = _python("-m", "layerviz", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: layerviz")
    assert done.stderr == ""


def test_every_exported_name_resolves_lazily():
    for name in layerviz.__all__:
        assert getattr(layerviz, name) is not None, name
    assert set(layerviz.__all__) <= set(dir(layerviz))
