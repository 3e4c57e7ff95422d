"""Check a model file from a stranger before Keras sees it, then load it once in a sandbox.

A ``.keras`` file is code as much as data: Keras has shipped a string of ``safe_mode`` bypasses.
:func:`check_model_file` is the one gate the dashboard, the CLI (``layerviz check``) and the
library (:func:`layerviz.load_model`) share. In order:

1. **size**: at most ``max_bytes`` (100 MB by default), refused before reading past it;
2. **format**: HDF5 (``.h5``) and SavedModel files are refused with a sentence saying to save
   as ``.keras``;
3. **zip**: member count, sizes and compression ratio bounded (zip bombs), only the members a
   ``.keras`` file has, no absolute or ``..`` paths, nothing encrypted;
4. **config**: ``config.json`` bounded in size and depth and walked whole against an allowlist
   of built-in layers (:mod:`layerviz.load.modelconfig`);
5. **canary** (optional): the file is loaded with ``safe_mode=True, compile=False`` and run once
   on zeros in a *spawned* child with CPU, memory and wall-clock limits
   (:mod:`layerviz.load.canary`); a child that dies, hangs or hits a limit is a refusal.

Every refusal is an :class:`~layerviz.errors.UnsafeModelError` naming the reason. This module
does not import Keras; the config walk imports it only to read its public allowlists.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from layerviz.errors import ModelLoadError, UnsafeModelError
from layerviz.load.canary import run_canary
from layerviz.load.modelconfig import ConfigLayer, parse_config, walk_config
from layerviz.load.modelzip import (
    ALLOWED_MEMBERS,
    check_central_directory,
    check_members,
    read_member,
)

__all__ = [
    "ALLOWED_MEMBERS",
    "MAX_MODEL_BYTES",
    "CheckLimits",
    "InputInfo",
    "ModelReport",
    "check_model_file",
]

#: The default cap on a model file's size: 100 MB.
MAX_MODEL_BYTES = 100 * 1000 * 1000

#: The members a ``.keras`` file has (besides ``assets/...``).

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MIB = 1024 * 1024


@dataclass(frozen=True)
class CheckLimits:
    """The bounds :func:`check_model_file` enforces; every one can be changed.

    Attributes:
        max_bytes: the largest model file accepted.
        max_members: the most zip members (a ``.keras`` file has three, plus assets).
        max_uncompressed_bytes: the most bytes all members may expand to together.
        max_ratio: the largest uncompressed / compressed ratio of a member over 1 MiB.
        max_config_bytes: the largest ``config.json``.
        max_config_depth: how deep ``config.json`` may nest (a big ResNet is about 12).
        canary_timeout_s: wall-clock seconds the canary child may take, TensorFlow's start
            included.
        canary_cpu_s: CPU seconds the child may use (``RLIMIT_CPU``).
        canary_memory_bytes: address space the child may add after importing TensorFlow
            (``RLIMIT_AS``).
        canary_activation_bytes: what one pattern's layer outputs may take together, read
            from the loaded model's output shapes (a 42 kB model with an ``UpSampling2D(16)``
            asks for gigabytes per page view; ``$LAYERVIZ_ACTIVATION_MB`` sets it).
        canary_open_s: seconds the model's first compiled pass may take in the canary: what
            opening it costs here (a 20 kB ``SimpleRNN`` unrolled over 4,000 steps runs
            eagerly in 20 s but took 113 s to open); ``$LAYERVIZ_OPEN_S`` sets it.
    """

    max_bytes: int = MAX_MODEL_BYTES
    max_members: int = 64
    max_uncompressed_bytes: int = 1024 * _MIB
    max_ratio: float = 100.0
    max_config_bytes: int = 8 * _MIB
    max_config_depth: int = 100
    canary_timeout_s: float = 120.0
    canary_cpu_s: int = 120
    canary_memory_bytes: int = 2048 * _MIB
    canary_activation_bytes: int = field(
        default_factory=lambda: int(os.environ.get("LAYERVIZ_ACTIVATION_MB", "512")) * _MIB
    )
    canary_open_s: float = field(
        default_factory=lambda: float(os.environ.get("LAYERVIZ_OPEN_S", "30"))
    )


@dataclass(frozen=True)
class InputInfo:
    """One model input: its ``Input`` name, shape without the batch axis, and dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str


