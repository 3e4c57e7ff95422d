"""Read a ``.keras`` file's ``config.json`` without trusting it: bounded JSON, allowlisted objects.

Keras turns every ``{"module": ..., "class_name": ..., "config": ...}`` object in the config into
a Python object. ``safe_mode=True`` refuses the known ways to smuggle code in, and has been
bypassed again and again (CVE-2024-3660, CVE-2025-1550, CVE-2025-8747, ...). So before Keras
sees a file, :func:`walk_config` visits every object of the config, nested models included, and
allows only what a plain model of built-in layers is made of:

- a *layer* (the root object, the items of a ``layers`` list, a wrapper's ``layer``, an RNN's
  ``cell``, anything from ``keras.layers``) must be one of :data:`BUILTIN_LAYERS` or a model
  of them (:data:`MODEL_CLASSES`);
- any other object must be a public class of a Keras module in :data:`OBJECT_MODULES`
  (initializers, regularizers, ...), a built-in Keras function by name, or one of Keras' plain
  value encodings (:data:`VALUE_ENCODINGS`);
- nothing may name a module outside Keras, carry a ``registered_name`` (a custom object), or
  hold a serialized function (``__lambda__``: marshalled bytecode);
- except what a trusted package vouches for (:data:`TRUSTED_PACKAGES`, an explicit list, never
  a module prefix alone): Keras's own operation nodes (``NotEqual``, which a masked
  ``Embedding`` writes into a Functional config) and layers of ``keras.applications``
  (ConvNeXt's ``LayerScale``), and, when ``keras_hub`` is installed, the layers keras-hub
  registered under its own name. The class is imported from the installed package and must be
  defined where the config says, of the kind the package vouches for; the layer's report
  names the package (:attr:`ConfigLayer.vouched_by`).

The walk is a loop over an explicit stack, and the JSON's depth is measured before it is
parsed, so a config nested 10,000 deep is refused instead of overflowing the stack.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerviz.errors import UnsafeModelError

__all__ = [
    "BUILTIN_LAYERS",
    "CODE_LAYERS",
    "MODEL_CLASSES",
    "OBJECT_MODULES",
    "TRUSTED_PACKAGES",
    "VALUE_ENCODINGS",
    "ConfigLayer",
    "parse_config",
    "walk_config",
]

#: Built-in Keras layers that compute only what their config says (``keras.layers.<name>``).
#: Left out on purpose: ``Lambda``, ``TFSMLayer``, ``TorchModuleWrapper``, ``JaxLayer``,
#: ``FlaxLayer`` (they run code), ``StringLookup``, ``IntegerLookup``, ``TextVectorization``
#: (their vocabulary may be a path the loader reads), and the bases ``Layer`` and ``Wrapper``.
_BUILTIN_LAYER_WORDS = """
    Activation ActivityRegularization AdaptiveAveragePooling1D AdaptiveAveragePooling2D
    AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D Add
    AdditiveAttention AlphaDropout Attention Average AveragePooling1D AveragePooling2D
    AveragePooling3D AvgPool1D AvgPool2D AvgPool3D BatchNormalization Bidirectional
    CategoryEncoding CenterCrop Concatenate Conv1D Conv1DTranspose Conv2D Conv2DTranspose Conv3D
    Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D Convolution1D Convolution1DTranspose
    Convolution2D Convolution2DTranspose Convolution3D Convolution3DTranspose Cropping1D
    Cropping2D Cropping3D Dense DepthwiseConv1D DepthwiseConv2D Discretization Dot Dropout ELU
    EinsumDense Embedding Flatten GRU GRUCell GaussianDropout GaussianNoise
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalAvgPool1D
    GlobalAvgPool2D GlobalAvgPool3D GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GroupNormalization
    GroupQueryAttention Hashing HashedCrossing Identity InputLayer LSTM LSTMCell
    LayerNormalization LeakyReLU Masking MaxPool1D MaxPool2D MaxPool3D MaxPooling1D MaxPooling2D
    MaxPooling3D Maximum MelSpectrogram Minimum MultiHeadAttention Multiply Normalization PReLU
    Permute RMSNormalization RNN RandomBrightness RandomContrast RandomCrop RandomFlip
    RandomRotation RandomTranslation RandomZoom ReLU RepeatVector Rescaling Reshape Resizing
    STFTSpectrogram SeparableConv1D SeparableConv2D SeparableConvolution1D
    SeparableConvolution2D SimpleRNN SimpleRNNCell Softmax SpatialDropout1D SpatialDropout2D
    SpatialDropout3D SpectralNormalization StackedRNNCells Subtract TimeDistributed
    UnitNormalization UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D
    ZeroPadding3D
