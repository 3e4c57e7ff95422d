"""The data flows one way through the package's rooms, checked on the imports themselves.

``load``, ``patterns`` and ``extract`` are what everything else builds on: none of them may
import ``analysis``, ``draw``, ``ui`` or ``cli``. ``analysis`` returns plain data (no ``draw``,
``ui``, ``cli``); ``draw`` makes pictures (no ``ui``, ``cli``); only ``ui`` imports Dash. Every
import is read with :mod:`ast` — those inside functions too — so the rule cannot rot quietly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "layerviz"

#: For each room, the rooms it must never import.
FORBIDDEN = {
    "load": {"patterns", "extract", "analysis", "draw", "ui", "cli"},
    "patterns": {"extract", "analysis", "draw", "ui", "cli"},
    "extract": {"analysis", "draw", "ui", "cli"},
    "analysis": {"draw", "ui", "cli"},
    "draw": {"ui", "cli"},
}
ROOMS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())


def imported_modules(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Every module ``path`` imports, absolute names (relative imports resolved)."""
    package = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "layerviz" else None


def test_every_room_has_a_rule_or_is_a_front_door():
    """A new subpackage must be placed in the order above (ui and cli are the front doors)."""
    assert set(ROOMS) - set(FORBIDDEN) <= {"ui", "cli"}, (
        f"place the new room(s) in FORBIDDEN: {ROOMS}"
    )


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_import_only_downstream(room):
    offences = []
    for path in sorted((PACKAGE / room).rglob("*.py")):
        for module in imported_modules(path):
            if room_of(module) in FORBIDDEN[room]:
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert offences == []


def test_only_the_ui_imports_dash():
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "ui" not in path.relative_to(PACKAGE).parts[:1]
        for module in imported_modules(path)
        if module.split(".")[0] in {"dash", "dash_bootstrap_components", "dash_cytoscape"}
    ]
    assert offences == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The reader finds imports inside functions and relative ones (or the rule proves nothing)."""
    room = tmp_path / "layerviz" / "extract"
    room.mkdir(parents=True)
    source = room / "bad.py"
    source.write_text("def f():\n    from ..draw import figures\n    import layerviz.ui.app\n")
    found = imported_modules(source, tmp_path / "layerviz")
    assert {room_of(m) for m in found} >= {"draw", "ui"}
