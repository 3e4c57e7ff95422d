"""Make input patterns: seeded random noise, or a user's .npy/.npz/.csv/.png/.jpg file.

A pattern is a float32 array shaped ``(1, *input_shape)``, ready for ``model(pattern)``.
Uploaded files are untrusted, so every reader checks sizes before it decodes or allocates:
a 400 KB .npz or a 1 KB .npy header must not be able to ask for gigabytes.
"""

from __future__ import annotations

import io
import operator
import os
import struct
import warnings
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from layerviz.errors import ModelStructureError, PatternError

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "MAX_CSV_LINE_CHARS",
    "MAX_CSV_ROWS",
    "MAX_IMAGE_PIXELS",
    "MAX_NPZ_MEMBERS",
    "MAX_PATTERN_BYTES",
    "SEED_LIMIT",
    "check_seed",
    "check_size",
    "fit_array",
    "input_shape_of",
    "random_pattern",
    "read_pattern",
]

MAX_PATTERN_BYTES = 16 * 2**20  # any uploaded file, and any .npz member once unpacked
MAX_NPZ_MEMBERS = 8
MAX_CSV_LINE_CHARS = 1_000_000
MAX_CSV_ROWS = 100_000
MAX_IMAGE_PIXELS = 4096 * 4096
ACCEPTED_EXTENSIONS = (".npy", ".npz", ".csv", ".png", ".jpg", ".jpeg")

Shape = tuple[int, ...]
_NPZ_PREFERRED = ("pattern", "pattern.npy", "x", "x.npy")
_ZIP_ENTRY, _ZIP_END, _ZIP64_LOCATOR = b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x07"
_READ_ERRORS = (OSError, EOFError, ValueError, SyntaxError, struct.error)


def check_size(nbytes: int, label: str) -> None:
    """Refuse a pattern file of ``nbytes`` bytes if it is over ``MAX_PATTERN_BYTES``.

    Call it before reading a file whose size is known (``stat``, an upload's header);
    :func:`read_pattern` calls it too.

    Raises:
        PatternError: ``"<label>: <nbytes> bytes is over the <limit>-byte limit for patterns"``.
    """
    if nbytes > MAX_PATTERN_BYTES:
        raise PatternError(
            f"{label}: {nbytes} bytes is over the {MAX_PATTERN_BYTES}-byte limit for patterns"
        )


def input_shape_of(model_or_shape: Any) -> Shape | list[Shape]:
    """Return a model's input shape without the batch axis, e.g. ``(28, 28, 1)``.

    Args:
        model_or_shape: a Keras model (anything with ``.inputs``), a shape such as
            ``(None, 28, 28, 1)`` or ``(28, 28, 1)``, or a list of such shapes.

    Returns:
        One tuple for a single-input model or a shape; a list of tuples, in input order,
        for a multi-input model or a list of shapes.

    Raises:
        PatternError: an axis other than the batch axis is ``None`` (or not a positive int).
        ModelStructureError: the model has no inputs yet (e.g. an unbuilt Sequential).
    """
    if isinstance(model_or_shape, (tuple, list)):
        items = list(model_or_shape)
        if items and all(isinstance(item, (tuple, list)) for item in items):
            return [_concrete(_drop_none_batch(item)) for item in items]
        return _concrete(_drop_none_batch(items))
    try:
        inputs = list(model_or_shape.inputs or [])
    except AttributeError as exc:
        raise ModelStructureError(f"cannot read the model's inputs: {exc}") from None
    if not inputs:
        raise ModelStructureError("the model has no inputs; build it or call it once first")
    shapes = [_concrete(tuple(tensor.shape)[1:]) for tensor in inputs]
    return shapes[0] if len(shapes) == 1 else shapes


#: Seeds run from 0 to ``SEED_LIMIT - 1``, the range numpy's generator takes as one word.
SEED_LIMIT = 2**32


def check_seed(value: Any) -> int:
    """``value`` as a random seed: a whole number from 0 to ``SEED_LIMIT - 1``.

    Raises:
        PatternError: anything else, naming what arrived.
    """
    try:
        seed = int(value)
    except (TypeError, ValueError):
        seed = -1
    if not 0 <= seed < SEED_LIMIT or (isinstance(value, float) and not value.is_integer()):
        raise PatternError(
            f"a random seed must be a whole number between 0 and {SEED_LIMIT - 1}, got {value!r}"
        )
    return seed


