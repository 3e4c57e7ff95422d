"""Tests for layerviz.load.modelcheck, modelconfig and canary: hostile files built here, each
refused with its own reason, and good models accepted.

The static checks run in-process (fast). The canary tests start
``python -m layerviz.load.canary_child``
children (a few seconds each, TensorFlow's start-up included), so they share fixtures.
"""

from __future__ import annotations

import importlib.util
import io
import json
import resource
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from tiny_models import BUILDERS, REPO_MODELS

from layerviz.errors import LayervizError, ModelLoadError, UnsafeModelError
from layerviz.extract.activations import ActivationExtractor
from layerviz.load.loading import load_model
from layerviz.load.modelcheck import CheckLimits, ModelReport, check_model_file
from layerviz.load.modelconfig import BUILTIN_LAYERS, CODE_LAYERS
from layerviz.patterns.inputs import random_pattern

layers = keras.layers


# --- building files --------------------------------------------------------------------------


def saved_bytes(model: keras.Model, tmp_path: Path) -> bytes:
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    return path.read_bytes()


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def with_config(data: bytes, change) -> bytes:
    """``data`` with its config.json replaced by ``change(config)`` (edited in place)."""
    members = members_of(data)
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    return zip_of(members)


def layer_config(config: dict, name: str) -> dict:
    return next(item for item in config["config"]["layers"] if item["config"]["name"] == name)


def small_model() -> keras.Model:
    inputs = keras.Input((6,), name="x")
    x = layers.Dense(4, activation="relu", name="hidden")(inputs)
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="small")


def resnet_style() -> keras.Model:
    """Two residual blocks: ``Add`` joins a conv branch and the shortcut."""
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    for block in (1, 2):
        y = layers.Conv2D(8, 3, padding="same", activation="relu", name=f"b{block}_conv1")(x)
        y = layers.BatchNormalization(name=f"b{block}_bn")(y)
        y = layers.Conv2D(8, 3, padding="same", name=f"b{block}_conv2")(y)
        x = layers.Add(name=f"b{block}_add")([x, y])
        x = layers.Activation("relu", name=f"b{block}_out")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, name="logits")(x), name="resnet_style")


def refused(data, match: str, **kwargs) -> UnsafeModelError:
    kwargs.setdefault("canary", False)
    with pytest.raises(UnsafeModelError, match=match) as info:
        check_model_file(data, **kwargs)
    assert isinstance(info.value, ModelLoadError) and isinstance(info.value, LayervizError)
    return info.value


@pytest.fixture
def small_bytes(keras_session, tmp_path) -> bytes:
    return saved_bytes(small_model(), tmp_path)


# --- good models -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_test_model_passes_the_static_check(kind, build_model, tmp_path):
    model = build_model(kind)
    report = check_model_file(saved_bytes(model, tmp_path), canary=False, file_name="m.keras")
    assert isinstance(report, ModelReport)
    assert report.model_name == model.name
    assert report.parameters is None and report.canary_seconds is None
    names = {layer.path.split("/")[-1] for layer in report.layers}
    assert {layer.name for layer in model.layers} <= names


def test_report_of_a_bundled_model_saved_again(keras_session, tmp_path):
    model = keras.saving.load_model(REPO_MODELS / "digits_cnn.keras", compile=False)
    data = saved_bytes(model, tmp_path)
    report = check_model_file(data, canary=False, file_name="digits.keras")
    assert report.file_name == "digits.keras" and report.size_bytes == len(data)
    assert (report.model_name, report.model_class) == ("digits_cnn", "Functional")
    assert report.keras_version == keras.__version__
    assert [layer.path for layer in report.layers][:3] == ["input_layer", "conv1", "pool1"]
    assert [(i.shape, i.dtype) for i in report.inputs] == [((32, 32, 1), "float32")]
    text = "\n".join(report.lines(all_layers=True))
    assert "digits.keras: passed" in text and "conv1 (Conv2D)" in text
    assert "layers: 3 Conv2D, 3 MaxPooling2D," in "\n".join(report.lines())


def test_nested_layers_are_listed_with_their_model_path(build_model, tmp_path):
    report = check_model_file(saved_bytes(build_model("nested"), tmp_path), canary=False)
    paths = [layer.path for layer in report.layers]
    assert "backbone/conv1" in paths and "head/probs" in paths and "dropout" in paths


