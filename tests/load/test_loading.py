"""Tests for layerviz.load.loading.load_model: bundled names, paths, and every way a load can
fail."""

from __future__ import annotations

import io
import re
import zipfile

import keras
import numpy as np
import pytest

from layerviz.errors import LayervizError, ModelLoadError, UnsafeModelError
from layerviz.load.loading import load_model

pytestmark = pytest.mark.usefixtures("repo_models_dir")

BUNDLED_LIST = "bundled: article_dense, digits_cnn, digits_meta, signals_conv1d"


def lambda_model() -> keras.Model:
    inputs = keras.Input((3,), name="x")
    outputs = keras.layers.Lambda(lambda t: t * 2, name="double")(inputs)
    return keras.Model(inputs, outputs, name="with_lambda")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- what loads ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["article_dense", "article_dense.keras"])
def test_load_bundled_by_name(name, keras_session):
    model = load_model(name)
    assert isinstance(model, keras.Model)
    assert tuple(model.inputs[0].shape) == (None, 50, 50)


def test_load_by_path_str_and_pathlib(article_model, saved_article_model, article_pattern):
    for path in (saved_article_model, str(saved_article_model)):
        model = load_model(path)
        assert [layer.name for layer in model.layers] == [
            layer.name for layer in article_model.layers
        ]
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(model(article_pattern)),
            keras.ops.convert_to_numpy(article_model(article_pattern)),
            atol=1e-6,
        )


def test_loaded_model_is_not_compiled(keras_session, tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "compiled.keras"
    model.save(path)
    assert not load_model(path).compiled


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"])
def test_legacy_h5_is_refused_with_what_to_do(suffix, keras_session, tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")], name="old")
    path = tmp_path / f"old{suffix}"
    model.save(tmp_path / "old.h5")
    (tmp_path / "old.h5").rename(path)
    with pytest.raises(
        UnsafeModelError, match=r"HDF5 \(\.h5\) model.*model\.save\('model\.keras'\)"
    ):
        load_model(path)


# --- what does not ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["no_such_model", "no_such_model.keras", "missing/dir/model.keras", ""]
)
def test_missing_model_lists_the_bundled_ones(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError) as info:
        load_model(name)
    assert BUNDLED_LIST in str(info.value)
    if name:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("suffix", [".txt", ".npy", ".json", ""])
def test_wrong_suffix(suffix, tmp_path, saved_article_model):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(saved_article_model.read_bytes())  # a real model, under another name
    with pytest.raises(ModelLoadError, match=re.escape(f"got {suffix!r}")) as info:
        load_model(path)
    assert ".keras" in str(info.value)


def test_directory_is_not_a_model(tmp_path):
    folder = tmp_path / "saved_model"
    folder.mkdir()
    with pytest.raises(ModelLoadError, match="is a directory"):
        load_model(folder)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(np.random.default_rng(0).bytes(4096), id="random-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(zip_bytes({"hello.txt": b"not a model"}), id="zip-without-model"),
        pytest.param(zip_bytes({"config.json": b"{not json"}), id="zip-bad-config"),
        pytest.param(
            zip_bytes({"config.json": b'{"class_name": "NoSuchLayer", "config": {}}'}),
            id="zip-unknown-class",
        ),
    ],
)
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_corrupt_file(content, suffix, tmp_path):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=re.escape(path.name)):
        load_model(path)


def test_truncated_keras_file(saved_article_model, tmp_path):
    data = saved_article_model.read_bytes()
    path = tmp_path / "truncated.keras"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsafeModelError, match=r"truncated\.keras is not a \.keras \(zip\) file"):
        load_model(path)


def test_lambda_layer_is_refused_before_keras_sees_it(keras_session, tmp_path):
    path = tmp_path / "lambda.keras"
    lambda_model().save(path)
    with pytest.raises(UnsafeModelError) as info:
        load_model(path)
    assert isinstance(info.value, ModelLoadError) and isinstance(info.value, LayervizError)
    assert str(info.value) == (
        "lambda.keras: layer 'double' (Lambda) runs arbitrary code; "
        "layerviz loads built-in layers only"
    )


def test_a_keras_file_that_is_no_zip_says_so(tmp_path):
    # Keras itself reports "File not found" for a file that is right there.
    path = tmp_path / "junk.keras"
    path.write_bytes(b"definitely not a zip")
    with pytest.raises(ModelLoadError, match=r"not a \.keras \(zip\) file"):
        load_model(path)