def random_pattern(model_or_shape: Any, seed: int | None = None) -> np.ndarray | list[np.ndarray]:
    """Draw a uniform [0, 1) float32 pattern shaped ``(1, *input_shape)``.

    Args:
        model_or_shape: anything :func:`input_shape_of` accepts.
        seed: seed for ``numpy.random.default_rng``; the same seed gives the same pattern.

    Returns:
        One array, or for a multi-input model a list with one array per input, drawn in
        input order from the same generator.

    Raises:
        PatternError: a seed outside :func:`check_seed`'s range; as :func:`input_shape_of`.
        ModelStructureError: as :func:`input_shape_of`.
    """
    shape = input_shape_of(model_or_shape)
    rng = np.random.default_rng(None if seed is None else check_seed(seed))
    if isinstance(shape, list):
        return [rng.random((1, *one), dtype=np.float32) for one in shape]
    return rng.random((1, *shape), dtype=np.float32)


def fit_array(array: Any, input_shape: Sequence[int | None]) -> np.ndarray:
    """Check that an array can be the pattern for ``input_shape`` and return it as one.

    Accepted: exactly ``input_shape``; ``(1, *input_shape)``; or ``input_shape`` with a
    trailing channel axis of size 1 added or removed, e.g. ``(28, 28)`` for
    ``(28, 28, 1)`` and ``(50, 50, 1)`` for ``(50, 50)``.

    Args:
        array: an array or nested list of real numbers (bool is cast).
        input_shape: the model's input shape; a leading batch axis is dropped as in
            :func:`read_pattern`.

    Returns:
        A new C-contiguous float32 array shaped ``(1, *input_shape)``.

    Raises:
        PatternError: the shape does not fit, the dtype is not real numbers, or a value
            is NaN or infinite (also after casting to float32).
    """
    target = _target_shape(input_shape)
    try:
        arr = np.asarray(array)
    except ValueError:  # ragged nested lists
        raise PatternError("pattern is not a rectangular array of numbers") from None
    _check_dtype(arr.dtype)
    _check_fits(arr.shape, target)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(arr, dtype=np.float32, order="C").reshape((1, *target))
    if not np.isfinite(out).all():
        raise PatternError("pattern holds NaN or infinite values (or values too big for float32)")
    return out


def read_pattern(data: bytes, filename: str, input_shape: Sequence[int | None]) -> np.ndarray:
    """Read an uploaded pattern file into a float32 array shaped ``(1, *input_shape)``.

    The format follows the file name's extension (any case): ``.npy``, ``.npz``,
    ``.csv`` (2-D, comma separated, ``#`` comment lines skipped), ``.png``, ``.jpg``,
    ``.jpeg`` (converted to the input's channels, resized, scaled to [0, 1]). Arrays must
    fit as described in :func:`fit_array`.

    Args:
        data: the file's bytes, at most ``MAX_PATTERN_BYTES``.
        filename: the file's name; picks the format and starts every error message.
        input_shape: the model's input shape. One leading ``None`` or ``1`` is dropped as
            the batch axis (a lone ``(1,)`` is kept). For a model whose own first axis is 1,
            e.g. ``(1, 28, 28)``, pass it with its batch axis: ``(None, 1, 28, 28)``.

    Returns:
        A new float32 array shaped ``(1, *input_shape)``.

    Raises:
        PatternError: the file is empty, too big, of an unknown type, unreadable, unsafe
            (pickles, declared sizes over the limits), or does not fit the input.
    """
    check_size(len(data), filename)
    try:
        target = _target_shape(input_shape)
        extension = os.path.splitext(filename)[1].lower()
        reader = _READERS.get(extension)
        if reader is None:
            raise PatternError(
                f"unknown file type {extension or '(no extension)'!r}; "
                f"accepted: {', '.join(ACCEPTED_EXTENSIONS)}"
            )
        if len(data) == 0:
            raise PatternError("file is empty")
        return reader(bytes(data), target)
    except PatternError as exc:
        raise PatternError(f"{filename}: {exc}") from None


# --- shapes ------------------------------------------------------------------------------


def _drop_none_batch(shape: Sequence[Any]) -> tuple[Any, ...]:
    shape = tuple(shape)
    return shape[1:] if shape and shape[0] is None else shape


def _target_shape(input_shape: Sequence[Any]) -> Shape:
    shape = tuple(input_shape)
    if shape and (shape[0] is None or (shape[0] == 1 and len(shape) >= 2)):
        shape = shape[1:]
    return _concrete(shape)