def test_allowlist_names_real_keras_layers_and_none_that_run_code():
    for name in BUILTIN_LAYERS:
        assert issubclass(getattr(layers, name), layers.Layer), name
    assert not BUILTIN_LAYERS & set(CODE_LAYERS)
    assert {"Layer", "Wrapper"}.isdisjoint(BUILTIN_LAYERS)


def test_a_path_is_checked_like_bytes(saved_article_model):
    report = check_model_file(saved_article_model, canary=False)
    assert report.file_name == "article.keras"
    assert report.size_bytes == saved_article_model.stat().st_size


# --- hostile files: code -----------------------------------------------------------------------


def test_lambda_with_marshalled_bytecode(keras_session, tmp_path):
    inputs = keras.Input((3,), name="x")
    outputs = layers.Lambda(lambda t: t * 2, name="lambda_1")(inputs)
    data = saved_bytes(keras.Model(inputs, outputs), tmp_path)
    assert b"__lambda__" in members_of(data)["config.json"]  # the bytecode is in there
    error = refused(data, "Lambda")
    assert str(error) == (
        "upload: layer 'lambda_1' (Lambda) runs arbitrary code; layerviz loads built-in layers only"
    )


def test_lambda_in_a_sequential_in_a_functional(keras_session, tmp_path):
    inner = keras.Sequential(
        [keras.Input((4,)), layers.Dense(4, name="d"), layers.Lambda(lambda t: t, name="sneaky")],
        name="inner",
    )
    inputs = keras.Input((4,), name="x")
    data = saved_bytes(keras.Model(inputs, layers.Dense(1, name="out")(inner(inputs))), tmp_path)
    refused(data, r"^upload: layer 'inner/sneaky' \(Lambda\) runs arbitrary code")


def test_serialized_function_outside_a_lambda(small_bytes):
    def sneak(config):
        code = {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}
        layer_config(config, "hidden")["config"]["activation"] = {
            "class_name": "__lambda__",
            "config": code,
        }

    refused(with_config(small_bytes, sneak), "serialized Python function")


@keras.saving.register_keras_serializable(package="evil")
class Custom(layers.Layer):
    def call(self, x):
        return x


def test_registered_custom_layer(keras_session, tmp_path):
    inputs = keras.Input((3,), name="x")
    data = saved_bytes(keras.Model(inputs, Custom(name="custom")(inputs)), tmp_path)
    refused(data, r"layer 'custom' \(Custom\) is a registered custom object \('evil>Custom'\)")


def test_tfsm_layer_named_in_a_config(small_bytes):
    def swap(config):
        layer = layer_config(config, "hidden")
        layer["class_name"] = "TFSMLayer"
        layer["config"] = {"name": "hidden", "filepath": "/tmp/saved", "call_endpoint": "serve"}

    refused(with_config(small_bytes, swap), r"'hidden' \(TFSMLayer\) loads and runs a TensorFlow")


@pytest.mark.parametrize("module", ["os", "subprocess"])
def test_module_outside_keras_as_a_layer(small_bytes, module):
    def point(config):
        layer = layer_config(config, "hidden")
        layer["module"], layer["class_name"] = module, "system"

    refused(with_config(small_bytes, point), f"names module '{module}', which is outside Keras")


def test_module_outside_keras_inside_a_layer(small_bytes):
    def point(config):
        layer_config(config, "hidden")["config"]["kernel_initializer"] = {
            "module": "subprocess",
            "class_name": "Popen",
            "config": {"args": ["touch", "/tmp/pwned"]},
            "registered_name": None,
        }

    refused(with_config(small_bytes, point), "Popen in layer 'hidden' names module 'subprocess'")


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"module": "keras.utils", "class_name": "get_file", "config": {}}, "not a class"),
        ({"module": "keras.layers", "class_name": "Layer", "config": {}}, "not a built-in"),
        (
            {"module": "keras.activations", "class_name": "function", "config": "exec"},
            "not a built-in Keras activation",
        ),
        ({"class_name": "__typespec__", "config": {}}, "plain value encodings"),
    ],
)
def test_keras_objects_off_the_allowlist(small_bytes, obj, reason):
    def put(config):
        layer_config(config, "hidden")["config"]["kernel_initializer"] = obj

    refused(with_config(small_bytes, put), reason)


