"""Tests for layerviz.patterns.readers: reading uploaded pattern files safely.

Every file is built here in code; no keras is imported.
"""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from helpers import npy_bytes
from PIL import Image

from layerviz.errors import ArgumentError, PatternError
from layerviz.patterns import readers
from layerviz.patterns.readers import (
    MAX_CSV_LINE_CHARS,
    MAX_NPZ_MEMBERS,
    MAX_PATTERN_BYTES,
    check_file_size,
    read_pattern,
    read_pattern_batch,
)

MNIST = (28, 28, 1)


# --- building pattern files ----------------------------------------------------------------


def npy(array, *, allow_pickle: bool = False) -> bytes:
    return npy_bytes(array, allow_pickle=allow_pickle)


def npy_header(shape, dtype="<f4") -> bytes:
    """A valid .npy header (version 1.0) that declares shape and dtype, with no data."""
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def npz(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def npz_zip64(members: dict[str, bytes]) -> bytes:
    """A valid zip64 archive (zipfile reads it): zip64 end records added to a plain one."""
    plain = npz(members)
    body, (*_, entries, size, offset, _) = plain[:-22], struct.unpack("<4s4H2LH", plain[-22:])
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    return body + record + locator + end


def npz_understating_count(count: int) -> bytes:
    """``count`` members whose End Of Central Directory record says there is only 1."""
    plain = npz({f"m{i}.npy": npy(digit()) for i in range(count)})
    return plain[:-14] + struct.pack("<2H", 1, 1) + plain[-10:]


def npy_with_header(text: str) -> bytes:
    """A version 1.0 .npy file whose header dict is ``text``, padded as numpy pads it."""
    header = text.encode("latin1")
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64


def image(array, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode=mode).save(buffer, format=fmt)
    return buffer.getvalue()


def blank_image(size: tuple[int, int], mode: str = "1", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height 8-bit grey, with a few bytes of data."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    return b"\x89PNG\r\n\x1a\n" + header + data + png_chunk(b"IEND", b"")


def image_16bit() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def rotated_jpeg() -> bytes:
    """Stored 32 wide x 16 tall, dark left half; EXIF orientation 6 shows it turned
    90 degrees clockwise: 16 wide x 32 tall, dark top half."""
    stored = np.zeros((16, 32), dtype=np.uint8)
    stored[:, 16:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def transparent_palette_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (4, 4), 0).save(buffer, format="PNG", transparency=0)
    return buffer.getvalue()


def noise_png(shape=(64, 64, 3)) -> bytes:
    return image(np.random.default_rng(0).integers(0, 256, shape))


def digit() -> np.ndarray:
    return np.linspace(0.0, 1.0, 28 * 28, dtype=np.float32).reshape(28, 28)


def ok(expected, atol: float = 1e-6):
    """Expect read_pattern to return ``expected`` (batch axis included)."""
    return ("ok", np.asarray(expected, dtype=np.float32), atol)


def fails(pattern: str):
    """Expect read_pattern to raise PatternError whose message matches ``pattern``."""
    return ("fails", pattern, None)


# Solid RGB (200, 100, 50) is grey 124 under Pillow's ITU-R 601-2 luma, at any size.
SOLID_GREY = 124 / 255
# Black at alpha 51 (20 %) over white is 204 (80 %), as a browser shows it.
BLACK_AT_20 = np.dstack([np.zeros((4, 4)), np.full((4, 4), 51)])
# The float32 whose little-endian bytes are a zip central-directory signature.
PK_FLOAT = np.frombuffer(b"PK\x01\x02", dtype="<f4")[0]
NPZ_BOMB = npz(
    {"pattern.npy": npy_header(MNIST) + b"\0" * (17 * 2**20)}, compression=zipfile.ZIP_DEFLATED
)

# filename, make bytes, input shape, expectation
CASES = {
    # good
    "npy-exact": ("d.npy", lambda: npy(digit()[..., None]), MNIST, ok(digit()[None, ..., None])),
    "npy-batch": (
        "d.npy",
        lambda: npy(digit()[None, ..., None]),
        MNIST,
        ok(digit()[None, ..., None]),
    ),
    "npy-no-channel": ("d.NPY", lambda: npy(digit()), MNIST, ok(digit()[None, ..., None])),
    "npy-extra-channel": ("d.npy", lambda: npy(np.ones((5, 5, 1))), (5, 5), ok(np.ones((1, 5, 5)))),
    "npy-bool": ("m.npy", lambda: npy(np.eye(3, dtype=bool)), (3, 3), ok(np.eye(3)[None])),
    "npy-fortran-int": (
        "i.npy",
        lambda: npy(np.asfortranarray(np.arange(6).reshape(2, 3))),
        (2, 3),
        ok(np.arange(6).reshape(1, 2, 3)),
    ),
    "csv-28x28": (
        "d.csv",
        lambda: "\n".join(",".join(f"{v:.6f}" for v in row) for row in digit()).encode(),
        MNIST,
        ok(digit()[None, ..., None]),
    ),
    "csv-bom-comments-crlf": (
        "d.csv",
        lambda: b"\xef\xbb\xbf# a comment\r\n1, 2\r\n\r\n3,4\r\n",
        (2, 2),
        ok([[[1, 2], [3, 4]]]),
    ),
    "csv-single-row": ("v.csv", lambda: b"1,2,3,4\n", (4,), ok([[1, 2, 3, 4]])),
    "png-rgb-to-grey-resized": (
        "d.png",
        lambda: image(np.full((56, 40, 3), (200, 100, 50))),
        MNIST,
        ok(np.full((1, 28, 28, 1), SOLID_GREY)),
    ),
    "png-grey-to-rgb": (
        "d.png",
        lambda: image(np.full((8, 8), 255)),
        (8, 8, 3),
        ok(np.ones((1, 8, 8, 3))),
    ),
    "png-rgba": (
        "d.png",
        lambda: image(np.zeros((4, 4, 4)), mode="RGBA"),
        (4, 4, 4),
        ok(np.zeros((1, 4, 4, 4))),
    ),
    "png-la-onto-white": ("d.png", lambda: image(BLACK_AT_20), (4, 4), ok(np.full((1, 4, 4), 0.8))),
    "png-la-to-rgb-onto-white": (
        "d.png",
        lambda: image(BLACK_AT_20),
        (4, 4, 3),
        ok(np.full((1, 4, 4, 3), 0.8)),
    ),
    "png-la-to-rgba-keeps-alpha": (
        "d.png",
        lambda: image(BLACK_AT_20),
        (4, 4, 4),
        ok(np.broadcast_to([0, 0, 0, 0.2], (1, 4, 4, 4))),
    ),
    "png-rgba-to-rgb-onto-white": (
        "d.png",
        lambda: image(np.zeros((4, 4, 4)), mode="RGBA"),
        (4, 4, 3),
        ok(np.ones((1, 4, 4, 3))),
    ),
    "png-palette-transparent": (
        "d.png",
        lambda: transparent_palette_png(),
        (4, 4),
        ok(np.ones((1, 4, 4))),
    ),
    "jpeg-exif-orientation-6": (
        "r.jpg",
        rotated_jpeg,
        (32, 16),
        ok(np.repeat([0.0, 1.0], 16)[None, :, None] * np.ones((1, 32, 16)), atol=3 / 255),
    ),
    "png-16-bit-grey": ("d.png", lambda: image_16bit(), (4, 4), ok(np.full((1, 4, 4), 1.0))),
    "jpeg": (
        "d.JPG",
        lambda: image(np.full((32, 32), 128), fmt="JPEG"),
        MNIST,
        ok(np.full((1, 28, 28, 1), 128 / 255), atol=3 / 255),
    ),
    "jpeg-long-extension": (
        "d.jpeg",
        lambda: image(np.full((28, 28), 0), fmt="JPEG"),
        (28, 28),
        ok(np.zeros((1, 28, 28)), atol=3 / 255),
    ),
    "npz-one-member": (
        "d.npz",
        lambda: npz({"arr_0.npy": npy(digit())}),
        MNIST,
        ok(digit()[None, ..., None]),
    ),
    "npz-named-pattern": (
        "d.npz",
        lambda: npz({"label.npy": npy(np.array(7)), "pattern.npy": npy(digit())}),
        MNIST,
        ok(digit()[None, ..., None]),
    ),
    "npz-named-x": (
        "d.npz",
        lambda: npz({"y": npy(np.array(7)), "x": npy(digit())}, compression=zipfile.ZIP_DEFLATED),
        MNIST,
        ok(digit()[None, ..., None]),
    ),
    "npz-data-holds-zip-signatures": (
        "d.npz",
        lambda: npz({"pattern.npy": npy(np.full((28, 28), PK_FLOAT, dtype=np.float32))}),
        (28, 28),
        ok(np.full((1, 28, 28), PK_FLOAT)),
    ),
    # bad
    "wrong-shape": (
        "d.npy",
        lambda: npy(np.zeros((28, 28, 3))),
        MNIST,
        fails(re.escape("pattern shape (28, 28, 3) does not fit input (28, 28, 1)")),
    ),
    "wrong-shape-csv": (
        "d.csv",
        lambda: b"1,2,3\n4,5,6\n",
        MNIST,
        fails(re.escape("pattern shape (2, 3) does not fit input (28, 28, 1)")),
    ),
    "pickle-npy": (
        "d.npy",
        lambda: npy(np.array([{"a": 1}], dtype=object), allow_pickle=True),
        MNIST,
        fails("pickled/object arrays are not accepted"),
    ),
    "complex-npy": (
        "d.npy",
        lambda: npy(np.zeros(MNIST, dtype=complex)),
        MNIST,
        fails("complex values"),
    ),
    "string-npy": ("d.npy", lambda: npy(np.full(MNIST, "a")), MNIST, fails("is not a number type")),
    "header-bomb": (
        "d.npy",
        lambda: npy_header((100_000, 100_000), "<f8") + b"\0" * 64,
        MNIST,
        fails(re.escape("pattern shape (100000, 100000) does not fit input")),
    ),
    "truncated-npy": ("d.npy", lambda: npy(digit())[:-100], MNIST, fails("file is truncated")),
    "not-npy": (
        "d.npy",
        lambda: b"hello, world",
        MNIST,
        fails("could not read the file as .npy: it does not start with the .npy magic string"),
    ),
    "npy-header-expression": (
        "d.npy",
        lambda: npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1+2,), }"),
        (3,),
        fails("could not read the file as .npy: the .npy header is malformed$"),
    ),
    "npy-header-unterminated": (
        "d.npy",
        lambda: npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,"),
        (3,),
        fails("the .npy header is malformed$"),
    ),
    "npy-header-too-long": (
        "d.npy",
        lambda: npy_with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)" + " " * 20_000 + "}"
        ),
        (3,),
        fails("the .npy header is malformed$"),
    ),
    "npy-header-not-a-dict": (
        "d.npy",
        lambda: npy_with_header("[1, 2]"),
        (3,),
        fails("the .npy header is malformed$"),
    ),
    "npz-member-header-malformed": (
        "d.npz",
        lambda: npz(
            {"x": npy_with_header("{'descr': 'zz', 'fortran_order': False, 'shape': (3,), }")}
        ),
        (3,),
        fails("member 'x': could not read the member as .npy: the .npy header is malformed$"),
    ),
    "npz-bomb": (
        "d.npz",
        lambda: NPZ_BOMB,
        MNIST,
        fails(rf"\.npz members declare \d+ bytes unpacked, over the limit of {MAX_PATTERN_BYTES}"),
    ),
    "npz-sum-bomb": (
        "d.npz",
        lambda: npz(
            {f"m{i}": b"\0" * (6 * 2**20) for i in range(3)}, compression=zipfile.ZIP_DEFLATED
        ),
        MNIST,
        fails(r"\.npz members declare 18874368 bytes unpacked, over the limit"),
    ),
    "npz-too-many-members": (
        "d.npz",
        lambda: npz({f"m{i}.npy": npy(digit()) for i in range(MAX_NPZ_MEMBERS + 1)}),
        MNIST,
        fails(
            f".npz holds {MAX_NPZ_MEMBERS + 1} members, over the limit of {MAX_NPZ_MEMBERS} members"
        ),
    ),
    "npz-count-understated": (
        "d.npz",
        lambda: npz_understating_count(MAX_NPZ_MEMBERS + 1),
        MNIST,
        fails(f".npz holds more than {MAX_NPZ_MEMBERS} members"),
    ),
    "npz-zip64": (
        "d.npz",
        lambda: npz_zip64({"pattern.npy": npy(digit())}),
        MNIST,
        fails(".npz is a zip64 archive; a pattern never needs zip64"),
    ),
    "npz-empty": ("d.npz", lambda: npz({}), MNIST, fails(r"^d\.npz: \.npz holds no arrays$")),
    "npz-ambiguous": (
        "d.npz",
        lambda: npz({"a.npy": npy(digit()), "b.npy": npy(digit())}),
        MNIST,
        fails("several members \\('a.npy', 'b.npy'\\)"),
    ),
    "npz-member-pickle": (
        "d.npz",
        lambda: npz({"x": npy(np.array([None]), allow_pickle=True)}),
        MNIST,
        fails("member 'x'.*pickled/object"),
    ),
    "not-a-zip": ("d.npz", lambda: npy(digit()), MNIST, fails("could not read the file as .npz")),
    "truncated-png": (
        "d.png",
        lambda: noise_png()[:5000],
        (64, 64, 3),
        fails("the PNG is damaged or truncated"),
    ),
    "tiff-as-png": (
        "d.png",
        lambda: blank_image((8, 8), "L", fmt="TIFF"),
        MNIST,
        fails("is not a PNG or JPEG image"),
    ),
    "nan": ("d.npy", lambda: npy(np.full(MNIST, np.nan)), MNIST, fails("NaN or infinite")),
    "inf-csv": ("d.csv", lambda: b"1,inf\n0,0\n", (2, 2), fails("NaN or infinite")),
    "float32-overflow": (
        "d.npy",
        lambda: npy(np.full((2, 2), 1e300)),
        (2, 2),
        fails("NaN or infinite"),
    ),
    "empty": ("d.png", lambda: b"", MNIST, fails("file is empty")),
    "huge-csv-row": (
        "d.csv",
        lambda: b"0," * (MAX_CSV_LINE_CHARS // 2) + b"0\n",
        MNIST,
        fails("huge CSV row: line 1 has 1000001 characters"),
    ),
    "csv-not-utf8": ("d.csv", lambda: b"1,2\n\xff\xfe\n", (2,), fails("not UTF-8")),
    "csv-bad-number": (
        "d.csv",
        lambda: b"1,2\n3,a\n",
        (2, 2),
        fails("could not parse CSV: could not convert string 'a'"),
    ),
    "csv-comments-only": ("d.csv", lambda: b"# nothing\n\n", (2, 2), fails("no rows of numbers")),
    "over-byte-cap": (
        "d.npy",
        lambda: b"\0" * (MAX_PATTERN_BYTES + 1),
        MNIST,
        fails(
            f"^d\\.npy: {MAX_PATTERN_BYTES + 1} bytes is over the "
            f"{MAX_PATTERN_BYTES}-byte limit for patterns$"
        ),
    ),
    "unknown-extension": (
        "d.bmp",
        lambda: b"BM....",
        MNIST,
        fails(r"unknown file type '\.bmp'; accepted: \.npy, \.npz, \.csv"),
    ),
    "no-extension": ("pattern", lambda: b"1", MNIST, fails("unknown file type '\\(no extension")),
    "image-too-many-pixels": (
        "d.png",
        lambda: blank_image((5000, 5000)),
        MNIST,
        fails("image is 5000x5000 = 25000000 pixels, over the limit of 16777216 pixels$"),
    ),
    "image-pillow-bomb": (
        "d.png",
        lambda: png_declaring(100_000, 100_000),
        MNIST,
        fails("image is too big: over 16777216 pixels$"),
    ),
    "image-for-rank-1": (
        "d.png",
        lambda: image(np.zeros((28, 28))),
        (784,),
        fails(re.escape("an image cannot fill input (784,)")),
    ),
    "image-for-5-channels": (
        "d.jpg",
        lambda: image(np.zeros((8, 8)), fmt="JPEG"),
        (8, 8, 5),
        fails(re.escape("an image cannot fill input (8, 8, 5)")),
    ),
    "png-truncated-before-its-last-chunk": (
        "d.png",
        lambda: image(digit())[:-12],  # IEND, the closing chunk, and its CRC cut off
        MNIST,
        fails("the PNG is damaged or truncated"),
    ),
    "png-bad-crc": (
        "d.png",
        lambda: image(digit())[:-16] + b"\0\0\0\0" + image(digit())[-12:],
        MNIST,
        fails("the PNG is damaged or truncated"),
    ),
}

