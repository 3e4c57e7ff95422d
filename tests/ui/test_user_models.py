"""Tests for layerviz.ui.user_models: private names, a byte budget, an idle timeout."""

from __future__ import annotations

from layerviz.ui.user_models import PREFIX, UserModels


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_names_are_fresh_and_unguessable():
    models = UserModels()
    names = {models.add(lambda name: name.upper(), 10, "s") for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(PREFIX) and len(n) >= len(PREFIX) + 16 for n in names)
    name = next(iter(names))
    assert models.get(name, "s") == name.upper()  # make() got the name it is kept under


def test_unknown_and_foreign_names_are_none():
    models = UserModels()
    models.add(lambda name: "m", 1, "s")
    for name in ("digits_cnn", PREFIX + "guess", None, 3, ["x"]):
        assert models.get(name, "s") is None
    assert UserModels.is_upload_name(PREFIX + "x") and not UserModels.is_upload_name("x")


def test_idle_models_are_forgotten_and_use_keeps_them():
    clock = Clock()
    models = UserModels(idle_seconds=60, clock=clock)
    kept, idle = models.add(lambda n: "kept", 1, "s"), models.add(lambda n: "idle", 1, "s")
    clock.now = 50
    assert models.get(kept, "s") == "kept"
    clock.now = 100
    assert models.get(idle, "s") is None
    assert models.get(kept, "s") == "kept"
    assert len(models) == 1 and models.names() == [kept]


def test_byte_budget_drops_the_least_recently_used():
    models = UserModels(max_bytes=100)
    a, b = models.add(lambda n: "a", 40, "s"), models.add(lambda n: "b", 40, "s")
    models.get(a, "s")  # now b is the least recently used
    c = models.add(lambda n: "c", 40, "s")
    assert (models.get(a, "s"), models.get(b, "s"), models.get(c, "s")) == ("a", None, "c")
    assert models.nbytes == 80
    big = models.add(lambda n: "big", 500, "s")  # alone over the budget: kept, the rest go
    assert models.get(big, "s") == "big" and len(models) == 1


def test_a_model_kept_with_an_owner_is_only_the_owners():
    models = UserModels()
    models.keep(PREFIX + "shared", "alice's", 10, owner="alice")
    assert models.get(PREFIX + "shared", "alice") == "alice's"
    assert models.get(PREFIX + "shared", "mallory") is None
    assert models.get(PREFIX + "shared") is None  # code outside a session is no owner
    # Issue 25, row 7: a model added in one process (embedded mode) is its session's too.
    mine = models.add(lambda n: "embedded", 1, "alice")
    assert models.get(mine, "alice") == "embedded"
    assert models.get(mine, "mallory") is None and models.get(mine) is None