def test_builtin_function_by_name_is_allowed(small_bytes):
    def put(config):
        layer_config(config, "hidden")["config"]["activation"] = {
            "module": "keras.activations",
            "class_name": "function",
            "config": "gelu",
            "registered_name": "gelu",
        }

    check_model_file(with_config(small_bytes, put), canary=False)


# --- hostile files: the container ------------------------------------------------------------


def test_zip_bomb(small_bytes):
    members = members_of(small_bytes)
    members["model.weights.h5"] = bytes(64 * 1024 * 1024)  # deflates about 1000 times
    refused(zip_of(members, zipfile.ZIP_DEFLATED), r"expands \d+ times .*zip bomb")


def test_total_expansion_is_bounded(small_bytes):
    members = members_of(small_bytes)
    members["assets/big"] = bytes(2 * 1024 * 1024)
    limits = CheckLimits(max_uncompressed_bytes=1024 * 1024)
    refused(zip_of(members), "expands to more than", limits=limits)


def test_ten_thousand_members(small_bytes):
    members = members_of(small_bytes)
    members.update({f"assets/{i}": b"" for i in range(10_000)})
    refused(zip_of(members), "has 10003 zip members")


@pytest.mark.parametrize("member", ["../evil.py", "assets/../../etc/cron.d/x", "/etc/passwd"])
def test_member_paths_outside_the_archive(small_bytes, member):
    members = members_of(small_bytes)
    members[member] = b"x"
    data = zip_of(members)
    assert member.encode() in data  # zipfile kept the name as given
    refused(data, "unsafe path")


def test_member_a_keras_file_does_not_have(small_bytes):
    members = members_of(small_bytes)
    members["payload.pkl"] = b"x"
    refused(zip_of(members), "holds 'payload.pkl'; a .keras file holds only")


def test_fifty_megabyte_config(small_bytes):
    members = members_of(small_bytes)
    config = json.loads(members["config.json"])
    config["padding"] = "x" * (50 * 1000 * 1000)
    members["config.json"] = json.dumps(config).encode()
    refused(zip_of(members), r"config.json is 50.0 MB; at most 8.4 MB")


@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_config_nested_ten_thousand_deep(small_bytes, bracket):
    members = members_of(small_bytes)
    open_, close = bracket
    key = '"a":' if open_ == "{" else ""
    members["config.json"] = ((open_ + key) * 10_000 + "1" + close * 10_000).encode()
    refused(zip_of(members), "nested 10000 levels deep; at most 100")


def test_h5_renamed_keras(keras_session, tmp_path):
    path = tmp_path / "old.h5"
    small_model().save(path)
    renamed = tmp_path / "old.keras"
    path.rename(renamed)
    error = refused(renamed, r"HDF5 \(.h5\) model")
    assert "save it again with model.save('model.keras')" in str(error)


