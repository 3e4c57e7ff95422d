"""Typed pattern recipes: their store form, and what a browser may send instead."""

import pytest

from layerviz.errors import PatternError
from layerviz.ui.recipe import (
    MAX_PARTS,
    CodeRecipe,
    MultiRecipe,
    SampleRecipe,
    SeedRecipe,
    UploadRecipe,
    parts_of,
    recipe_from_store,
    with_part,
)

DIGEST = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    "recipe",
    [
        SeedRecipe("m", 7),
        SampleRecipe("m", "digit_3.png"),
        UploadRecipe("m", DIGEST, "a.npy"),
        CodeRecipe("m", DIGEST),
        MultiRecipe("m", (SampleRecipe("m", "digit_3.npz"), SeedRecipe("m", 7))),
        MultiRecipe("m", (UploadRecipe("m", DIGEST, "b.npy"), CodeRecipe("m", DIGEST))),
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


# --- one source per input (MultiRecipe) ------------------------------------------------------

MIXED = MultiRecipe("m", (SampleRecipe("m", "digit_3.npz"), SeedRecipe("m", 7)))


def test_a_per_input_store_form_names_the_model_once():
    assert MIXED.to_store() == {
        "kind": "multi",
        "model": "m",
        "parts": [{"kind": "sample", "sample": "digit_3.npz"}, {"kind": "seed", "seed": 7}],
    }


def test_parts_take_the_recipe_model_whatever_a_part_claims():
    store = {
        "model": "m",
        "kind": "multi",
        "parts": [{"model": "other", "kind": "seed", "seed": 1}],
    }
    assert recipe_from_store(store) == MultiRecipe("m", (SeedRecipe("m", 1),))


def test_per_input_description_names_each_input():
    assert MIXED.describe(["image", "meta"]) == (
        "image: sample digit_3.npz; meta: random pattern, seed 7"
    )
    assert MIXED.describe() == "input 1: sample digit_3.npz; input 2: random pattern, seed 7"


def test_a_whole_recipe_gives_every_input_its_own():
    seed = SeedRecipe("m", 4)
    assert parts_of(seed, 3) == (seed, seed, seed)
    assert parts_of(MIXED, 2) == MIXED.parts
    with pytest.raises(PatternError, match="a source for 2 inputs; model 'm' has 3"):
        parts_of(MIXED, 3)


def test_with_part_replaces_one_input_only():
    upload = UploadRecipe("m", DIGEST, "meta.npy")
    changed = with_part(SampleRecipe("m", "digit_3.npz"), 2, 1, upload)
    assert changed == MultiRecipe("m", (SampleRecipe("m", "digit_3.npz"), upload))
    again = with_part(changed, 2, 0, SeedRecipe("m", 9))
    assert again.parts == (SeedRecipe("m", 9), upload)
    for index in (-1, 2):
        with pytest.raises(PatternError, match="has 2 inputs"):
            with_part(changed, 2, index, upload)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (None, "'parts' should be a list of 1 to 16 sources, got null"),
        ("seed", "'parts' should be a list .* got 'seed'"),
        ({"kind": "seed"}, "'parts' should be a list .* got dict"),
        ([], "got a list of 0"),
        ([{"kind": "seed", "seed": 1}] * (MAX_PARTS + 1), f"got a list of {MAX_PARTS + 1}"),
        ([7], "input 1's source should be an object, got int"),
        ([{"kind": "seed", "seed": 1}, None], "input 2's source should be an object, got null"),
        ([{"kind": "seed", "seed": float("inf")}], "input 1: a random seed must be a whole"),
        ([{"kind": "sample", "sample": ""}], "input 1: .*'sample' should be a name"),
        ([{"kind": "upload", "digest": "../etc", "filename": "a"}], "input 1: .*not a content"),
        ([{"kind": "multi", "parts": []}], "input 1: unknown pattern source 'multi'"),
        ([{"kind": "A" * 5000}], "input 1: unknown pattern source 'a string of 5000"),
    ],
)
def test_malformed_per_input_recipes_are_pattern_errors(parts, message):
    with pytest.raises(PatternError, match=message):
        recipe_from_store({"model": "m", "kind": "multi", "parts": parts})
