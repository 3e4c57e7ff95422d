"""A recorded run on disk: one folder, one HDF5 file per record, each written whole then renamed.

::

    runs/exp1/
        run.h5               the header: model config, versions, probe patterns and their source,
                             the layer table (names, classes, shapes, strides); written once
        records/00000.h5     record 0 (before the first epoch), then one per recorded epoch
        records/00001.h5     (or every N batches): reduced maps (float16), per-channel
        ...                  statistics, weight norms, the epoch's logs

Why a file per record: HDF5 does not journal its metadata, so a process killed while it writes
into a file can leave that whole file unreadable, earlier groups included. Here a record is
built in memory, written to ``records/.NNNNN.h5.partial``, flushed to disk, then renamed into place
(``os.replace`` is atomic on POSIX): a run killed mid-write loses only the record it was writing,
and the leftover ``.partial`` file is ignored. Nothing already written is ever opened for writing
again (append-only), and a folder holds one run (two runs never share a file).

A record file that is in place but cannot be read (copied half-way, a disk error) makes
:class:`Run` raise :class:`~layerviz.errors.RunError` naming the last good epoch, or, with
``salvage=True``, read the run up to it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from layerviz.errors import RunError

__all__ = [
    "FORMAT",
    "LayerRecord",
    "Record",
    "RunHeader",
    "RunWriter",
    "is_run",
]

#: What ``run.h5``'s ``format`` attribute says; a folder whose header lacks it is no run.
FORMAT = "layerviz-run"
FORMAT_VERSION = 1
HEADER = "run.h5"
RECORDS = "records"
_STAT_NAMES = ("minimum", "maximum", "total", "total_sq", "zeros", "nonfinite")
# Byte shuffle then gzip level 4: float16 maps of ReLU layers (many exact zeros) and the
# statistics (counts held as float64) shrink about 2x, for about a millisecond per record on
# digits_cnn (bench/recorder.py).
_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


@dataclass(frozen=True)
class LayerInfo:
    """One layer output of the run: as ``ActivationExtractor.layers`` lists it, with its shapes.

    Attributes:
        index, name, class_name: as in :class:`~layerviz.extract.activations.LayerActivation`.
        shape: the full output's shape without the batch axis.
        stride: every ``stride``-th position along the spatial axes is kept in the maps.
        positions: values per channel per pattern in the full output (the statistics' count).
    """

    index: int
    name: str
    class_name: str
    shape: tuple[int, ...]
    stride: int
    positions: int


@dataclass(frozen=True, eq=False)
class RunHeader:
    """What a run records once, at its start.

    Attributes:
        model_name: the model's name.
        model_config: ``model.get_config()`` as JSON text.
        versions: ``{"layerviz": ..., "keras": ..., "backend": ...}``.
        probe: the probe patterns, one array ``(n, *input_shape)`` per model input.
        probe_source: where the probe came from, for people.
        probe_labels: one short label per pattern (a sample's file name, ``seed 3``).
        layers: the recorded layer outputs, in model order.
        weight_paths: the model's weight variables (``conv1/kernel``), in the order the records'
            ``weight_norms`` list their norms.
        settings: how the run records (``every``, ``every_batches``, ``max_side``).
        created: when the run began (ISO 8601, UTC).
    """

    model_name: str
    model_config: str
    versions: dict[str, str]
    probe: list[np.ndarray]
    probe_source: str
    probe_labels: list[str]
    layers: list[LayerInfo]
    weight_paths: list[str]
    settings: dict[str, object]
    created: str

    @property
    def n_patterns(self) -> int:
        """How many probe patterns every record holds."""
        return int(self.probe[0].shape[0])


@dataclass(frozen=True, eq=False)
class LayerRecord:
    """One layer output of one record: the probe batch's reduced maps and statistics.

    Attributes:
        maps: ``(n, ...reduced..., channels)`` float16 (as ``ReducedLayer.maps``).
        minimum, maximum, total, total_sq, zeros, nonfinite: ``(n, channels)``, per pattern and
            channel over every position of the full output.
    """

    maps: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    zeros: np.ndarray
    nonfinite: np.ndarray


@dataclass(frozen=True, eq=False)
class Record:
    """One moment of training: after epoch ``epoch`` (0: before training), or within it.

    Attributes:
        number: the record's place in the run, from 0.
        epoch: completed epochs when it was taken (Keras' epoch + 1 at an epoch's end).
        batch: batches done in the running epoch, for records taken every N batches; None at
            an epoch's end.
        logs: the epoch's (or batch's) logs, e.g. ``{"loss": 0.31, "accuracy": 0.9}``.
        layers: one :class:`LayerRecord` per entry of the header's ``layers``.
        weight_norms: the L2 norm of each variable of the header's ``weight_paths``.
    """

    number: int
    epoch: int
    batch: int | None
    logs: dict[str, float]
    layers: list[LayerRecord]
    weight_norms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def label(self) -> str:
        """``"epoch 3"``, or ``"epoch 3 · batch 40"`` within an epoch."""
        return f"epoch {self.epoch}" + (f" · batch {self.batch}" if self.batch is not None else "")


def is_run(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` holds a layerviz run's header."""
    header = Path(folder) / HEADER
    if not header.is_file():
        return False
    try:
        with h5py.File(header, "r") as f:
            return f.attrs.get("format") == FORMAT
    except OSError:
        return False


class RunWriter:
    """Writes one run into a new or empty folder, record by record.

    Args:
        folder: created if missing.

    Raises:
        RunError: the folder holds something already (another run, or other files).
        OSError: the folder cannot be created.
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        _check_empty(self.folder)
        (self.folder / RECORDS).mkdir(parents=True, exist_ok=True)
        self.n_records = 0
        self.header: RunHeader | None = None

    def write_header(self, header: RunHeader) -> None:
        """Write ``run.h5`` (once, before the first record)."""
        _atomic_h5(self.folder / HEADER, lambda f: _write_header(f, header))
        self.header = header

    def append(self, record: Record) -> Path:
        """Write one record as the run's next file; returns its path.

        Raises:
            RunError: the header was not written first, or the record's number is not the next.
            OSError: the disk is full or the folder unwritable (nothing is left in place).
        """
        if self.header is None:
            raise RunError("a run's header is written before its first record")
        if record.number != self.n_records:
            raise RunError(f"record {record.number} arrived where record {self.n_records} goes")
        if len(record.layers) != len(self.header.layers):
            raise RunError(
                f"the record holds {len(record.layers)} layers; the run's header lists "
                f"{len(self.header.layers)}"
            )
        path = self.folder / RECORDS / record_name(record.number)
        _atomic_h5(path, lambda f: _write_record(f, record))
        self.n_records += 1
        return path


def record_name(number: int) -> str:
    """The file name of record ``number`` in ``records/``."""
    return f"{number:05d}.h5"


# --- writing ---------------------------------------------------------------------------------


def _check_empty(folder: Path) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise RunError(f"{folder} is a file, not a folder for a run")
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return
    if is_run(folder):
        raise RunError(
            f"{folder} holds a recorded run already; two runs never share a folder: "
            "give the recorder a new one"
        )
    shown = ", ".join(entries[:5]) + (f", ... ({len(entries)} in all)" if len(entries) > 5 else "")
    raise RunError(
        f"{folder} holds other files ({shown}), not a layerviz run; a run is written into a new "
        "or empty folder"
    )


def _atomic_h5(path: Path, write) -> None:
    """Build an HDF5 file in memory, write its bytes beside ``path``, flush them to disk, then
    rename the file into place.

    HDF5 never writes to the disk itself: when libhdf5 meets a full disk half-way through a
    file, h5py's handles are left broken and the interpreter crashes (SIGSEGV, seen with
    RLIMIT_FSIZE in tests/record/test_recorder.py), which would take the training down with it.
    Plain file writes fail with an ``OSError`` instead.
    """
    buffer = io.BytesIO()
    # The newest file format's compact headers: a digits_cnn record is 148 KB, not 222 KB.
    with h5py.File(buffer, "w", libver="latest") as f:
        write(f)
        f.attrs["complete"] = True  # the last thing written
    partial = path.with_name(f".{path.name}.partial")
    try:
        _write_bytes(partial, buffer.getbuffer())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself, on disk
    finally:
        os.close(directory)


def _write_bytes(path: Path, data: memoryview) -> None:
    with open(path, "wb") as raw:
        raw.write(data)
        raw.flush()
        os.fsync(raw.fileno())


def _write_header(f: h5py.File, header: RunHeader) -> None:
    f.attrs["format"] = FORMAT
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["model_name"] = header.model_name
    f.attrs["model_config"] = header.model_config
    f.attrs["versions"] = json.dumps(header.versions)
    f.attrs["probe_source"] = header.probe_source
    f.attrs["settings"] = json.dumps(header.settings)
    f.attrs["created"] = header.created
    probe = f.create_group("probe")
    for i, part in enumerate(header.probe):
        probe.create_dataset(f"input_{i}", data=part)
    probe.attrs["labels"] = json.dumps(header.probe_labels)
    f.attrs["layers"] = json.dumps([_info_row(info) for info in header.layers])
    f.attrs["weight_paths"] = json.dumps(header.weight_paths)


def _info_row(info: LayerInfo) -> dict:
    return {
        "index": info.index,
        "name": info.name,
        "class_name": info.class_name,
        "shape": list(info.shape),
        "stride": info.stride,
        "positions": info.positions,
    }


def _write_record(f: h5py.File, record: Record) -> None:
    f.attrs["number"] = record.number
    f.attrs["epoch"] = record.epoch
    f.attrs["batch"] = -1 if record.batch is None else record.batch
    f.attrs["logs"] = json.dumps({k: float(v) for k, v in record.logs.items()})
    f.create_dataset("weight_norms", data=np.asarray(record.weight_norms, np.float64))
    layers = f.create_group("layers")
    for i, layer in enumerate(record.layers):
        group = layers.create_group(f"{i:04d}")
        maps = np.asarray(layer.maps, np.float16)
        group.create_dataset("maps", data=maps, chunks=maps.shape or None, **_COMPRESSION)
        # One dataset of the six statistics, (n, channels, 6) in _STAT_NAMES' order: each
        # HDF5 dataset costs about 1 KB of headers, and counts below 2**53 are exact in float64.
        stats = np.stack([np.asarray(getattr(layer, n), np.float64) for n in _STAT_NAMES], -1)
        group.create_dataset("stats", data=stats, chunks=stats.shape, **_COMPRESSION)


# --- reading (used by layerviz.record.run) ---------------------------------------------------


def read_header(folder: Path) -> RunHeader:
    """The header of the run in ``folder``.

    Raises:
        RunError: no run there, or its header cannot be read.
    """
    path = folder / HEADER
    if not path.is_file():
        raise RunError(f"{folder} is not a recorded run: it has no {HEADER}")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise RunError(f"{path} is an HDF5 file but not a layerviz run's header")
            version = int(f.attrs["format_version"])
            if version > FORMAT_VERSION:
                raise RunError(
                    f"{folder} was recorded in run format {version}; this layerviz reads up to "
                    f"{FORMAT_VERSION}: upgrade layerviz"
                )
            n_inputs = len(f["probe"])
            return RunHeader(
                model_name=str(f.attrs["model_name"]),
                model_config=str(f.attrs["model_config"]),
                versions=json.loads(f.attrs["versions"]),
                probe=[np.asarray(f["probe"][f"input_{i}"]) for i in range(n_inputs)],
                probe_source=str(f.attrs["probe_source"]),
                probe_labels=json.loads(f["probe"].attrs["labels"]),
                layers=[_info_of(row) for row in json.loads(f.attrs["layers"])],
                weight_paths=json.loads(f.attrs["weight_paths"]),
                settings=json.loads(f.attrs["settings"]),
                created=str(f.attrs["created"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise RunError(f"{folder}: its header {HEADER} cannot be read ({exc})") from None


def _info_of(row: dict) -> LayerInfo:
    return LayerInfo(
        row["index"],
        row["name"],
        row["class_name"],
        tuple(row["shape"]),
        row["stride"],
        row["positions"],
    )


def read_record(
    path: Path, header: RunHeader, layers: Sequence[int] | None = None, maps: bool = True
) -> Record:
    """One record file, all its layers or only those at ``layers`` (positions in the header).

    With ``maps=False`` only the statistics are read (each layer's ``maps`` is then None).

    Raises:
        OSError, KeyError, ValueError: the file is damaged (the caller names the epoch).
    """
    with h5py.File(path, "r") as f:
        if not f.attrs.get("complete", False):
            raise ValueError("the record was never completed")
        wanted = range(len(header.layers)) if layers is None else layers
        group = f["layers"]
        read = {i: _layer_of(group[f"{i:04d}"], maps) for i in wanted}
        batch = int(f.attrs["batch"])
        return Record(
            number=int(f.attrs["number"]),
            epoch=int(f.attrs["epoch"]),
            batch=None if batch < 0 else batch,
            logs=json.loads(f.attrs["logs"]),
            layers=[read.get(i) for i in range(len(header.layers))],
            weight_norms=np.asarray(f["weight_norms"]),
        )


def read_stamp(path: Path) -> tuple[int, int | None, dict]:
    """A record file's epoch, batch and logs, without its arrays."""
    with h5py.File(path, "r") as f:
        if not f.attrs.get("complete", False):
            raise ValueError("the record was never completed")
        batch = int(f.attrs["batch"])
        return int(f.attrs["epoch"]), (None if batch < 0 else batch), json.loads(f.attrs["logs"])


def _layer_of(group: h5py.Group, maps: bool) -> LayerRecord:
    stats = np.asarray(group["stats"])
    kinds = dict.fromkeys(_STAT_NAMES, np.float64) | {
        "minimum": np.float32,
        "maximum": np.float32,
        "zeros": np.int64,
        "nonfinite": np.int64,
    }
    named = {n: stats[..., i].astype(kinds[n]) for i, n in enumerate(_STAT_NAMES)}
    return LayerRecord(maps=np.asarray(group["maps"]) if maps else None, **named)
