"""Plain-text tables for the commands that print numbers per layer (``stats``, ``health``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

__all__ = ["format_number", "print_table", "write_csv"]


def format_number(value: float) -> str:
    """A float in at most about 9 characters: ``0.1235``, ``-1.2e+04``, ``nan``."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> None:
    """Print ``rows`` under ``header`` in aligned columns; columns in ``right`` align right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).rjust(width) if i in right else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    print(line(header))
    for row in rows:
        print(line(row))


def write_csv(path: Path, text: str) -> None:
    """Write CSV text to ``path`` (an ``OSError`` becomes the CLI's one-line error)."""
    path.write_text(text, encoding="utf-8", newline="")
