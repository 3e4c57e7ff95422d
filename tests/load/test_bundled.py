"""Tests for layerviz.load.bundled and the models bundled in ``models/``.

Each bundled model is loaded once for the module (safe mode, no compile); the tests only
run inference on the sample patterns, they never train.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from layerviz import config
from layerviz.errors import ModelLoadError, PatternError
from layerviz.load.bundled import (
    DEFAULT_MODEL,
    BundledModel,
    bundled_model_of,
    class_names,
    get_bundled,
    list_models,
    resolve_model_path,
)
from layerviz.patterns.readers import read_pattern, read_patterns

EXPECTED = ["digits_cnn", "article_dense", "digits_meta", "signals_conv1d", "signals_transformer"]
AVAILABLE = "bundled: article_dense, digits_cnn, digits_meta, signals_conv1d, signals_transformer"
REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
MAX_MODEL_BYTES = 2 * 1024 * 1024

# Collected straight from the repo's JSON files, whatever LAYERVIZ_MODELS_DIR says.
SAMPLES = [
    (name, entry["file"])
    for name in EXPECTED
    for entry in json.loads((REPO_MODELS / f"{name}.json").read_text(encoding="utf-8"))["samples"]
]


pytestmark = pytest.mark.usefixtures("repo_models_dir")


@pytest.fixture(scope="module")
def loaded():
    """Every bundled model, loaded once, safely: name -> keras.Model."""
    import keras

    return {
        m.name: keras.saving.load_model(m.path, safe_mode=True, compile=False)
        for m in list_models()
    }


# --- the bundled files --------------------------------------------------------------------


def test_a_checkout_reads_its_own_models_folder(monkeypatch):
    monkeypatch.delenv(config.MODELS_DIR_VARIABLE)
    # Run from a checkout (no layerviz/_models inside the package), the repo's models/ is read.
    assert not (Path(config.__file__).parent / "_models").exists()
    assert config.models_dir().resolve() == REPO_MODELS.resolve()
    assert [m.name for m in list_models()] == EXPECTED


def test_a_bundled_model_is_found_by_name_and_by_path():
    by_name = bundled_model_of("digits_cnn")
    assert by_name is not None and by_name.name == "digits_cnn"
    assert bundled_model_of(REPO_MODELS / "digits_cnn.keras").name == "digits_cnn"
    assert bundled_model_of("digits_cnn.keras").name == "digits_cnn"
    assert bundled_model_of("/elsewhere/digits_cnn.keras") is None
    assert bundled_model_of("nope") is None


def test_list_models_order_and_contents():
    models = list_models()
    assert [m.name for m in models] == EXPECTED
    assert models[0].name == DEFAULT_MODEL
    for m in models:
        assert isinstance(m, BundledModel)
        assert m.path == REPO_MODELS / f"{m.name}.keras"
        assert m.path.is_file()
        assert m.path.stat().st_size < MAX_MODEL_BYTES
        assert m.title and m.description and m.input_scaling and m.trained_on
        assert m.classes and all(isinstance(c, str) for c in m.classes)
        assert m.accuracy is not None and 0.95 <= m.accuracy <= 1.0
        assert m.samples, f"{m.name} has no sample patterns"
        assert m.default_sample in {s.name for s in m.samples}
        assert m.default_sample_path is not None and m.default_sample_path.is_file()
        assert m.card_path == REPO_MODELS / f"{m.name}.md"
        assert (REPO_MODELS / f"train_{m.name}.py").is_file()


def test_metadata_json_matches_dataclass():
    for m in list_models():
        meta = json.loads((REPO_MODELS / f"{m.name}.json").read_text(encoding="utf-8"))
        assert meta["name"] == m.name
        assert tuple(meta["input_shape"]) == m.input_shape == m.inputs[0].shape
        listed = meta.get("inputs") or [{"name": None, "shape": meta["input_shape"]}]
        assert [(i["name"], tuple(i["shape"])) for i in listed] == [
            (i.name, i.shape) for i in m.inputs
        ]
        assert tuple(meta["classes"]) == m.classes
        assert [s["file"] for s in meta["samples"]] == [s.name for s in m.samples]


def test_expected_shapes_and_samples():
    digits, article, digits_meta, signals, transformer = (get_bundled(n) for n in EXPECTED)
    assert [(i.name, i.shape) for i in digits_meta.inputs] == [
        ("image", (16, 16, 1)),
        ("meta", (16,)),
    ]
    assert digits_meta.default_sample == "digit_3.npz"
    assert all(s.name.endswith(".npz") for s in digits_meta.samples)
    assert digits.input_shape == (32, 32, 1)
    assert digits.classes == tuple("0123456789")
    assert digits.default_sample == "digit_3.png"
    assert {"digit_0.png", "digit_3.png", "digit_7.png"} <= {s.name for s in digits.samples}
    assert any(s.name.endswith(".npy") for s in digits.samples)
    assert article.input_shape == (50, 50)
    assert len(article.classes) == 5
    assert signals.input_shape == (128, 1)
    assert signals.classes == ("sine", "square", "sawtooth", "noise")
    assert {s.name for s in signals.samples} >= {"sine.npy", "square.npy", "sawtooth.csv"}
    assert transformer.input_shape == signals.input_shape
    assert transformer.classes == signals.classes
    assert [s.name for s in transformer.samples] == [s.name for s in signals.samples]


def test_article_random_pattern_is_the_articles():
    sample = get_bundled("article_dense").sample("random.npy")
    want = np.random.default_rng(0).random((50, 50), dtype=np.float32)
    np.testing.assert_array_equal(np.load(sample.path), want)


def test_digit_pngs_are_8bit_greyscale_32x32():
    from PIL import Image

    for s in get_bundled("digits_cnn").samples:
        if s.name.endswith(".png"):
            with Image.open(s.path) as img:
                assert (img.mode, img.size) == ("L", (32, 32))


# --- the loaded models ----------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED)
def test_model_loads_safely_with_its_json_shape(loaded, name):
    model = loaded[name]
    meta = get_bundled(name)
    assert model.name == name
    assert [tuple(t.shape[1:]) for t in model.inputs] == [i.shape for i in meta.inputs]
    if len(meta.inputs) > 1:
        assert [t.name for t in model.inputs] == [i.name for i in meta.inputs]
    assert model.outputs[0].shape[-1] == len(meta.classes)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "Lambda" not in kinds


def test_article_dense_layer_names_and_shapes(loaded):
    model = loaded["article_dense"]
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["dense", "my_dense", "dense_1", "dense_2", "flatten", "dense_3"]
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert shapes == [(50, 75), (50, 50), (50, 25), (50, 10), (500,), (5,)]


def test_conv_layers_are_named(loaded):
    for name in ("digits_cnn", "signals_conv1d"):
        layer_names = {layer.name for layer in loaded[name].layers}
        assert {"conv1", "conv2", "conv3"} <= layer_names
    assert tuple(loaded["digits_cnn"].get_layer("conv1").output.shape[1:]) == (32, 32, 16)
    assert tuple(loaded["signals_conv1d"].get_layer("conv1").output.shape[1:]) == (128, 16)


def test_transformer_shows_its_attention_heads_on_the_first_page(loaded):
    """The attention view is on the first screen: the default sample, the default grid."""
    from layerviz.draw.grid import GridSettings, grid_pages
    from layerviz.extract.activations import ActivationExtractor

    meta = get_bundled("signals_transformer")
    sample = meta.sample(meta.default_sample)
    x = read_pattern(sample.path.read_bytes(), sample.name, meta.input_shape)
    activations = ActivationExtractor(loaded["signals_transformer"]).extract(x)

    (scores,) = [a for a in activations if a.role == "attention"]
    assert (scores.name, scores.shape) == ("mha:attention", (4, 32, 32))
    np.testing.assert_allclose(scores.array.sum(axis=-1), 1.0, atol=1e-5)
    first = grid_pages(activations, GridSettings()).page(1)
    assert [p.title for p in first if p.is_attention] == [
        f"3: mha:attention head {h}" for h in range(4)
    ]


@pytest.mark.parametrize(("name", "sample_name"), SAMPLES)
def test_sample_reads_and_is_predicted_as_its_label(loaded, name, sample_name):
    meta = get_bundled(name)
    sample = meta.sample(sample_name)
    data = sample.path.read_bytes()
    if len(meta.inputs) == 1:
        x = read_pattern(data, sample.name, meta.input_shape)
        assert x.shape == (1, *meta.input_shape)
        assert x.dtype == np.float32
    else:
        x = read_patterns(
            data, sample.name, [i.name for i in meta.inputs], [i.shape for i in meta.inputs]
        )
        assert [a.shape for a in x] == [(1, *i.shape) for i in meta.inputs]
    probs = keras.ops.convert_to_numpy(loaded[name](x, training=False))[0]
    assert probs.shape == (len(meta.classes),)
    if sample.label is not None:
        assert meta.classes[int(probs.argmax())] == sample.label, probs.round(3)


def test_digit_three_png_is_read_as_three(loaded):
    sample = get_bundled("digits_cnn").sample("digit_3.png")
    x = read_pattern(sample.path.read_bytes(), sample.name, (32, 32, 1))
    assert x.min() >= 0.0 and x.max() <= 1.0
    probs = keras.ops.convert_to_numpy(loaded["digits_cnn"](x, training=False))[0]
    assert int(probs.argmax()) == 3


# --- names, paths, errors -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["nope", "nope.keras", "", "../digits_cnn", "models/x.keras"])
def test_unknown_names_raise_listing_the_bundled_ones(name):
    with pytest.raises(ModelLoadError) as info:
        resolve_model_path(name)
    assert AVAILABLE in str(info.value)
    if name:
        with pytest.raises(ModelLoadError, match=AVAILABLE.removeprefix("bundled: ")):
            get_bundled(name)


def test_resolve_message_is_exact():
    with pytest.raises(ModelLoadError) as info:
        resolve_model_path("x")
    assert str(info.value) == f"no model file or bundled model named 'x'; {AVAILABLE}"


@pytest.mark.parametrize("name", EXPECTED)
def test_resolve_by_name_with_or_without_suffix(name):
    want = REPO_MODELS / f"{name}.keras"
    assert resolve_model_path(name) == want
    assert resolve_model_path(f"{name}.keras") == want
    assert get_bundled(f"{name}.keras").name == name


def test_resolve_existing_file_wins(tmp_path, monkeypatch):
    model_file = tmp_path / "digits_cnn.keras"  # same name as a bundled one: the file wins
    model_file.write_bytes(b"not really a model")
    assert resolve_model_path(model_file) == model_file
    assert resolve_model_path(str(model_file)) == model_file
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("digits_cnn.keras") == Path("digits_cnn.keras")
    with pytest.raises(ModelLoadError, match="directory"):
        resolve_model_path(tmp_path)


def test_class_names():
    assert class_names("digits_cnn") == tuple("0123456789")
    assert class_names("signals_conv1d.keras") == ("sine", "square", "sawtooth", "noise")
    assert class_names(REPO_MODELS / "article_dense.keras") == get_bundled("article_dense").classes
    assert class_names("nope") is None
    assert class_names("/nowhere/model.keras") is None


def test_unknown_sample_raises():
    with pytest.raises(PatternError, match=r"digit_3\.png"):
        get_bundled("digits_cnn").sample("digit_42.png")


# --- another models folder ------------------------------------------------------------------


def _fake_bundle(folder: Path, name: str, meta: dict | str, samples=()) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.keras").write_bytes(b"zip")
    text = meta if isinstance(meta, str) else json.dumps(meta)
    (folder / f"{name}.json").write_text(text, encoding="utf-8")
    for file_name in samples:
        (folder / "patterns" / name).mkdir(parents=True, exist_ok=True)
        (folder / "patterns" / name / file_name).write_bytes(b"x")


def test_env_var_overrides_models_dir(tmp_path, monkeypatch):
    meta = {
        "name": "b",
        "title": "B",
        "input_shape": [3],
        "classes": [],
        "samples": [
            {"file": "s.npy", "label": None, "description": "d"},
            {"file": "gone.npy", "label": "1", "description": "missing"},
        ],
        "default_sample": "gone.npy",
    }
    _fake_bundle(tmp_path, "b", meta, samples=["s.npy"])
    _fake_bundle(tmp_path, "a", {"input_shape": [2, 2], "accuracy": None})
    _fake_bundle(tmp_path, "digits_cnn", {"input_shape": [1]})
    (tmp_path / "orphan.keras").write_bytes(b"zip")  # no JSON: not bundled
    _fake_bundle(tmp_path, "broken", "{not json")
    monkeypatch.setenv("LAYERVIZ_MODELS_DIR", str(tmp_path))

    with pytest.warns(UserWarning) as record:
        models = list_models()
    assert [m.name for m in models] == ["digits_cnn", "a", "b"]
    messages = " ".join(str(w.message) for w in record)
    assert "broken" in messages and "gone.npy" in messages

    b = models[2]
    assert b.input_shape == (3,) and b.classes == () and b.accuracy is None
    assert [s.name for s in b.samples] == ["s.npy"]
    assert b.samples[0].label is None
    assert b.default_sample == "s.npy"  # the named default is missing: first sample instead
    assert b.card_path is None
    assert models[1].default_sample is None and models[1].default_sample_path is None
    with pytest.warns(UserWarning, match="gone.npy"):
        assert class_names("b") is None

    with pytest.raises(ModelLoadError, match=r"broken\.json"):
        get_bundled("broken")
    with pytest.raises(ModelLoadError, match="bundled: a, b, broken, digits_cnn"):
        resolve_model_path("orphan")


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        ({"input_shape": "28x28"}, "input_shape"),
        ({"input_shape": [28, 0]}, "input_shape"),
        ({"input_shape": [2], "classes": [1, 2]}, "classes"),
        ({"input_shape": [2], "accuracy": "high"}, "accuracy"),
        ({"input_shape": [2], "samples": [{"file": "../../etc/passwd"}]}, "plain file name"),
        ({"input_shape": [2], "title": 3}, "title"),
        ([1, 2], "JSON object"),
    ],
)
def test_malformed_metadata_is_a_model_load_error(tmp_path, monkeypatch, meta, problem):
    _fake_bundle(tmp_path, "m", meta)
    monkeypatch.setenv("LAYERVIZ_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelLoadError, match=problem):
        get_bundled("m")


def test_missing_models_dir_lists_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERVIZ_MODELS_DIR", str(tmp_path / "absent"))
    assert list_models() == []
    with pytest.raises(ModelLoadError, match="bundled: none"):
        resolve_model_path("digits_cnn")
