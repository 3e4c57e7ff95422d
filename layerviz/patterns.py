"""Make input patterns: seeded random noise, or a user's .npy/.npz/.csv/.png/.jpg file.

A pattern is a float32 array shaped ``(1, *input_shape)``, ready for ``model(pattern)``.
Uploaded files are untrusted, so every reader checks sizes before it decodes or allocates:
a 400 KB .npz or a 1 KB .npy header must not be able to ask for gigabytes.
"""

from __future__ import annotations

import io
import operator
import os
import warnings
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from layerviz.errors import ModelStructureError, PatternError

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "MAX_CSV_LINE_CHARS",
    "MAX_CSV_ROWS",
    "MAX_IMAGE_PIXELS",
    "MAX_NPZ_MEMBERS",
    "MAX_PATTERN_BYTES",
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
_ZIP_CENTRAL_HEADER = b"PK\x01\x02"  # starts every member's entry in a zip's central directory


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


def random_pattern(model_or_shape: Any, seed: int | None = None) -> np.ndarray | list[np.ndarray]:
    """Draw a uniform [0, 1) float32 pattern shaped ``(1, *input_shape)``.

    Args:
        model_or_shape: anything :func:`input_shape_of` accepts.
        seed: seed for ``numpy.random.default_rng``; the same seed gives the same pattern.

    Returns:
        One array, or for a multi-input model a list with one array per input, drawn in
        input order from the same generator.

    Raises:
        PatternError, ModelStructureError: as :func:`input_shape_of`.
    """
    shape = input_shape_of(model_or_shape)
    rng = np.random.default_rng(seed)
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
    except ValueError as exc:  # ragged nested lists
        raise PatternError(f"pattern is not a rectangular array of numbers: {exc}") from None
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
        if len(data) > MAX_PATTERN_BYTES:
            raise PatternError(
                f"file is {len(data)} bytes, over the limit of {MAX_PATTERN_BYTES} bytes (16 MiB)"
            )
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


def _read_npy(data: bytes, target: Shape, label: str = "the file") -> np.ndarray:
    fmt = np.lib.format
    stream = io.BytesIO(data)
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise PatternError(
                f"could not read {label} as .npy: format version {version} is not supported"
            )
        # The header is all we trust so far: refuse before np.load allocates its shape.
        _check_dtype(dtype)
        _check_fits(shape, target)
        declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        held = len(data) - stream.tell()
        if held < declared:
            raise PatternError(
                f"could not read {label} as .npy: file is truncated "
                f"(header declares {declared} bytes of data, {held} follow)"
            )
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except PatternError:
        raise
    except (ValueError, OSError, EOFError, TypeError, SyntaxError) as exc:
        raise PatternError(f"could not read {label} as .npy: {exc}") from None
    return fit_array(array, target)


def _read_npz(data: bytes, target: Shape) -> np.ndarray:
    # zipfile builds an object per central-directory entry; count them before it does.
    if data.count(_ZIP_CENTRAL_HEADER) > MAX_NPZ_MEMBERS:
        raise PatternError(f".npz holds more than {MAX_NPZ_MEMBERS} members")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_NPZ_MEMBERS:
                raise PatternError(f".npz holds {len(infos)} members, more than {MAX_NPZ_MEMBERS}")
            for info in infos:
                if info.file_size > MAX_PATTERN_BYTES:
                    raise PatternError(
                        f"member {info.filename!r} declares {info.file_size} bytes unpacked, "
                        f"over the limit of {MAX_PATTERN_BYTES} bytes"
                    )
            total = sum(info.file_size for info in infos)
            if total > MAX_PATTERN_BYTES:
                raise PatternError(
                    f"members declare {total} bytes unpacked in all, "
                    f"over the limit of {MAX_PATTERN_BYTES} bytes"
                )
            info = _choose_member(infos)
            with archive.open(info) as member:
                member_data = member.read(MAX_PATTERN_BYTES + 1)
    except PatternError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise PatternError(f"could not read the file as .npz (a zip archive): {exc}") from None
    if len(member_data) > MAX_PATTERN_BYTES:  # the declared size lied
        raise PatternError(
            f"member {info.filename!r} unpacks to more than {MAX_PATTERN_BYTES} bytes"
        )
    try:
        return _read_npy(member_data, target, label="the member")
    except PatternError as exc:
        raise PatternError(f"member {info.filename!r}: {exc}") from None


def _choose_member(infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    if len(infos) == 1:
        return infos[0]
    by_name = {info.filename: info for info in infos}
    for name in _NPZ_PREFERRED:
        if name in by_name:
            return by_name[name]
    names = ", ".join(repr(info.filename) for info in infos) or "none"
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
        if len(line) > MAX_CSV_LINE_CHARS:
            raise PatternError(
                f"huge CSV row: line {number} has {len(line)} characters, "
                f"over the limit of {MAX_CSV_LINE_CHARS}"
            )
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows += 1
    if rows > MAX_CSV_ROWS:
        raise PatternError(f"CSV has {rows} rows, over the limit of {MAX_CSV_ROWS}")
    if rows == 0:
        raise PatternError("CSV holds no rows of numbers")
    try:
        array = np.loadtxt(
            io.StringIO(text), delimiter=",", comments="#", ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        problem = str(exc).split("; use `usecols`")[0]
        raise PatternError(f"could not parse CSV: {problem}") from None
    return fit_array(array, target)


def _image_mode(target: Shape) -> str:
    if len(target) == 2 or (len(target) == 3 and target[2] == 1):
        return "L"
    if len(target) == 3 and target[2] in (3, 4):
        return "RGB" if target[2] == 3 else "RGBA"
    raise PatternError(
        f"an image cannot fill input {target}; images fit (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
    )


def _read_image(data: bytes, target: Shape) -> np.ndarray:
    mode = _image_mode(target)
    height, width = target[0], target[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
        except UnidentifiedImageError:
            raise PatternError("is not a PNG or JPEG image (or it is damaged)") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PatternError(f"image is too big: {exc}") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PatternError(f"could not decode the image: {exc}") from None
        with image:
            pixels = image.width * image.height
            if pixels > MAX_IMAGE_PIXELS:  # checked on the header, before decoding
                raise PatternError(
                    f"image is {image.width}x{image.height} = {pixels} pixels, over the "
                    f"limit of {MAX_IMAGE_PIXELS} (4096x4096)"
                )
            try:
                image.load()
                if image.mode.startswith("I"):  # 16-bit grey: keep its range, not clip at 255
                    wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
                    image = Image.fromarray((wide >> 8).astype(np.uint8))
                image = image.convert(mode)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
            except (
                OSError,
                SyntaxError,
                ValueError,
                EOFError,
                Image.DecompressionBombError,
                Image.DecompressionBombWarning,
            ) as exc:
                raise PatternError(f"could not decode the image: {exc}") from None
            array = np.asarray(image, dtype=np.float32) / np.float32(255)
    return array.reshape((1, *target))


_READERS: dict[str, Callable[[bytes, Shape], np.ndarray]] = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".csv": _read_csv,
    ".png": _read_image,
    ".jpg": _read_image,
    ".jpeg": _read_image,
}
