"""Small file-building helpers the tests share (conftest modules are not importable by name).

``pyproject.toml`` puts ``tests/`` on the path, so any test module can ``from helpers import ...``.
"""

from __future__ import annotations

import io

import numpy as np

#: The eight bytes every PNG file starts with.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def npy_bytes(array, *, allow_pickle: bool = False) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()