# Refused on declared sizes alone: reading them must not allocate what they declare.
BOMBS = ["header-bomb", "npz-bomb", "npz-sum-bomb", "image-too-many-pixels", "image-pillow-bomb"]
# numpy's, Python's and Pillow's own wording must not reach the user.
LEAKS = re.compile(
    r"0x[0-9a-f]{6,}|<ast\.|max_header_size|allow_pickle|decompression bomb|178956970"
)


@pytest.mark.parametrize(
    ("filename", "make", "input_shape", "expect"), CASES.values(), ids=CASES.keys()
)
def test_read_pattern(filename, make, input_shape, expect):
    kind, wanted, atol = expect
    data = make()
    if kind == "ok":
        out = read_pattern(data, filename, input_shape)
        assert out.dtype == np.float32
        assert out.shape == wanted.shape
        np.testing.assert_allclose(out, wanted, atol=atol)
        return
    with pytest.raises(PatternError, match=wanted) as caught:
        read_pattern(data, filename, input_shape)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{filename}: ")
    assert not LEAKS.search(str(caught.value)), str(caught.value)


@pytest.mark.parametrize("case", BOMBS)
def test_bombs_fail_before_allocating(case):
    filename, make, input_shape, _ = CASES[case]
    data = make()
    tracemalloc.start()
    try:
        with pytest.raises(PatternError):
            read_pattern(data, filename, input_shape)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) < 2**20, "the bomb itself should be small"
    assert peak < 4 * 2**20, f"peak {peak} bytes while refusing {case}"