def test_saved_model_directory(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    refused(folder, "a directory .*SavedModel.*model.save")


def test_truncated_zip(small_bytes):
    refused(small_bytes[: len(small_bytes) // 2], "truncated")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no zip directory"),
        (b"just text", "no zip directory"),
        (zip_of({"metadata.json": b"{}"}), "no config.json"),
        (zip_of({"config.json": b"[1, 2]"}), "holds a list, not an object"),
        (zip_of({"config.json": b"\xff\xfe"}), "not UTF-8"),
        (zip_of({"config.json": b"{nope"}), "not valid JSON"),
    ],
)
def test_malformed_files(data, reason):
    refused(data, reason)


def test_size_cap_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.keras"
    with path.open("wb") as handle:
        handle.truncate(200 * 1000 * 1000)  # sparse: 200 MB long, nothing written
    refused(path, r"big.keras is 200.0 MB; model files of at most 100.0 MB")
    refused(b"x" * 2000, "at most 0.0 MB", max_bytes=1000)


def test_a_fifo_is_not_read(tmp_path):
    import os

    fifo = tmp_path / "pipe.keras"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file")  # and it did not block


def test_missing_path_is_a_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot read model file"):
        check_model_file(tmp_path / "absent.keras", canary=False)


# --- the canary: a spawned child with limits ---------------------------------------------------


def terabyte_weights(data: bytes) -> bytes:
    """``data`` with a weights file whose first kernel declares 4 TB and holds nothing."""
    members = members_of(data)
    store = io.BytesIO()
    with h5py.File(store, "w") as h5:
        h5.create_dataset("layers/dense/vars/0", shape=(10**12,), dtype="f4", chunks=(1024,))
    members["model.weights.h5"] = store.getvalue()
    return zip_of(members)


def huge_dense(data: bytes) -> bytes:
    """``data`` whose hidden layer needs about 1.2 GB of weights once built."""

    def grow(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 20_000]
        layer_config(config, "hidden")["config"]["units"] = 15_000
        layer_config(config, "hidden")["build_config"]["input_shape"] = [None, 20_000]
        layer_config(config, "out")["build_config"]["input_shape"] = [None, 15_000]

    return with_config(data, grow)


@pytest.mark.slow
def test_canary_accepts_a_bundled_model_and_a_resnet(keras_session, tmp_path):
    bundled = keras.saving.load_model(REPO_MODELS / "digits_cnn.keras", compile=False)
    for model in (bundled, resnet_style()):
        report = check_model_file(saved_bytes(model, tmp_path))
        assert report.parameters == model.count_params()
        assert report.canary_seconds > 0
        assert [i.shape for i in report.inputs] == [tuple(model.inputs[0].shape[1:])]
        assert report.outputs == (tuple(model.outputs[0].shape[1:]),)
        assert any(layer.class_name == "Add" for layer in report.layers) == (model is not bundled)


@pytest.mark.slow
def test_canary_refuses_weights_that_declare_terabytes(small_bytes):
    data = terabyte_weights(small_bytes)
    check_model_file(data, canary=False)  # the static check cannot see inside HDF5
    refused(data, r"declares 4000.0 GB of weights", canary=True)


@pytest.mark.slow
def test_canary_memory_limit_stops_the_child_not_the_parent(small_bytes):
    before = resource.getrlimit(resource.RLIMIT_AS)
    limits = CheckLimits(canary_memory_bytes=256 * 1024 * 1024)
    refused(huge_dense(small_bytes), "256 MiB memory limit", canary=True, limits=limits)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    # The parent is unaffected: it still checks and builds models.
    assert check_model_file(small_bytes, canary=False).model_name == "small"
    assert small_model().count_params() == 6 * 4 + 4 + 4 * 2 + 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (CheckLimits(canary_cpu_s=1), "used more than 1 s of CPU"),
        (CheckLimits(canary_timeout_s=0.5), "did not finish within 0.5 s; it was stopped"),
    ],
)
def test_canary_cpu_and_wall_clock_limits(small_bytes, limits, reason):
    refused(small_bytes, reason, canary=True, limits=limits)


def test_canary_reports_a_child_that_exits_without_a_result():
    import subprocess

    from layerviz.load.canary import _result_of

    limits = CheckLimits()
    died = subprocess.CompletedProcess([], -9, b"", b"")
    with pytest.raises(UnsafeModelError, match=r"crashed \(SIGKILL\).*memory limit"):
        _result_of(died, limits)
    failed = subprocess.CompletedProcess([], 1, b"noise\n", b"Traceback\nImportError: x\n")
    with pytest.raises(UnsafeModelError, match=r"exited with code 1 \(ImportError: x\)"):
        _result_of(failed, limits)


def test_huge_weights_pass_the_static_check_by_design(small_bytes):
    """What the static check can see: the zip's real sizes, not HDF5's declared shapes."""
    assert check_model_file(huge_dense(small_bytes), canary=False).model_name == "small"
    np.testing.assert_equal(len(terabyte_weights(small_bytes)) < 100_000, True)


def test_a_busy_server_refuses_instead_of_starting_more_children(small_bytes, monkeypatch):
    import threading

    from layerviz.load import canary

    monkeypatch.setattr(canary, "_running", threading.BoundedSemaphore(1))
    canary._running.acquire()  # every slot taken by "other uploads"
    limits = CheckLimits(canary_timeout_s=0.1)
    refused(small_bytes, "the server is busy checking 2 other models", canary=True, limits=limits)


