"""The dashboard's back room, without Dash: models, pattern recipes and the extraction cache."""

import numpy as np
import pytest
from helpers import npy_bytes
from tiny_models import make_multi_input_model

from layerviz.errors import ModelLoadError, PatternError
from layerviz.ui.features.inspector.jobs import add_batch
from layerviz.ui.recipe import CodeRecipe, MultiRecipe, SampleRecipe, SeedRecipe, UploadRecipe
from layerviz.ui.store import MemoryStore
from layerviz.ui.workbench import PatternRun, Workbench, pattern_digest


@pytest.fixture
def workbench(article_model):
    return Workbench({"article": article_model}, include_bundled=False)


def test_in_memory_models_are_offered_by_name(workbench):
    assert workbench.model_names == ["article"]
    assert workbench.input_shape("article") == (50, 50)
    assert workbench.entry_title("article") == "article (in memory)"


@pytest.mark.parametrize("name", ["nope", ["digits_cnn"], None, 7])
def test_unknown_model_names_the_offered_ones(workbench, name):
    with pytest.raises(ModelLoadError, match="offered: article"):
        workbench.entry(name)
    with pytest.raises(ModelLoadError, match="offered: article"):
        workbench.entry_title(name)


def test_no_model_at_all_is_an_error():
    with pytest.raises(ModelLoadError, match="no model"):
        Workbench({}, include_bundled=False)


def test_default_is_seed_zero_without_samples(workbench):
    recipe = workbench.default_recipe("article")
    assert recipe == SeedRecipe("article", 0)
    pattern = workbench.pattern(recipe)
    assert pattern.shape == (1, 50, 50) and pattern.dtype == np.float32


def test_a_pattern_set_in_code_becomes_the_default(workbench):
    given = np.full((50, 50), 0.5, np.float32)
    recipe = workbench.set_default_pattern("article", given)
    assert isinstance(recipe, CodeRecipe)
    assert workbench.default_recipe("article") == recipe
    assert recipe.describe() == "pattern given in code"
    np.testing.assert_array_equal(workbench.pattern(recipe)[0], given)


def test_a_pattern_set_in_code_must_fit(workbench):
    with pytest.raises(PatternError, match=r"\(4, 4\).*\(50, 50\)"):
        workbench.set_default_pattern("article", np.zeros((4, 4)))


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        (SampleRecipe("article", "digit.png"), "no sample 'digit.png'"),
        (UploadRecipe("article", "0" * 24, "x.npy"), "upload it again"),
        (CodeRecipe("article", "0" * 24), "upload it again"),
    ],
)
def test_recipes_that_name_nothing_kept_are_pattern_errors(workbench, recipe, message):
    with pytest.raises(PatternError, match=message):
        workbench.pattern(recipe)


def test_uploads_are_kept_under_their_digest(workbench):
    data = np.ones((50, 50), np.float32)
    recipe = workbench.add_upload("article", npy_bytes(data), "ones.npy")
    assert recipe == UploadRecipe("article", pattern_digest(data[np.newaxis]), "ones.npy")
    np.testing.assert_array_equal(workbench.pattern(recipe)[0], data)


def test_extraction_is_computed_once_per_model_and_pattern(workbench):
    recipe = SeedRecipe("article", 123)
    first = workbench.extraction(recipe)
    second = workbench.extraction(recipe)
    assert isinstance(first, PatternRun)
    assert (first.cached, second.cached) == (False, True)
    assert second.extraction is first.extraction
    assert first.pattern.shape == (1, 50, 50)
    assert [a.name for a in first.extraction.activations][:2] == ["dense", "my_dense"]
    assert first.extraction.outputs[0].shape == (5,)


def test_different_patterns_are_cached_apart(workbench):
    a = workbench.extraction(SeedRecipe("article", 1)).extraction
    b = workbench.extraction(SeedRecipe("article", 2)).extraction
    assert not np.array_equal(a.activations[0].array, b.activations[0].array)


def test_a_bundled_model_loaded_in_code_keeps_its_samples_and_classes(repo_models_dir):
    from layerviz import load_model

    bench = Workbench({"digits_cnn": load_model("digits_cnn")})
    entry = bench.entry("digits_cnn")
    assert entry.class_names == tuple("0123456789")
    assert "digit_3.png" in {s.name for s in entry.samples}
    assert bench.model_names.count("digits_cnn") == 1
    assert bench.default_recipe("digits_cnn") == SampleRecipe("digits_cnn", "digit_3.png")


