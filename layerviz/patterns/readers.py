"""Read a user's pattern file — .npy, .npz, .csv, .png or .jpg — safely, into a pattern.

Uploaded files are untrusted, so every reader checks sizes before it decodes or allocates:
a 400 KB .npz or a 1 KB .npy header must not be able to ask for gigabytes. No pickle path
exists at all: ``.npy`` headers are parsed and checked, then the data is read with
``np.frombuffer``. Images are decoded by Pillow with ``formats=["PNG", "JPEG"]`` after their
pixel count (read from the header) is checked.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import warnings
import zipfile
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from layerviz.errors import PatternError
from layerviz.patterns.inputs import (
    Shape,
    check_batch_fits,
    check_dtype,
    check_fits,
    check_shape,
    fit_array,
    fit_batch,
)

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "BATCH_EXTENSIONS",
    "MAX_BATCH_BYTES",
    "MAX_CSV_LINE_CHARS",
    "MAX_CSV_ROWS",
    "MAX_DECODED_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_NPZ_MEMBERS",
    "MAX_PATTERN_BYTES",
    "check_file_size",
    "extensions_for",
    "read_pattern",
    "read_pattern_batch",
    "read_patterns",
]

MAX_PATTERN_BYTES = 16 * 2**20  # any uploaded file, and any .npz member once unpacked
#: A batch of patterns (``read_pattern_batch``): a file, or an .npz member once unpacked.
MAX_BATCH_BYTES = 256 * 2**20
BATCH_EXTENSIONS = (".npy", ".npz")
MAX_NPZ_MEMBERS = 8
MAX_CSV_LINE_CHARS = 1_000_000
MAX_CSV_ROWS = 100_000
MAX_IMAGE_PIXELS = 4096 * 4096
#: Bytes an image may take once decoded (a 4096×4096 RGBA photo); a 42 kB PNG can declare more.
MAX_DECODED_BYTES = 64 * 2**20
#: Images decoded at once, across threads. A large one (over ``LARGE_DECODE_BYTES``) holds
#: several times its decoded size while it is converted, so large ones go one at a time.
MAX_CONCURRENT_DECODES = 2
LARGE_DECODE_BYTES = 16 * 2**20
_DECODES = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
_LARGE_DECODES = threading.BoundedSemaphore(1)
ACCEPTED_EXTENSIONS = (".npy", ".npz", ".csv", ".png", ".jpg", ".jpeg")

_NPZ_PREFERRED = ("pattern", "pattern.npy", "x", "x.npy")
_NPZ_PREFERRED_BATCH = ("patterns", "patterns.npy", "x", "x.npy")
_ZIP_ENTRY, _ZIP_END, _ZIP64_LOCATOR = b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x07"
_READ_ERRORS = (OSError, EOFError, ValueError, SyntaxError, struct.error)


def check_file_size(nbytes: int, label: str, limit: int | None = None) -> None:
    """Refuse a pattern file of ``nbytes`` bytes if it is over ``limit``.

    Call it before reading a file whose size is known (``stat``, an upload's header);
    :func:`read_pattern` calls it too.

    Args:
        nbytes: the file's size.
        label: the file's name, to start the message.
        limit: the most bytes allowed; ``MAX_PATTERN_BYTES`` when None.

    Raises:
        PatternError: ``"<label>: <nbytes> bytes is over the <limit>-byte limit for patterns"``.
    """
    limit = MAX_PATTERN_BYTES if limit is None else limit
    if nbytes > limit:
        raise PatternError(f"{label}: {nbytes} bytes is over the {limit}-byte limit for patterns")


def extensions_for(input_shape: Sequence[int]) -> tuple[str, ...]:
    """The file types that can fill an input of this shape (an upload control's ``accept``).

    ``.npy`` and ``.npz`` fill any; a ``.csv`` (a 2-D table) fills inputs of up to two axes,
    plus a channel axis of 1; images fill ``(H, W)`` and ``(H, W, 1|3|4)``.
    """
    target = check_shape(input_shape)
    kinds = [".npy", ".npz"]
    if len(target) <= 2 or (len(target) == 3 and target[-1] == 1):
        kinds.append(".csv")
    if len(target) == 2 or (len(target) == 3 and target[-1] in (1, 3, 4)):
        kinds += [".png", ".jpg", ".jpeg"]
    return tuple(kinds)


def read_pattern(
    data: bytes, filename: str, input_shape: Sequence[int], dtype=np.float32
) -> np.ndarray:
    """Read a pattern file into an array shaped ``(1, *input_shape)``.

    The format follows the file name's extension (any case): ``.npy``, ``.npz``,
    ``.csv`` (2-D, comma separated, ``#`` comment lines skipped), ``.png``, ``.jpg``,
    ``.jpeg`` (converted to the input's channels, resized, scaled to [0, 1]). Arrays must
    fit as described in :func:`layerviz.patterns.inputs.fit_array`.

    Args:
        data: the file's bytes, at most ``MAX_PATTERN_BYTES``.
        filename: the file's name; picks the format and starts every error message.
        input_shape: the model's input shape *without* the batch axis
            (``layerviz.input_shape_of(model)``).
        dtype: the pattern's dtype (float32, or an integer type for token-id inputs).

    Returns:
        A new array shaped ``(1, *input_shape)``.

    Raises:
        PatternError: the file is empty, too big, of an unknown type, unreadable, damaged,
            unsafe (pickles, declared sizes over the limits), or does not fit the input.
        ArgumentError: ``input_shape`` is not a shape without a batch axis.
    """
    check_file_size(len(data), filename)
    target = check_shape(input_shape)
    try:
        extension = os.path.splitext(filename)[1].lower()
        reader = _READERS.get(extension)
        if reader is None:
            raise PatternError(
                f"unknown file type {extension or '(no extension)'!r}; "
                f"accepted: {', '.join(ACCEPTED_EXTENSIONS)}"
            )
        if len(data) == 0:
            raise PatternError("file is empty")
        return reader(bytes(data), target, np.dtype(dtype))
    except PatternError as exc:
        raise PatternError(f"{filename}: {exc}") from None


def read_pattern_batch(
    data: bytes,
    filename: str,
    input_shape: Sequence[int],
    dtype=np.float32,
    max_bytes: int | None = None,
) -> np.ndarray:
    """Read a ``.npy`` or ``.npz`` file holding a batch of patterns, as safely as a pattern.

    The same checks as :func:`read_pattern` (no pickles, sizes refused from the header before
    anything is allocated), with ``max_bytes`` as the size limit. An ``.npz`` holds one
    array, or names the batch ``patterns`` or ``x``.

    Args:
        data: the file's bytes, at most ``max_bytes``.
        filename: the file's name; picks the format and starts every error message.
        input_shape: the model's input shape *without* the batch axis.
        dtype: the patterns' dtype.
        max_bytes: the most the file, or an ``.npz``'s member once unpacked, may hold;
            default ``MAX_BATCH_BYTES`` (a server sets less: a small ``.npz`` unpacks to that).

    Returns:
        A new array shaped ``(n, *input_shape)``.

    Raises:
        PatternError: as :func:`read_pattern`, and ``"batch shape (5, 28, 28, 3) does not fit
            input (28, 28, 1): expected (n, 28, 28, 1)"`` when the shape is wrong.
        ArgumentError: ``input_shape`` is not a shape without a batch axis.
    """
    max_bytes = MAX_BATCH_BYTES if max_bytes is None else max_bytes
    check_file_size(len(data), filename, max_bytes)
    target = check_shape(input_shape)
    try:
        extension = os.path.splitext(filename)[1].lower()
        if extension not in BATCH_EXTENSIONS:
            raise PatternError(
                f"a batch of patterns is a .npy or .npz file, got {extension or 'no extension'!r}"
            )
        if len(data) == 0:
            raise PatternError("file is empty")
        fits = partial(check_batch_fits, target=target)
        if extension == ".npz":
            pick = partial(_choose_member, preferred=_NPZ_PREFERRED_BATCH)
            ((name, data),) = _unpack_npz(bytes(data), lambda i: [pick(i)], max_bytes)
            try:
                array = _npy_array(data, fits, label="the member")
            except PatternError as exc:
                raise PatternError(f"member {name!r}: {exc}") from None
        else:
            array = _npy_array(bytes(data), fits)
        return fit_batch(array, target, np.dtype(dtype))
    except PatternError as exc:
        raise PatternError(f"{filename}: {exc}") from None


def _refuse_over(value: int, limit: int, what: str, unit: str) -> None:
    """Refuse ``value`` past ``limit``: ``"<what> <value> <unit>, over the limit of ..."``."""
    if value > limit:
        raise PatternError(f"{what} {value} {unit}, over the limit of {limit} {unit}")


def _read_npy(data: bytes, target: Shape, dtype: np.dtype, label: str = "the file") -> np.ndarray:
    array = _npy_array(data, partial(check_fits, target=target), label)
    return fit_array(array, target, dtype)


def _npy_array(
    data: bytes, check_fits_shape: Callable[[tuple[int, ...]], None], label: str = "the file"
) -> np.ndarray:
    """The array in ``.npy`` bytes, its header's shape checked before anything is allocated."""

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
        shape, fortran_order, stored = read_header(stream)
    except Exception:  # ValueError, SyntaxError, tokenize.TokenError, RecursionError, ...
        raise failed("the .npy header is malformed") from None
    # The header is all we trust so far: refuse before anything allocates its shape.
    if any(side < 0 for side in shape):  # numpy reads (-3, 32, 32, 1) as a shape: not one
        raise failed(f"the header declares a negative dimension, shape {tuple(shape)}")
    check_dtype(stored)
    check_fits_shape(shape)
    count = int(np.prod(shape, dtype=np.int64))
    if (held := len(data) - stream.tell()) < count * stored.itemsize:
        raise failed(
            f"file is truncated (header declares {count * stored.itemsize} bytes, {held} follow)"
        )
    array = np.frombuffer(data, dtype=stored, count=count, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C")


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
    _refuse_over(entries, MAX_NPZ_MEMBERS, ".npz holds", "members")
    at = end - directory_size
    for _ in range(MAX_NPZ_MEMBERS):
        if at < 0 or at >= end or data[at : at + 4] != _ZIP_ENTRY or at + 46 > end:
            return
        at += 46 + sum(struct.unpack_from("<3H", data, at + 28))  # name, extra, comment
    if at < end:
        raise PatternError(f".npz holds more than {MAX_NPZ_MEMBERS} members")


def _read_npz(data: bytes, target: Shape, dtype: np.dtype) -> np.ndarray:
    ((name, member_data),) = _unpack_npz(data, lambda infos: [_choose_member(infos)])
    try:
        return _read_npy(member_data, target, dtype, label="the member")
    except PatternError as exc:
        raise PatternError(f"member {name!r}: {exc}") from None


def _unpack_npz(data: bytes, pick, limit: int | None = None) -> list[tuple[str, bytes]]:
    """The bytes of the members ``pick(infos)`` chooses, sizes checked before unpacking.

    ``limit`` caps the bytes unpacked: ``MAX_PATTERN_BYTES`` when None.
    """
    limit = MAX_PATTERN_BYTES if limit is None else limit
    _check_zip_directory(data)
    found = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            declared = sum(info.file_size for info in infos)  # refuse before unpacking any
            _refuse_over(declared, limit, ".npz members declare", "bytes unpacked")
            for info in pick(infos):
                if info.flag_bits & 0x1:  # zipfile would say so with the member's raw repr
                    raise PatternError(f"member {info.filename!r} is encrypted; give a plain .npz")
                with archive.open(info) as member:
                    found.append((info.filename, member.read(limit + 1)))
    except PatternError:
        raise
    except (*_READ_ERRORS, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise PatternError(f"could not read the file as .npz (a zip archive): {exc}") from None
    for name, member_data in found:
        if len(member_data) > limit:  # the declared size lied
            raise PatternError(f"member {name!r} unpacks to over {limit} bytes")
    return found


def read_patterns(
    data: bytes,
    filename: str,
    input_names: Sequence[str],
    input_shapes: Sequence[Sequence[int]],
    dtypes: Sequence = (),
) -> list[np.ndarray]:
    """Read one pattern per input of a multi-input model from one ``.npz`` file.

    Each input's array is the member named after the input (``image.npy`` for the input
    ``image``, as ``np.savez(f, image=..., meta=...)`` writes), read and checked as
    :func:`read_pattern` reads a ``.npy``.

    Args:
        data: the file's bytes, at most ``MAX_PATTERN_BYTES``.
        filename: the file's name (it must end in ``.npz``); starts every error message.
        input_names: the model's ``Input`` names, in input order.
        input_shapes: their shapes without the batch axis.
        dtypes: their dtypes (float32 for all when empty).

    Returns:
        One array shaped ``(1, *shape)`` per input, in input order.

    Raises:
        PatternError: not a ``.npz``, a member missing, or as :func:`read_pattern`.
    """
    check_file_size(len(data), filename)
    shapes = [check_shape(shape) for shape in input_shapes]
    dtypes = list(dtypes) or [np.float32] * len(shapes)
    try:
        if os.path.splitext(filename)[1].lower() != ".npz":
            raise PatternError(
                f"a model with inputs {', '.join(input_names)} reads one .npz with an array "
                "named after each input"
            )
        members = dict(_unpack_npz(data, lambda infos: _members_named(infos, input_names)))
        return [
            _read_member_npy(members, name, shape, np.dtype(dtype))
            for name, shape, dtype in zip(input_names, shapes, dtypes, strict=True)
        ]
    except PatternError as exc:
        raise PatternError(f"{filename}: {exc}") from None


def _read_member_npy(members: dict, name: str, shape: Shape, dtype: np.dtype) -> np.ndarray:
    key = f"{name}.npy" if f"{name}.npy" in members else name
    try:
        return _read_npy(members[key], shape, dtype, label="the member")
    except PatternError as exc:
        raise PatternError(f"member {key!r} (input {name!r}): {exc}") from None


def _members_named(infos: list[zipfile.ZipInfo], names: Sequence[str]) -> list[zipfile.ZipInfo]:
    by_name = {info.filename: info for info in infos}
    missing = [n for n in names if n not in by_name and f"{n}.npy" not in by_name]
    if missing:
        held = ", ".join(repr(info.filename) for info in infos) or "nothing"
        raise PatternError(
            f".npz has no array named {', '.join(map(repr, missing))} (it holds {held}); "
            f"name one array after each input: {', '.join(names)}"
        )
    return [by_name.get(f"{n}.npy") or by_name[n] for n in names]


def _choose_member(
    infos: list[zipfile.ZipInfo], preferred: tuple[str, ...] = _NPZ_PREFERRED
) -> zipfile.ZipInfo:
    if not infos:
        raise PatternError(".npz holds no arrays")
    if len(infos) == 1:
        return infos[0]
    by_name = {info.filename: info for info in infos}
    for name in preferred:
        if name in by_name:
            return by_name[name]
    names = ", ".join(repr(info.filename) for info in infos)
    wanted = " or ".join(repr(n) for n in preferred[::2])
    raise PatternError(
        f".npz has several members ({names}) and none is named "
        f"{wanted}; keep one array or name it {preferred[0]!r}"
    )


def _read_csv(data: bytes, target: Shape, dtype: np.dtype) -> np.ndarray:
    try:
        text = data.decode("utf-8-sig")  # also strips a UTF-8 byte-order mark
    except UnicodeDecodeError as exc:
        raise PatternError(f"CSV is not UTF-8 text: {exc}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = 0
    for number, line in enumerate(text.split("\n"), start=1):
        what = f"huge CSV row: line {number} has"
        _refuse_over(len(line), MAX_CSV_LINE_CHARS, what, "characters")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows += 1
    _refuse_over(rows, MAX_CSV_ROWS, "CSV has", "rows")
    if rows == 0:
        raise PatternError("CSV holds no rows of numbers")
    try:
        array = np.loadtxt(
            io.StringIO(text), delimiter=",", comments="#", ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        problem = str(exc).split("; use `usecols`")[0]
        raise PatternError(f"could not parse CSV: {problem}") from None
    return fit_array(array, target, dtype)


def _image_mode(target: Shape) -> str:
    channels = {2: 1, 3: target[-1]}.get(len(target))
    if channels in (1, 3, 4):
        return {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    raise PatternError(
        f"an image cannot fill input {target}; images fit (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
    )


def _read_image(data: bytes, target: Shape, dtype: np.dtype) -> np.ndarray:
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
            _refuse_over(image.width * image.height, MAX_IMAGE_PIXELS, size, "pixels")
            decoded = f"image decodes to {image.width}x{image.height} {image.mode} ="
            _refuse_over(_decoded_bytes(image), MAX_DECODED_BYTES, decoded, "bytes")
            if image.format == "PNG":
                _refuse_damaged_png(data)
            slot = _LARGE_DECODES if _decoded_bytes(image) > LARGE_DECODE_BYTES else _DECODES
            with slot:
                try:
                    image = _decode(image, mode, (target[1], target[0]))
                except (*_READ_ERRORS, *bombs) as exc:
                    raise PatternError(f"could not decode the image: {exc}") from None
                array = np.asarray(image, dtype=np.float32) / np.float32(255)
    return array.reshape((1, *target))


def _decoded_bytes(image: Image.Image) -> int:
    """Bytes Pillow will hold once ``image`` is decoded, known from its header."""
    bits = {"1": 1, "L": 8, "P": 8, "LA": 16, "PA": 16, "RGB": 24, "RGBA": 32, "CMYK": 32}
    per_pixel = bits.get(image.mode, 32) / 8  # I;16 modes are 2 bytes, I and F are 4
    if image.mode.startswith("I;16"):
        per_pixel = 2
    return int(image.width * image.height * per_pixel)


def _decode(image: Image.Image, mode: str, size: tuple[int, int]) -> Image.Image:
    """Decode at the smallest size that still fills ``size``, then convert and resize.

    A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that is still larger than the input
    (``draft``); 16-bit grey is brought to 8 bits in place, never through a wider copy.
    """
    if image.format == "JPEG":
        image.draft(image.mode, (size[0] * 2, size[1] * 2))
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode.startswith("I"):  # 16-bit grey: keep its range, not clip at 255
        image = _eight_bit(image)
    if mode != "RGBA" and image.has_transparency_data:  # as a browser shows it
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    image = image.convert(mode)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    return image


def _eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit (or 32-bit integer) grey image as 8-bit grey, its top 8 bits of 16."""
    wide = np.asarray(image)
    if wide.dtype.itemsize > 2:  # mode "I": clip to 16 bits first, in its own width
        wide = np.clip(wide, 0, 65535)
    return Image.fromarray((wide >> 8).astype(np.uint8))


def _refuse_damaged_png(data: bytes) -> None:
    """Refuse a PNG whose chunks are cut short or fail their CRC, before decoding it.

    Pillow decodes a PNG whose image data is whole even when the file stops before its last
    chunk; a damaged file should be refused, not half-trusted. ``verify`` walks every chunk to
    ``IEND`` checking CRCs, without decompressing.
    """
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:
            probe.verify()
    except (*_READ_ERRORS, UnidentifiedImageError) as exc:
        raise PatternError(f"the PNG is damaged or truncated ({exc})") from None
    if b"IEND\xaeB`\x82" not in data:  # its closing chunk, CRC included
        raise PatternError("the PNG is damaged or truncated (its closing IEND chunk is missing)")


_READERS: dict[str, Callable[[bytes, Shape, np.dtype], np.ndarray]] = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".csv": _read_csv,
    **dict.fromkeys((".png", ".jpg", ".jpeg"), _read_image),
}
