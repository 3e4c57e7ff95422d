"""The lens computes numbers only: it never imports the drawing, the dashboard or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import layerviz.lens

FORBIDDEN = ("layerviz.draw", "layerviz.ui", "layerviz.cli", "dash", "matplotlib", "plotly")


def test_lens_imports_nothing_that_draws_or_serves():
    folder = Path(layerviz.lens.__file__).parent
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [
                (path.name, name)
                for name in names
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
            ]
    assert found == []
