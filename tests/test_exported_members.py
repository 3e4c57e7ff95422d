"""``__all__`` is complete, as in httpx's ``tests/test_exported_members.py``.

(That every name in an ``__all__`` exists is ruff's F822, run by ``make test``.)
"""

from __future__ import annotations

import inspect

import layerviz

#: Names without a leading underscore that are exported on purpose anyway.
INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def test_all_lists_every_public_member_sorted():
    for name in layerviz.__all__:  # names load lazily (PEP 562): bring them all in first
        getattr(layerviz, name)
    public = {
        name
        for name, value in vars(layerviz).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not inspect.ismodule(value)
    }
    assert layerviz.__all__ == sorted(public)


def test_catching_layerviz_error_catches_every_exported_error():
    errors = [getattr(layerviz, n) for n in layerviz.__all__ if n.endswith("Error")]
    assert {e.__name__ for e in errors} >= {"ArgumentError", "PatternError", "ModelLoadError"}
    assert all(issubclass(e, layerviz.LayervizError) for e in errors)