@dataclass(frozen=True)
class ModelReport:
    """What the checks found in a model file that passed them.

    Attributes:
        file_name: the file's name (``"upload"`` for bytes without one).
        size_bytes: the file's size.
        model_name: the model's own name, from its config.
        model_class: ``"Functional"`` or ``"Sequential"``.
        keras_version: the Keras version that saved it (``metadata.json``), or None.
        layers: every layer in config order, nested models' layers as ``"backbone/conv1"``.
        inputs: the model's inputs (from the config; the canary's when it ran).
        parameters: the number of weights, counted by the canary (None when it did not run).
        canary_seconds: how long the canary took, or None.
    """

    file_name: str
    size_bytes: int
    model_name: str
    model_class: str
    keras_version: str | None
    layers: tuple[ConfigLayer, ...]
    inputs: tuple[InputInfo, ...]
    parameters: int | None = None
    canary_seconds: float | None = None
    outputs: tuple[tuple[int | None, ...], ...] = field(default=())

    def lines(self, all_layers: bool = False) -> list[str]:
        """The report as lines of text for people (``layerviz check`` prints them).

        Args:
            all_layers: list every layer (``layerviz check --layers``); by default one line
                counts the layers by class, most common first (MobileNetV2 has 156 layers).
        """
        size = (
            f"{self.size_bytes / 1e6:.2f} MB"
            if self.size_bytes >= 1e5
            else (f"{self.size_bytes / 1e3:.1f} kB")
        )
        params = "not counted" if self.parameters is None else f"{self.parameters:,}"
        out = [
            f"{self.file_name}: passed ({size}, saved by Keras {self.keras_version or '?'})",
            f"model: {self.model_name} ({self.model_class}), {len(self.layers)} layers, "
            f"parameters: {params}",
        ]
        for item in self.inputs:
            shape = "x".join("?" if d is None else str(d) for d in item.shape) or "scalar"
            out.append(f"input {item.name}: {shape} {item.dtype}")
        if self.canary_seconds is not None:
            out.append(f"canary: loaded and ran on zeros in a child in {self.canary_seconds:.1f} s")
        if all_layers:
            out.extend(
                f"  {layer.path} ({layer.class_name}"
                + (f", vouched for by {layer.vouched_by})" if layer.vouched_by else ")")
                for layer in self.layers
            )
        else:
            counts = Counter(layer.class_name for layer in self.layers)
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            out.append("layers: " + ", ".join(f"{n} {name}" for name, n in ranked))
            vouched = sorted(
                {(la.vouched_by, la.class_name) for la in self.layers if la.vouched_by}
            )
            for package in sorted({p for p, _ in vouched}):
                names = ", ".join(c for p, c in vouched if p == package)
                out.append(f"not built-in layers, vouched for by {package}: {names}")
            out.append("(--layers lists every layer)")
        return out