def test_child_signals_are_reasons():
    import signal

    from layerviz.load.canary import _signal_reason

    limits = CheckLimits(canary_cpu_s=7)
    assert "more than 7 s of CPU" in _signal_reason(signal.SIGXCPU, limits)
    assert "larger than 16 MiB" in _signal_reason(signal.SIGXFSZ, limits)
    assert "killed by SIGTERM" in _signal_reason(signal.SIGTERM, limits)


def weights_reaching_out(data: bytes, how: str) -> bytes:
    """``data`` whose weights file reads another file: an external link, external storage, or
    a virtual dataset (HDF5's three ways), built with h5py as an attacker would."""
    members = members_of(data)
    store = io.BytesIO()
    with h5py.File(store, "w") as h5:
        if how == "link":
            h5["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd.h5", "/x")
        elif how == "storage":
            h5.create_dataset("layers/dense/vars/0", shape=(4,), dtype="f4",
                              external=[("/etc/passwd", 0, 16)])  # fmt: skip
        else:
            layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
            layout[:] = h5py.VirtualSource("/etc/other.h5", "x", shape=(4,))
            h5.create_virtual_dataset("layers/dense/vars/0", layout)
    members["model.weights.h5"] = store.getvalue()
    return zip_of(members)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("link", "is an HDF5 external link to another file"),
        ("storage", "uses HDF5 external storage"),
        ("virtual", "is an HDF5 virtual dataset"),
    ],
)
def test_canary_says_which_way_weights_reach_outside_the_file(small_bytes, how, reason):
    """Issue 25, row 9: all three read "SystemError: FastRLock.__exit__ returned a result…"."""
    error = refused(weights_reaching_out(small_bytes, how), reason, canary=True)
    assert "SystemError" not in str(error) and "layers/dense/vars/0" in str(error)


# --- classes a trusted package vouches for (issue 25, row 13) ---------------------------------