def test_npz_bomb_archive_is_small():
    assert len(NPZ_BOMB) < 100_000
    with zipfile.ZipFile(io.BytesIO(NPZ_BOMB)) as archive:
        assert archive.infolist()[0].file_size > MAX_PATTERN_BYTES


def test_npz_with_thousands_of_empty_members_is_refused_before_listing(monkeypatch):
    data = npz({f"{i}": b"" for i in range(20_000)})
    monkeypatch.setattr(readers.zipfile, "ZipFile", None)  # calling it would fail loudly
    with pytest.raises(
        PatternError, match=f"holds 20000 members, over the limit of {MAX_NPZ_MEMBERS}"
    ):
        read_pattern(data, "many.npz", MNIST)


@pytest.mark.parametrize("case", ["npz-count-understated", "npz-zip64"])
def test_npz_directories_are_refused_before_zipfile_reads_them(case, monkeypatch):
    filename, make, input_shape, _ = CASES[case]
    data = make()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # valid archives that zipfile reads
        assert len(archive.infolist()) == (MAX_NPZ_MEMBERS + 1 if "count" in case else 1)
    monkeypatch.setattr(readers.zipfile, "ZipFile", None)
    with pytest.raises(PatternError):
        read_pattern(data, filename, input_shape)


def test_npz_member_count_ignores_signatures_in_array_data():
    data = CASES["npz-data-holds-zip-signatures"][1]()
    assert data.count(b"PK\x01\x02") > MAX_NPZ_MEMBERS