def check_model_file(
    path_or_bytes: str | os.PathLike[str] | bytes,
    max_bytes: int = MAX_MODEL_BYTES,
    *,
    limits: CheckLimits | None = None,
    canary: bool = True,
    file_name: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ModelReport:
    """Check a model file without trusting it; with ``canary=True`` also load it in a child.

    Args:
        path_or_bytes: a file path, or the file's bytes (an upload).
        max_bytes: the size cap (overrides ``limits.max_bytes``).
        limits: the other bounds (:class:`CheckLimits`' defaults when None).
        canary: also load and run the model once in a spawned, limited child process.
        file_name: the name to use in messages for bytes (default ``"upload"``).
        on_step: told ``"file"`` as the static checks begin and ``"sandbox"`` as the canary
            begins (:func:`layerviz.load.canary_queue.report_step` for a queued check).

    Returns:
        A :class:`ModelReport`; ``parameters`` is filled in by the canary.

    Raises:
        UnsafeModelError: the file is refused, with the reason.
        ModelLoadError: a path that cannot be opened.
    """
    limits = replace(limits or CheckLimits(), max_bytes=max_bytes)
    if on_step is not None:
        on_step("file")
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data, name = bytes(path_or_bytes), file_name or "upload"
        report = _check_handle(io.BytesIO(data), len(data), name, limits)
    else:
        path = Path(path_or_bytes)
        name = file_name or path.name
        with _open_regular(path, limits) as handle:
            size = os.fstat(handle.fileno()).st_size
            report = _check_handle(handle, size, name, limits)
            if not canary:
                return report
            # The canary loads the very bytes that were checked, not the path again.
            handle.seek(0)
            data = handle.read(limits.max_bytes + 1)
        _check_size(len(data), name, limits.max_bytes)
    if not canary:
        return report
    if on_step is not None:
        on_step("sandbox")
    return _with_canary(report, run_canary(data, limits))


def _with_canary(report: ModelReport, found: dict) -> ModelReport:
    """The report with what the canary measured on the loaded model."""
    inputs = tuple(
        InputInfo(str(i["name"]), tuple(i["shape"]), str(i["dtype"])) for i in found["inputs"]
    )
    return replace(
        report,
        inputs=inputs,
        parameters=int(found["parameters"]),
        canary_seconds=float(found["seconds"]),
        outputs=tuple(tuple(shape) for shape in found["outputs"]),
    )


def _open_regular(path: Path, limits: CheckLimits) -> IO[bytes]:
    """Open a regular file no larger than the cap, without blocking on a FIFO or a device."""
    if path.is_dir():
        raise UnsafeModelError(_saved_model_hint(path.name, "a directory (a SavedModel?)"))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ModelLoadError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise UnsafeModelError(f"{path.name}: not a regular file; give a .keras model file")
    try:
        _check_size(info.st_size, path.name, limits.max_bytes)
    except UnsafeModelError:
        handle.close()
        raise
    return handle


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise UnsafeModelError(
            f"{name} is {size / 1e6:.1f} MB; model files of at most "
            f"{max_bytes / 1e6:.1f} MB are accepted"
        )


def _saved_model_hint(name: str, what: str) -> str:
    return (
        f"{name} is {what}; layerviz reads only the .keras format: load it in Keras and "
        "save it again with model.save('model.keras')"
    )


def _check_handle(handle: IO[bytes], size: int, name: str, limits: CheckLimits) -> ModelReport:
    """Every static check on an open file of ``size`` bytes."""
    _check_size(size, name, limits.max_bytes)
    head = handle.read(8)
    handle.seek(0)
    if head.startswith(_HDF5_SIGNATURE):
        raise UnsafeModelError(_saved_model_hint(name, "an HDF5 (.h5) model"))
    if name.endswith((".h5", ".hdf5")):
        raise UnsafeModelError(_saved_model_hint(name, "an .h5 file"))
    if name.endswith(".pb"):
        raise UnsafeModelError(_saved_model_hint(name, "a SavedModel"))
    check_central_directory(handle, size, name, limits.max_members)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnsafeModelError(f"{name} is not a readable .keras (zip) file: {exc}") from None
    with archive:
        members = check_members(archive, name, limits)
        config_bytes = read_member(archive, members["config.json"], limits.max_config_bytes, name)
        version = _keras_version(archive, members.get("metadata.json"), name)
    try:
        config = parse_config(config_bytes, limits.max_config_depth)
        layers = walk_config(config)
    except UnsafeModelError as exc:
        raise UnsafeModelError(f"{name}: {exc}") from None
    return ModelReport(
        file_name=name,
        size_bytes=size,
        model_name=_text(config.get("config", {}).get("name") if _is_dict(config) else None),
        model_class=_text(config.get("class_name")),
        keras_version=version,
        layers=tuple(layers),
        inputs=_config_inputs(config),
    )


def _keras_version(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, name: str):
    """The ``keras_version`` in ``metadata.json``, or None when it has none."""
    if info is None:
        return None
    try:
        meta = json.loads(read_member(archive, info, 64 * 1024, name))
    except (ValueError, RecursionError):
        raise UnsafeModelError(f"{name}: metadata.json is not valid JSON") from None
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    return version[:40] if isinstance(version, str) else None


def _config_inputs(config: dict) -> tuple[InputInfo, ...]:
    """The root model's ``InputLayer`` names and shapes, as the config declares them."""
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    found = []
    for layer in layers if isinstance(layers, list) else []:
        if not (_is_dict(layer) and layer.get("class_name") == "InputLayer"):
            continue
        conf = layer.get("config") if _is_dict(layer.get("config")) else {}
        shape = conf.get("batch_shape") or [None]
        dims = (
            tuple(d if isinstance(d, int) else None for d in shape[1:])
            if isinstance(shape, list)
            else ()
        )
        found.append(InputInfo(_text(conf.get("name")), dims, _text(conf.get("dtype"))))
    return tuple(found)


def _is_dict(value) -> bool:
    return isinstance(value, dict)


def _text(value) -> str:
    return str(value)[:100] if isinstance(value, str) else "?"
