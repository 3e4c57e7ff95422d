"""``__all__`` is complete, as in httpx's ``tests/test_exported_members.py``."""

from __future__ import annotations

import importlib
import inspect

import pytest

import layerviz

#: Names without a leading underscore that are exported on purpose anyway.
INCLUDED_PRIVATE_MEMBERS = {"__version__"}

CORE_MODULES = [
    "layerviz.activations",
    "layerviz.bundled",
    "layerviz.cache",
    "layerviz.cli",
    "layerviz.errors",
    "layerviz.export",
    "layerviz.loading",
    "layerviz.patterns",
    "layerviz.selection",
]


def public_names_of_package() -> set[str]:
    """What ``layerviz/__init__`` defines or imports, its submodules left out."""
    return {
        name
        for name, value in vars(layerviz).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not inspect.ismodule(value)
    }


def test_all_lists_every_public_member():
    assert set(layerviz.__all__) == public_names_of_package()


def test_all_is_sorted_without_repeats():
    assert layerviz.__all__ == sorted(set(layerviz.__all__))


def test_every_exported_name_resolves():
    for name in layerviz.__all__:
        assert getattr(layerviz, name) is not None, name


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from layerviz import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(layerviz.__all__)


def test_exported_errors_share_one_base():
    errors = [getattr(layerviz, n) for n in layerviz.__all__ if n.endswith("Error")]
    assert errors
    assert all(issubclass(e, layerviz.LayervizError) for e in errors)


@pytest.mark.parametrize("module_name", CORE_MODULES)
def test_submodule_all_resolves(module_name):
    module = importlib.import_module(module_name)
    assert len(module.__all__) == len(set(module.__all__))
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which is missing"