"""
BUILTIN_LAYERS = frozenset(_BUILTIN_LAYER_WORDS.split())

#: Models made of layers: what ``keras.Model(inputs, outputs)`` and ``keras.Sequential`` save.
MODEL_CLASSES = frozenset({"Functional", "Sequential"})

#: Layers refused by name wherever they appear, and why (the reason ends the message).
CODE_LAYERS = {
    "Lambda": "runs arbitrary code",
    "TFSMLayer": "loads and runs a TensorFlow SavedModel from a path",
    "TorchModuleWrapper": "runs a pickled PyTorch module",
    "JaxLayer": "runs arbitrary JAX code",
    "FlaxLayer": "runs arbitrary Flax code",
    "StringLookup": "may read its vocabulary from a file path",
    "IntegerLookup": "may read its vocabulary from a file path",
    "TextVectorization": "may read its vocabulary from a file path",
}

#: Public Keras modules whose classes may appear inside a layer's config (not as layers).
OBJECT_MODULES = frozenset(
    {
        "keras",
        "keras.constraints",
        "keras.dtype_policies",
        "keras.initializers",
        "keras.losses",
        "keras.metrics",
        "keras.optimizers",
        "keras.optimizers.schedules",
        "keras.regularizers",
    }
)

#: Classes allowed from the top-level ``keras`` module (the rest are not config values).
_KERAS_TOP_CLASSES = frozenset({"DTypePolicy", "FloatDTypePolicy"})

#: Modules whose functions a config may name (``"activation": {"class_name": "function", ...}``).
_FUNCTION_MODULES = ("activations", "losses", "metrics")

#: Keras' encodings of plain values (tensors in a graph, tuples, arrays): data, not code.
VALUE_ENCODINGS = frozenset(
    {"__keras_tensor__", "__tuple__", "__numpy__", "__ellipsis__", "__slice__", "__bytes__"}
)

#: Keys under which a layer's config holds another layer.
_LAYER_KEYS = frozenset({"layer", "forward_layer", "backward_layer", "cell", "cells", "layers"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


#: Packages whose own classes a config may name beyond the built-in layers, and where: the
#: module namespaces each vouches for, and the kind of class it vouches for there.
TRUSTED_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "keras": (("keras.src.ops.", "operation"), ("keras.src.applications.", "layer")),
    "keras_hub": (("keras_hub.src.", "registered layer"),),
}


@dataclass(frozen=True)
class ConfigLayer:
    """A layer named in the config: ``path`` is ``"backbone/conv1"`` for a nested model's layer.

    ``vouched_by`` names the trusted package whose own class it is (``"keras"`` for an
    operation node or an application's layer, ``"keras_hub"``), or None for a built-in layer.
    """

    path: str
    class_name: str
    vouched_by: str | None = None


def parse_config(data: bytes, max_depth: int) -> dict:
    """The JSON object in ``config.json``, refused when nested deeper than ``max_depth``.

    Raises:
        UnsafeModelError: not UTF-8, not JSON, too deep, or not an object.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeModelError("config.json is not UTF-8 text") from None
    depth = _json_depth(text)
    if depth > max_depth:
        raise UnsafeModelError(
            f"config.json is nested {depth} levels deep; at most {max_depth} are allowed"
        )
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: bad JSON or an int of 5000 digits
        raise UnsafeModelError(f"config.json is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise UnsafeModelError(f"config.json holds a {type(config).__name__}, not an object")
    return config


def _json_depth(text: str) -> int:
    """How deep brackets nest in ``text``, strings skipped; found without recursion."""
    bare = _STRING.sub("", text).encode("utf-8")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def walk_config(config: dict) -> list[ConfigLayer]:
    """Check every object in a parsed config and list its layers, nested models' included.

    Returns:
        The layers in config order, each with its path (``"backbone/conv1"``); the root
        model itself is not listed.

    Raises:
        UnsafeModelError: the first object that is not allowed, naming its layer and why.
    """
    layers: list[ConfigLayer] = []
    for value, where, layer_slot, owner in _objects(config):
        path = _join(where, _layer_name(value))
        kind = _check_object(value, layer_slot, path, owner)
        if kind.startswith("layer"):
            _check_name(value)
        if kind.startswith("layer") and value is not config:
            vouched = kind.partition(":")[2] or None
            layers.append(ConfigLayer(path, value["class_name"], vouched))
    return layers


#: Layer names TensorFlow's name scopes and Graphviz's HTML labels both take: Keras accepts
#: ``my conv`` or ``a<b``, then the graph rebuild fails (TensorFlow refuses the space) or
#: ``--plot-model`` crashes (Keras writes names into HTML labels unescaped).
_NAME = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]*")


def _check_name(value: dict) -> None:
    inner = value.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if name is None or (isinstance(name, str) and _NAME.fullmatch(name)):
        return
    shown = str(name)[:100]
    bad = sorted({c for c in shown if not (c.isascii() and (c.isalnum() or c in "._-"))})
    what = ", ".join("a space" if c == " " else repr(c) for c in bad) or "nothing"
    raise UnsafeModelError(
        f"layer {shown!r} ({str(value.get('class_name'))[:100]}): its name has {what}, which "
        "TensorFlow's name scopes or Graphviz refuse; rename it with letters, digits, "
        "'_', '.' and '-' only"
    )


def _objects(config: dict) -> Iterator[tuple[dict, str, bool, str]]:
    """Every dict with a ``class_name``: (object, enclosing model path, is a layer, owner).

    ``owner`` is the path of the nearest layer around the object, for messages. A stack keeps
    the walk free of recursion; children are pushed in reverse so layers come in config order.
    """
    stack: list[tuple[Any, str, bool, str]] = [(config, "", True, "")]
    while stack:
        value, where, layer_slot, owner = stack.pop()
        if isinstance(value, list):
            stack.extend((item, where, layer_slot, owner) for item in reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        inner_where, inner_owner = where, owner
        if "class_name" in value:
            yield value, where, layer_slot, owner
            if layer_slot:
                inner_owner = _join(where, _layer_name(value))
                if value.get("class_name") in MODEL_CLASSES and value is not config:
                    inner_where = inner_owner  # a nested model's layers get its prefix
        children = [
            (child, inner_where, key in _LAYER_KEYS, inner_owner) for key, child in value.items()
        ]
        stack.extend(reversed(children))


def _join(where: str, name: str) -> str:
    return f"{where}/{name}" if where else name


def _layer_name(value: dict) -> str:
    inner = value.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    return str(name if name is not None else value.get("name", "?"))[:100]


def _check_object(value: dict, layer_slot: bool, path: str, owner: str) -> str:
    """Refuse an object that is not allowed; return its kind ("layer", "value", "object")."""
    class_name = value.get("class_name")
    shown = str(class_name)[:100]
    label = f"layer {path!r} ({shown})" if layer_slot else f"{shown} in layer {owner!r}"
    if not isinstance(class_name, str):
        raise UnsafeModelError(f"{label}: 'class_name' should be a string, got {class_name!r}")
    if class_name in CODE_LAYERS:
        raise UnsafeModelError(
            f"{label} {CODE_LAYERS[class_name]}; layerviz loads built-in layers only"
        )
    if class_name.startswith("__"):
        return _check_encoding(value, class_name, label)
    vouched = _vouched_by(value) if layer_slot else None
    if vouched is not None:
        return f"layer:{vouched}"
    registered = value.get("registered_name")
    if registered is not None and registered != class_name and class_name != "function":
        raise UnsafeModelError(
            f"{label} is a registered custom object ({registered!r}); "
            "layerviz loads built-in layers only"
        )
    module = value.get("module")
    if module is not None and not (isinstance(module, str) and _is_keras_module(module)):
        raise UnsafeModelError(
            f"{label} names module {module!r}, which is outside Keras; "
            "layerviz loads built-in layers only"
        )
    if class_name == "function":
        _check_function(value, module, label)
        return "object"
    if layer_slot or module == "keras.layers":
        _check_layer(class_name, module, label)
        return "layer"
    _check_public_class(class_name, module, label)
    return "object"


def _vouched_by(value: dict) -> str | None:
    """The trusted package whose own class this layer slot names, or None.

    The module must lie in a namespace the package vouches for (:data:`TRUSTED_PACKAGES`), the
    package must be installed, and the class found there must be defined in that module and be
    of the kind vouched for: a Keras operation that is no layer; a Keras application's layer;
    a layer keras-hub registered under ``keras_hub>Name``. Importing is safe: the module is
    part of an installed, trusted package, named by an exact dotted path.
    """
    module, class_name = value.get("module"), value.get("class_name")
    registered = value.get("registered_name")
    if not (isinstance(module, str) and isinstance(class_name, str)):
        return None
    package = module.partition(".")[0]
    kinds = [k for space, k in TRUSTED_PACKAGES.get(package, ()) if module.startswith(space)]
    if not kinds or class_name.startswith("_") or class_name in CODE_LAYERS:
        return None
    if importlib.util.find_spec(package) is None:
        return None
    try:
        found = getattr(importlib.import_module(module), class_name, None)
    except ImportError:
        return None
    if not isinstance(found, type) or found.__module__ != module:
        return None
    return package if _is_kind(found, kinds[0], registered, class_name) else None


def _is_kind(found: type, kind: str, registered: Any, class_name: str) -> bool:
    import keras

    is_layer = issubclass(found, keras.layers.Layer)
    if kind == "operation":
        return issubclass(found, keras.Operation) and not is_layer and registered == class_name
    if kind == "layer":
        return is_layer and registered in (None, class_name)
    # keras-hub's registered layers: the name must lead to this very class
    return (
        is_layer
        and registered == f"keras_hub>{class_name}"
        and keras.saving.get_registered_object(registered) is found
    )


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _check_encoding(value: dict, class_name: str, label: str) -> str:
    if class_name == "__lambda__":
        raise UnsafeModelError(
            f"{label} holds a serialized Python function (marshalled bytecode); "
            "layerviz loads built-in layers only"
        )
    if class_name not in VALUE_ENCODINGS or value.get("module") is not None:
        raise UnsafeModelError(
            f"{label}: {class_name!r} is not one of Keras' plain value encodings "
            f"({', '.join(sorted(VALUE_ENCODINGS))})"
        )
    return "value"


def _check_layer(class_name: str, module: str | None, label: str) -> None:
    if class_name in MODEL_CLASSES:
        if (
            module is None
            or module in ("keras", "keras.models")
            or module.startswith("keras.src.models.")
        ):
            return
    elif class_name in BUILTIN_LAYERS and module in (None, "keras.layers"):
        return
    raise UnsafeModelError(
        f"{label} is not a built-in Keras layer (from module {module!r}); "
        "layerviz loads built-in layers only"
    )


def _check_function(value: dict, module: str | None, label: str) -> None:
    """A function by name: only Keras' own activations, losses and metrics."""
    import keras  # the public API is the allowlist: what keras.activations.<name> names

    name = value.get("config")
    registered = value.get("registered_name")
    allowed = module in (None, "builtins") or module in {f"keras.{m}" for m in _FUNCTION_MODULES}
    # Keras looks a function up by ``registered_name`` when one is given: it must be the name.
    allowed = allowed and registered in (None, name)
    found = isinstance(name, str) and any(
        callable(getattr(getattr(keras, m), name, None))
        for m in _FUNCTION_MODULES
        if not name.startswith("_")
    )
    if not (allowed and found):
        raise UnsafeModelError(
            f"{label} names function {str(name)[:100]!r} from {module!r}, which is not a "
            "built-in Keras activation, loss or metric; layerviz loads built-in layers only"
        )


#: Where Keras on PyTorch (and others) defines its optimizers: a compiled model saved there
#: names ``keras.src.backend.torch.optimizers.torch_adam.Adam``, the backend's own subclass of
#: the public ``keras.optimizers.Adam``; read as that public class.
_BACKEND_OPTIMIZERS = re.compile(
    r"keras\.src\.backend\.(?:tensorflow|jax|torch)\.optimizers(?:\.\w+)?"
)


def _check_public_class(class_name: str, module: str | None, label: str) -> None:
    """A non-layer object: a public class of one of :data:`OBJECT_MODULES`."""
    import keras

    if isinstance(module, str) and _BACKEND_OPTIMIZERS.fullmatch(module):
        module = "keras.optimizers"
    found = None
    if module in OBJECT_MODULES and not class_name.startswith("_"):
        if module == "keras":
            found = getattr(keras, class_name, None) if class_name in _KERAS_TOP_CLASSES else None
        else:
            namespace = keras
            for part in module.split(".")[1:]:
                namespace = getattr(namespace, part)
            found = getattr(namespace, class_name, None)
    if not isinstance(found, type):
        raise UnsafeModelError(
            f"{label} refers to {module}.{class_name}, which is not a class layerviz allows "
            f"in a config (public classes of {', '.join(sorted(OBJECT_MODULES))})"
        )