def masked_text_model() -> keras.Model:
    """A masked Embedding: Keras writes the mask's ``NotEqual`` op node into config.json."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(30, 4, mask_zero=True, name="emb")(tokens)
    return keras.Model(tokens, layers.LSTM(3, name="lstm")(x), name="masked")


def layer_scale_model() -> keras.Model:
    """ConvNeXt's block end: its ``LayerScale`` lives in ``keras.src.applications.convnext``
    (the test builds it from there; keras.applications.ConvNeXtTiny saves 112 MB)."""
    from keras.src.applications.convnext import LayerScale

    inputs = keras.Input((4, 4, 8), name="x")
    x = LayerScale(1e-6, 8, name="scale")(layers.Conv2D(8, 1, name="conv")(inputs))
    return keras.Model(inputs, x, name="convnext_block")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "vouched"),
    [(masked_text_model, ("not_equal", "NotEqual")), (layer_scale_model, ("scale", "LayerScale"))],
)
def test_keras_own_classes_are_vouched_for_by_keras(keras_session, tmp_path, build, vouched):
    data = saved_bytes(build(), tmp_path)
    report = check_model_file(data, canary=True, file_name="m.keras")
    found = {(la.path, la.class_name): la.vouched_by for la in report.layers}
    assert found[vouched] == "keras"
    assert {v for k, v in found.items() if k != vouched} == {None}  # built-in layers: no one
    assert f"vouched for by keras: {vouched[1]}" in "\n".join(report.lines())
    # And it opens and extracts, as Keras itself loads it with safe_mode=True.
    path = tmp_path / "m.keras"
    path.write_bytes(data)
    model = load_model(path)
    activations = ActivationExtractor(model).extract(random_pattern(model, seed=0))
    assert activations and all(np.all(np.isfinite(a.array)) for a in activations)


@pytest.mark.parametrize(
    ("module", "class_name", "registered"),
    [
        ("keras.src.ops.numpy", "NotEqual", "Evil"),  # a registered name that is not the class
        ("keras.src.ops.numpy", "Lambda", "Lambda"),  # a code layer by name
        ("keras.src.ops.numpy", "not_equal", "not_equal"),  # a function, not an operation
        ("keras.src.ops.numpy", "Dense", "Dense"),  # not defined in that module
        ("keras.src.saving.serialization_lib", "SafeModeScope", "SafeModeScope"),  # elsewhere
        ("keras.src.applications.convnext", "LayerScale", "x>LayerScale"),
        ("keras_hub.src.layers", "Anything", "keras_hub>Anything"),  # no keras_hub here
        ("keras.src.opsevil", "NotEqual", "NotEqual"),  # a prefix is not a namespace
    ],
)
def test_nothing_else_is_vouched_for(small_bytes, module, class_name, registered):
    def plant(config):
        hidden = layer_config(config, "hidden")
        hidden.update(module=module, class_name=class_name, registered_name=registered)

    if module.startswith("keras_hub") and importlib.util.find_spec("keras_hub") is not None:
        pytest.skip("keras_hub is installed here: its own registry decides")
    refused(with_config(small_bytes, plant), "layerviz loads built-in layers only")


@pytest.mark.slow
def test_canary_refuses_a_tiny_model_whose_outputs_take_gigabytes(keras_session, tmp_path):
    """Issue 25, row 1: a 42 kB model with 66 parameters took a server from 0.6 to 3.3 GiB."""
    inputs = keras.Input((64, 64, 1), name="x")
    x = layers.Conv2D(24, 1, name="conv")(layers.UpSampling2D(16, name="up")(inputs))
    for i in range(8):
        x = layers.ReLU(name=f"relu{i}")(x)
    data = saved_bytes(keras.Model(inputs, x, name="wide"), tmp_path)
    check_model_file(data, canary=False)  # nothing static says so
    expected = (1024 * 1024 * 1 + 1024 * 1024 * 24 * 9) * 4 / 1e9  # up, conv, 8 ReLUs
    refused(
        data,
        rf"one pattern's layer outputs take {expected:.1f} GB; this server allows 512 MB",
        canary=True,
        limits=CheckLimits(canary_activation_bytes=512 * 2**20),
    )


def test_canary_refuses_a_model_whose_first_compiled_pass_is_too_slow(keras_session, tmp_path):
    """Issue 25, row 1: a 20 kB ``SimpleRNN`` unrolled over 4,000 steps passed the canary in
    20 s (eagerly) and took 113 s to open (traced). The canary now times the compiled pass and
    stops it at its budget; a small model's pass fits well inside the same budget."""
    inputs = keras.Input((400, 2), name="seq")
    x = layers.SimpleRNN(4, unroll=True, name="rnn")(inputs)
    slow = saved_bytes(keras.Model(inputs, layers.Dense(2, name="out")(x), name="slow"), tmp_path)
    limits = CheckLimits(canary_open_s=0.5)
    refused(
        slow,
        r"opening the model \(its first compiled pass\) took more than 0\.5 s in the sandbox; "
        r"this server allows 0\.5 s \(LAYERVIZ_OPEN_S\)",
        canary=True,
        limits=limits,
    )
    inputs = keras.Input((4,), name="x")
    quick = saved_bytes(keras.Model(inputs, layers.Dense(2, name="out")(inputs)), tmp_path)
    assert check_model_file(quick, canary=True, limits=CheckLimits(canary_open_s=10)).parameters


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("keras.src.backend.torch.optimizers.torch_adam", True),  # Keras on PyTorch saves this
        ("keras.optimizers", True),
        ("keras.src.backend.torch.optimizers.evil", True),  # the name alone, then keras' class
        ("keras.src.backend.torch.nn", False),
        ("os", False),
    ],
)
def test_an_optimizer_saved_on_another_backend_reads_as_keras_optimizers(module, allowed):
    from layerviz.load.modelconfig import walk_config

    compiled = {
        "class_name": "Sequential",
        "config": {"name": "m", "layers": []},
        "compile_config": {
            "optimizer": {"module": module, "class_name": "Adam", "config": {}},
        },
    }
    if allowed:
        assert walk_config(compiled) == []
    else:
        with pytest.raises(UnsafeModelError, match=r"not a class layerviz allows|outside Keras"):
            walk_config(compiled)