def _concrete(shape: tuple[Any, ...]) -> Shape:
    if any(axis is None for axis in shape):
        raise PatternError(f"input shape {shape} has free axes; give a concrete shape")
    try:
        dims = tuple(operator.index(axis) for axis in shape if not isinstance(axis, bool))
    except TypeError:
        dims = ()
    if len(dims) != len(shape):
        raise PatternError(f"input shape {shape} is not a tuple of ints")
    if any(axis < 1 for axis in dims):
        raise PatternError(f"input shape {dims} has an axis that is not a positive int")
    return dims


def _check_fits(shape: Sequence[int], target: Shape) -> None:
    shape = tuple(int(axis) for axis in shape)
    if shape in (target, (1, *target)) or (*shape, 1) == target or shape == (*target, 1):
        return
    raise PatternError(f"pattern shape {shape} does not fit input {target}")


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.kind == "O" or dtype.hasobject:
        raise PatternError("pickled/object arrays are not accepted")
    if dtype.kind == "c":
        raise PatternError(f"complex values ({dtype}) are not accepted; give real numbers")
    if dtype.kind not in "biuf":
        raise PatternError(f"pattern dtype {dtype.str!r} is not a number type")


# --- readers -----------------------------------------------------------------------------


def _cap(value: int, limit: int, what: str, unit: str) -> None:
    if value > limit:
        raise PatternError(f"{what} {value} {unit}, over the limit of {limit} {unit}")


