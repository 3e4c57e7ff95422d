"""Typed pattern recipes: their store form, and what a browser may send instead."""

import pytest

from layerviz.errors import PatternError
from layerviz.ui.recipe import (
    CodeRecipe,
    SampleRecipe,
    SeedRecipe,
    UploadRecipe,
    recipe_from_store,
)

DIGEST = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    "recipe",
    [
        SeedRecipe("m", 7),
        SampleRecipe("m", "digit_3.png"),
        UploadRecipe("m", DIGEST, "a.npy"),
        CodeRecipe("m", DIGEST),
    ],
)
def test_store_round_trip(recipe):
    store = recipe.to_store()
    assert store["kind"] == recipe.kind
    assert recipe_from_store(store) == recipe
    assert recipe_from_store(dict(store)) is not recipe  # a new, equal value


def test_descriptions():
    assert SeedRecipe("m", 7).describe() == "random pattern, seed 7"
    assert SampleRecipe("m", "d.png").describe() == "sample d.png"
    assert UploadRecipe("m", DIGEST, "a.npy").describe() == "uploaded a.npy"
    assert CodeRecipe("m", DIGEST).describe() == "pattern given in code"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected an object, got list"),
        ("seed", "expected an object, got 'seed'"),
        (7, "expected an object, got int"),
        (True, "expected an object, got bool"),
        (None, "expected an object, got null"),
        ({"kind": "seed", "seed": 1}, "'model' should be a name"),
        ({"model": ["m"], "kind": "seed", "seed": 1}, "'model' should be a name"),
        ({"model": "m" * 5000, "kind": "seed", "seed": 1}, "a string of 5000 characters"),
        ({"model": "m", "kind": "seed", "seed": "x"}, "whole number"),
        ({"model": "m", "kind": "seed", "seed": True}, "whole number"),
        ({"model": "m", "kind": "seed", "seed": float("inf")}, "whole number"),
        ({"model": "m", "kind": "seed", "seed": 2**32}, "between 0 and"),
        ({"model": "m", "kind": "sample"}, "'sample' should be a name"),
        ({"model": "m", "kind": "upload", "digest": "../x", "filename": "a"}, "not a content"),
        ({"model": "m", "kind": "upload", "digest": DIGEST}, "'filename' should be a name"),
        ({"model": "m", "kind": "code", "digest": 5}, "not a content digest"),
        ({"model": "m", "kind": "magic"}, "unknown pattern source 'magic'"),
        ({"model": "m", "kind": ["seed"]}, "unknown pattern source 'list'"),
    ],
)
def test_malformed_store_data_is_a_pattern_error(data, message):
    with pytest.raises(PatternError, match=message):
        recipe_from_store(data)


def test_recipes_are_frozen_and_hashable():
    recipe = SeedRecipe("m", 1)
    with pytest.raises(AttributeError):
        recipe.seed = 2
    assert len({recipe, SeedRecipe("m", 1)}) == 1