def test_a_multi_input_model_takes_one_source_for_all_its_inputs(keras_session):
    import io

    import keras

    a, b = keras.Input((4,), name="a"), keras.Input((2, 2), name="b")
    out = keras.layers.Add()([a, keras.layers.Flatten(name="flat")(b)])
    bench = Workbench({"two": keras.Model([a, b], out, name="two")}, include_bundled=False)
    assert bench.input_text("two") == "a 4, b 2×2"

    seeded = bench.pattern(SeedRecipe("two", 3))
    assert [p.shape for p in seeded] == [(1, 4), (1, 2, 2)]
    assert len(bench.extraction(SeedRecipe("two", 3)).extraction.activations) >= 2

    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones(4), b=np.zeros((2, 2)))
    recipe = bench.add_upload("two", buffer.getvalue(), "both.npz")
    assert [p.shape for p in bench.pattern(recipe)] == [(1, 4), (1, 2, 2)]
    with pytest.raises(PatternError, match=r"one \.npz with an array named after each input"):
        bench.add_upload("two", npy_bytes(np.ones(4, np.float32)), "a.npy")

    code = bench.set_default_pattern("two", [np.zeros(4), np.ones((2, 2))])
    assert bench.default_recipe("two") == code
    np.testing.assert_array_equal(bench.pattern(code)[1], np.ones((1, 2, 2)))
    with pytest.raises(PatternError, match="give a list with one array per input"):
        bench.set_default_pattern("two", np.zeros(4))


def test_the_bundled_two_input_model_opens_with_its_sample(repo_models_dir):
    bench = Workbench()
    run = bench.extraction(bench.default_recipe("digits_meta"))
    assert [p.shape for p in run.pattern] == [(1, 16, 16, 1), (1, 16)]
    assert int(np.argmax(run.extraction.outputs[0])) == 3


def test_an_input_whose_first_axis_is_1_takes_uploads(keras_session):
    # (1, 10) is the input's own shape: nothing takes its 1 for a batch axis.
    import keras

    inputs = keras.Input((1, 10))
    model = keras.Model(inputs, keras.layers.LSTM(3)(inputs), name="one_step")
    bench = Workbench({"one_step": model}, include_bundled=False)
    recipe = bench.add_upload("one_step", npy_bytes(np.ones((1, 10), np.float32)), "step.npy")
    assert bench.pattern(recipe).shape == (1, 1, 10)
    assert isinstance(bench.set_default_pattern("one_step", np.zeros((1, 10))), CodeRecipe)


def test_token_id_models_get_integer_patterns(keras_session):
    import keras

    inputs = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(9, 4, name="embed")(inputs)
    model = keras.Model(inputs, keras.layers.LSTM(3, name="lstm")(x), name="tokens")
    bench = Workbench({"tokens": model}, include_bundled=False)
    run = bench.extraction(SeedRecipe("tokens", 5))
    assert run.pattern.dtype == np.int32
    assert run.pattern.min() >= 0 and run.pattern.max() < 9
    embedded = run.extraction.activations[0].array
    assert np.abs(embedded).sum() > 0  # ids, not float noise cast to zeros


def test_uploads_belong_to_the_session_that_made_them(workbench):
    from layerviz.ui.store import current_session

    token = current_session.set("alice-session-id-000000")
    try:
        recipe = workbench.add_upload("article", npy_bytes(np.ones((50, 50), np.float32)), "a.npy")
        assert workbench.pattern(recipe) is not None
    finally:
        current_session.reset(token)
    token = current_session.set("bob-session-id-00000000")
    try:
        with pytest.raises(PatternError, match="upload it again"):
            workbench.pattern(recipe)
    finally:
        current_session.reset(token)


# --- one source per input ------------------------------------------------------------------


@pytest.fixture(scope="module")
def meta_bench():
    from layerviz.config import MODELS_DIR_VARIABLE

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(MODELS_DIR_VARIABLE, raising=False)
        bench = Workbench()
        bench.entry("digits_meta")
    return bench


def sample_arrays(name: str) -> dict[str, np.ndarray]:
    from layerviz.load.bundled import bundled_model_of

    sample = next(s for s in bundled_model_of("digits_meta").samples if s.name == name)
    with np.load(sample.path) as held:
        return {key: held[key] for key in held.files}


def test_mixing_a_sample_image_and_a_seeded_meta_gives_each_sources_array(meta_bench):
    from layerviz import random_pattern

    m = "digits_meta"
    recipe = MultiRecipe(m, (SampleRecipe(m, "digit_3.npz"), SeedRecipe(m, 7)))
    run = meta_bench.extraction(recipe)
    image, meta = run.pattern
    np.testing.assert_array_equal(image[0], sample_arrays("digit_3.npz")["image"])
    seeded = random_pattern(meta_bench.entry(m).model, 7)
    np.testing.assert_array_equal(meta, seeded[1])  # meta of what seed 7 draws for the model
    assert not np.array_equal(meta[0], sample_arrays("digit_3.npz")["meta"])
    assert meta_bench.describe(recipe) == "image: sample digit_3.npz; meta: random pattern, seed 7"
    # Cached by the combined pattern: the whole sample is another entry, the same mix is not.
    whole = meta_bench.extraction(SampleRecipe(m, "digit_3.npz")).extraction
    assert run.extraction is not whole
    assert meta_bench.extraction(recipe).cached
    parts = [meta_bench.extraction(MultiRecipe(m, (p, p))).pattern for p in recipe.parts]
    assert [pattern_digest(p) for p in parts] == [
        pattern_digest(meta_bench.pattern(p)) for p in recipe.parts
    ]