def test_check_file_size():
    check_file_size(MAX_PATTERN_BYTES, "d.png")
    limit = MAX_PATTERN_BYTES
    message = f"d.png: {limit + 1} bytes is over the {limit}-byte limit for patterns"
    with pytest.raises(PatternError, match=f"^{re.escape(message)}$"):
        check_file_size(MAX_PATTERN_BYTES + 1, "d.png")


def test_limit_messages_follow_the_constants(monkeypatch):
    monkeypatch.setattr(readers, "MAX_PATTERN_BYTES", 1000)
    monkeypatch.setattr(readers, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(PatternError, match="1001 bytes is over the 1000-byte limit"):
        read_pattern(b"\0" * 1001, "d.npy", MNIST)
    with pytest.raises(PatternError, match=r"= 121 pixels, over the limit of 100 pixels$"):
        read_pattern(blank_image((11, 11)), "d.png", MNIST)
    with pytest.raises(
        PatternError, match="members declare 2000 bytes unpacked, over the limit of 1000"
    ):
        read_pattern(npz({"x": b"\0" * 2000}, zipfile.ZIP_DEFLATED), "d.npz", MNIST)


def test_read_pattern_accepts_bytearray_and_memoryview():
    data = npy(digit())
    for wrapped in (bytearray(data), memoryview(data)):
        assert read_pattern(wrapped, "d.npy", MNIST).shape == (1, 28, 28, 1)


@pytest.mark.parametrize("input_shape", [(None, 28, 28, 1), (None, 784), (28, None)])
def test_input_shapes_with_a_batch_or_free_axis_are_refused(input_shape):
    with pytest.raises(ArgumentError, match="without its batch axis"):
        read_pattern(npy(digit()), "d.npy", input_shape)


@pytest.mark.parametrize("name", ["step.npy", "step.csv"])
def test_an_input_whose_own_first_axis_is_1_keeps_it(name):
    # Input shape (1, 10): one time step of ten features; nothing takes the 1 for a batch.
    array = np.arange(10, dtype=np.float32).reshape(1, 10)
    data = npy(array) if name.endswith(".npy") else ",".join(map(str, array[0])).encode()
    out = read_pattern(data, name, (1, 10))
    assert out.shape == (1, 1, 10)
    np.testing.assert_array_equal(out[0], array)


def test_integer_inputs_read_whole_numbers_as_ids():
    out = read_pattern(npy(np.array([3.0, 0.0, 7.0])), "ids.npy", (3,), np.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[3, 0, 7]])
    with pytest.raises(PatternError, match="whole numbers"):
        read_pattern(npy(np.array([0.5, 1.0, 2.0])), "ids.npy", (3,), np.int32)