def _read_npy(data: bytes, target: Shape, label: str = "the file") -> np.ndarray:
    def failed(reason: str) -> PatternError:
        return PatternError(f"could not read {label} as .npy: {reason}")

    fmt = np.lib.format
    stream = io.BytesIO(data)
    try:
        version = fmt.read_magic(stream)
    except (ValueError, EOFError):
        raise failed("it does not start with the .npy magic string") from None
    if version not in ((1, 0), (2, 0)):
        raise failed(f"format version {version} is not supported")
    read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    try:  # numpy's own messages (ast nodes, max_header_size) mean nothing to a user
        shape, fortran_order, dtype = read_header(stream)
    except Exception:  # ValueError, SyntaxError, tokenize.TokenError, RecursionError, ...
        raise failed("the .npy header is malformed") from None
    # The header is all we trust so far: refuse before anything allocates its shape.
    _check_dtype(dtype)
    _check_fits(shape, target)
    count = int(np.prod(shape, dtype=np.int64))
    if (held := len(data) - stream.tell()) < count * dtype.itemsize:
        raise failed(
            f"file is truncated (header declares {count * dtype.itemsize} bytes, {held} follow)"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return fit_array(array.reshape(shape, order="F" if fortran_order else "C"), (None, *target))


def _check_zip_directory(data: bytes) -> None:
    """Refuse over ``MAX_NPZ_MEMBERS`` members before ``zipfile`` makes an object for each.

    Finds the End Of Central Directory record as ``zipfile`` does and refuses zip64 (a
    pattern never needs it). ``zipfile`` reads the directory by its byte size, not by the
    count, so walk at most ``MAX_NPZ_MEMBERS`` entries too. Damage is left to ``zipfile``.
    """
    size = 22  # bytes in an End Of Central Directory record without its comment
    end = len(data) - size
    if not (end >= 0 and data[end : end + 4] == _ZIP_END and data[-2:] == b"\0\0"):
        end = data.rfind(_ZIP_END, max(len(data) - (1 << 16) - size, 0))
    if end < 0 or len(data) - end < size:
        return
    if end >= 20 and data[end - 20 : end - 16] == _ZIP64_LOCATOR:
        raise PatternError(".npz is a zip64 archive; a pattern never needs zip64")
    *_, entries, directory_size, _, _ = struct.unpack("<4s4H2LH", data[end : end + size])
    _cap(entries, MAX_NPZ_MEMBERS, ".npz holds", "members")
    at = end - directory_size
    for _ in range(MAX_NPZ_MEMBERS):
        if at < 0 or at >= end or data[at : at + 4] != _ZIP_ENTRY or at + 46 > end:
            return
        at += 46 + sum(struct.unpack_from("<3H", data, at + 28))  # name, extra, comment
    if at < end:
        raise PatternError(f".npz holds more than {MAX_NPZ_MEMBERS} members")


def _read_npz(data: bytes, target: Shape) -> np.ndarray:
    _check_zip_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            declared = sum(info.file_size for info in infos)  # refuse before unpacking any
            _cap(declared, MAX_PATTERN_BYTES, ".npz members declare", "bytes unpacked")
            info = _choose_member(infos)
            with archive.open(info) as member:
                member_data = member.read(MAX_PATTERN_BYTES + 1)
    except PatternError:
        raise
    except (*_READ_ERRORS, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise PatternError(f"could not read the file as .npz (a zip archive): {exc}") from None
    if len(member_data) > MAX_PATTERN_BYTES:  # the declared size lied
        raise PatternError(f"member {info.filename!r} unpacks to over {MAX_PATTERN_BYTES} bytes")
    try:
        return _read_npy(member_data, target, label="the member")
    except PatternError as exc:
        raise PatternError(f"member {info.filename!r}: {exc}") from None


def _choose_member(infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    if not infos:
        raise PatternError(".npz holds no arrays")
    if len(infos) == 1:
        return infos[0]
    by_name = {info.filename: info for info in infos}
    for name in _NPZ_PREFERRED:
        if name in by_name:
            return by_name[name]
    names = ", ".join(repr(info.filename) for info in infos)
    raise PatternError(
        f".npz has several members ({names}) and none is named "
        "'pattern' or 'x'; keep one array or name it 'pattern'"
    )


def _read_csv(data: bytes, target: Shape) -> np.ndarray:
    try:
        text = data.decode("utf-8-sig")  # also strips a UTF-8 byte-order mark
    except UnicodeDecodeError as exc:
        raise PatternError(f"CSV is not UTF-8 text: {exc}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = 0
    for number, line in enumerate(text.split("\n"), start=1):
        _cap(len(line), MAX_CSV_LINE_CHARS, f"huge CSV row: line {number} has", "characters")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows += 1
    _cap(rows, MAX_CSV_ROWS, "CSV has", "rows")
    if rows == 0:
        raise PatternError("CSV holds no rows of numbers")
    try:
        array = np.loadtxt(
            io.StringIO(text), delimiter=",", comments="#", ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        problem = str(exc).split("; use `usecols`")[0]
        raise PatternError(f"could not parse CSV: {problem}") from None
    return fit_array(array, (None, *target))


def _image_mode(target: Shape) -> str:
    channels = {2: 1, 3: target[-1]}.get(len(target))
    if channels in (1, 3, 4):
        return {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    raise PatternError(
        f"an image cannot fill input {target}; images fit (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
    )


def _read_image(data: bytes, target: Shape) -> np.ndarray:
    """Decode, turn upright (EXIF), flatten onto white unless the input takes alpha, resize."""
    mode = _image_mode(target)
    bombs = (Image.DecompressionBombError, Image.DecompressionBombWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
        except UnidentifiedImageError:
            raise PatternError("is not a PNG or JPEG image (or it is damaged)") from None
        except bombs:  # Pillow's own limit is far above ours, so ours is the one to name
            raise PatternError(f"image is too big: over {MAX_IMAGE_PIXELS} pixels") from None
        except _READ_ERRORS as exc:
            raise PatternError(f"could not decode the image: {exc}") from None
        with image:
            size = f"image is {image.width}x{image.height} ="  # from the header, before decoding
            _cap(image.width * image.height, MAX_IMAGE_PIXELS, size, "pixels")
            try:
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                if image.mode.startswith("I"):  # 16-bit grey: keep its range, not clip at 255
                    wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
                    image = Image.fromarray((wide >> 8).astype(np.uint8))
                if mode != "RGBA" and image.has_transparency_data:  # as a browser shows it
                    white = Image.new("RGBA", image.size, "white")
                    image = Image.alpha_composite(white, image.convert("RGBA"))
                image = image.convert(mode)
                if image.size != (target[1], target[0]):
                    image = image.resize((target[1], target[0]), Image.Resampling.BILINEAR)
            except (*_READ_ERRORS, *bombs) as exc:
                raise PatternError(f"could not decode the image: {exc}") from None
            array = np.asarray(image, dtype=np.float32) / np.float32(255)
    return array.reshape((1, *target))


_READERS: dict[str, Callable[[bytes, Shape], np.ndarray]] = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".csv": _read_csv,
    **dict.fromkeys((".png", ".jpg", ".jpeg"), _read_image),
}