def test_an_upload_for_one_input_replaces_that_input_only(meta_bench):
    m = "digits_meta"
    meta = np.linspace(0, 1, 16, dtype=np.float32)
    part = meta_bench.add_input_upload(m, 1, npy_bytes(meta), "meta.npy")
    assert part == UploadRecipe(m, pattern_digest(meta[np.newaxis]), "meta.npy")
    image, got = meta_bench.pattern(MultiRecipe(m, (SampleRecipe(m, "digit_8.npz"), part)))
    np.testing.assert_array_equal(got[0], meta)
    np.testing.assert_array_equal(image[0], sample_arrays("digit_8.npz")["image"])
    # A part kept for one input is not a pattern for the whole model, nor for another input.
    with pytest.raises(PatternError, match="upload it again"):
        meta_bench.pattern(part)
    with pytest.raises(PatternError, match=r"meta\.npy: the uploaded pattern is no longer kept"):
        meta_bench.pattern(MultiRecipe(m, (part, part)))


def test_an_npz_uploaded_for_all_inputs_can_give_one_of_them(meta_bench):
    import io

    m = "digits_meta"
    buffer = io.BytesIO()
    np.savez(buffer, image=np.ones((16, 16, 1)), meta=np.full(16, 0.25))
    whole = meta_bench.add_upload(m, buffer.getvalue(), "both.npz")
    image, meta = meta_bench.pattern(MultiRecipe(m, (whole, SeedRecipe(m, 1))))
    np.testing.assert_array_equal(image, np.ones((1, 16, 16, 1)))
    assert not np.array_equal(meta, np.full((1, 16), 0.25))


@pytest.mark.parametrize(
    ("index", "array", "message"),
    [
        (1, np.ones(5, np.float32), r"input 'meta': m.npy: .*\(5,\).*\(16,\)"),
        (0, np.ones((16,), np.float32), r"input 'image': m.npy: .*\(16,\).*\(16, 16, 1\)"),
        (2, np.ones(16, np.float32), "has no input 3"),
        (-1, np.ones(16, np.float32), "has no input 0"),
    ],
)
def test_a_one_input_upload_must_fit_that_input(meta_bench, index, array, message):
    with pytest.raises(PatternError, match=message):
        meta_bench.add_input_upload("digits_meta", index, npy_bytes(array), "m.npy")


def test_a_per_input_recipe_names_one_source_per_input(meta_bench):
    m = "digits_meta"
    with pytest.raises(PatternError, match="a source for 3 inputs; model 'digits_meta' has 2"):
        meta_bench.pattern(MultiRecipe(m, (SeedRecipe(m, 1),) * 3))
    with pytest.raises(PatternError, match=r"no sample 'nope\.npz'"):
        meta_bench.pattern(MultiRecipe(m, (SeedRecipe(m, 1), SampleRecipe(m, "nope.npz"))))


def test_a_single_input_model_takes_a_one_part_recipe(workbench):
    recipe = MultiRecipe("article", (SeedRecipe("article", 5),))
    np.testing.assert_array_equal(
        workbench.pattern(recipe), workbench.pattern(SeedRecipe("article", 5))
    )
    assert workbench.inputs("article") == [
        (workbench.entry("article").extractor.input_names[0], (50, 50))
    ]


def test_an_upload_over_the_session_share_is_refused_the_same_way_everywhere(article_model):
    models = {"article": article_model, "multi": make_multi_input_model()}
    bench = Workbench(models, include_bundled=False, uploads=MemoryStore(budget=10**6, share=16))
    data = npy_bytes(np.zeros((50, 50), np.float32))
    with pytest.raises(PatternError, match=r"^a\.npy: the pattern \(0\.0 MiB\) is larger than one"):
        bench.add_upload("article", data, "a.npy")
    vector = npy_bytes(np.zeros(8, np.float32))  # 32 bytes: over the 16-byte share
    with pytest.raises(PatternError, match=r"^v\.npy: the pattern .* session may keep on this"):
        bench.add_input_upload("multi", 0, vector, "v.npy")
    batch = npy_bytes(np.zeros((2, 50, 50), np.float32))
    with pytest.raises(PatternError, match=r"^b\.npy: the batch \(0\.0 MiB\) is larger than one"):
        add_batch(bench, "article", batch, "b.npy")
    bench.keep_upload("tiny", np.zeros(2, np.float32), "t.npy")  # 8 bytes: kept
    assert bench.uploads.get("local", "tiny") is not None