def encrypted_npz() -> bytes:
    """An .npz whose member says it is encrypted (zipfile cannot write one, so flip the flag)."""
    data = bytearray(npz({"pattern.npy": npy(digit())}))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def test_an_encrypted_npz_says_so_in_words():
    with pytest.raises(PatternError) as caught:
        read_pattern(encrypted_npz(), "secret.npz", (28, 28))
    message = str(caught.value)
    assert message == "secret.npz: member 'pattern.npy' is encrypted; give a plain .npz"
    assert "ZipInfo" not in message


def sixteen_bit_png(side: int = 4096) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side), 1234, dtype=np.uint16)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_small_file_that_decodes_to_a_large_image_stays_small_in_memory():
    data = sixteen_bit_png()
    assert len(data) < 100_000  # 42 kB on disk, 32 MB decoded
    tracemalloc.start()
    try:
        out = read_pattern(data, "grey16.png", (32, 32, 1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(out, 1234 // 256 / 255, atol=1e-6)
    # The 16-bit pixels go to 8 bits in their own width: no int64 copies (they took 256 MB).
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB of Python/numpy memory"


def test_decoded_bytes_are_bounded_before_decoding(monkeypatch):
    monkeypatch.setattr(readers, "MAX_DECODED_BYTES", 2**20)
    with pytest.raises(PatternError, match="image decodes to 1024x1024 I;16 = 2097152 bytes, over"):
        read_pattern(sixteen_bit_png(1024), "grey16.png", (32, 32, 1))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((16,), (".npy", ".npz", ".csv")),
        ((50, 50), (".npy", ".npz", ".csv", ".png", ".jpg", ".jpeg")),
        ((16, 16, 1), (".npy", ".npz", ".csv", ".png", ".jpg", ".jpeg")),
        ((32, 32, 3), (".npy", ".npz", ".png", ".jpg", ".jpeg")),
        ((4, 4, 5), (".npy", ".npz")),
        ((2, 3, 4, 1), (".npy", ".npz")),
    ],
)
def test_extensions_for_name_the_files_that_fill_a_shape(shape, expected):
    assert readers.extensions_for(shape) == expected
    for extension in {".csv", ".png"} - set(expected):  # what is left out really cannot fill it
        data = b"1,2\n3,4\n" if extension == ".csv" else png_of(shape)
        with pytest.raises(PatternError):
            readers.read_pattern(data, "x" + extension, shape)


def png_of(shape) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, "PNG")
    return buffer.getvalue()


def negative_header_npy(shape: tuple[int, ...]) -> bytes:
    """A ``.npy`` file whose header declares ``shape`` (numpy itself never writes a negative
    side, but its header reader accepts one)."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (127 - 10 - len(header)) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64


@pytest.mark.parametrize("shape", [(-1, 4), (-3, 4), (2, -2)])
def test_a_header_with_a_negative_side_is_refused_by_name(shape):
    """Issue 25, row 10: (-3, 32, 32, 1) reached numpy's reshape and a traceback."""
    data = negative_header_npy(shape)
    for read in (read_pattern, read_pattern_batch):
        with pytest.raises(PatternError, match=r"x\.npy: .*negative dimension, shape \("):
            read(data, "x.npy", (4,))
