"""Tests for layerviz.patterns: input shapes, random patterns, and reading uploaded files.

Every file is built here in code; no keras is imported.
"""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from layerviz.errors import ModelStructureError, PatternError
from layerviz.patterns import (
    MAX_CSV_LINE_CHARS,
    MAX_NPZ_MEMBERS,
    MAX_PATTERN_BYTES,
    fit_array,
    input_shape_of,
    random_pattern,
    read_pattern,
)

MNIST = (28, 28, 1)


# --- building pattern files ----------------------------------------------------------------


def npy(array, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


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
    "npy-batch-in-input-shape": (
        "d.npy",
        lambda: npy(digit()),
        (None, 28, 28, 1),
        ok(digit()[None, ..., None]),
    ),
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
    "not-npy": ("d.npy", lambda: b"hello, world", MNIST, fails("could not read the file as .npy")),
    "npz-bomb": ("d.npz", lambda: NPZ_BOMB, MNIST, fails(r"declares \d+ bytes unpacked")),
    "npz-sum-bomb": (
        "d.npz",
        lambda: npz(
            {f"m{i}": b"\0" * (6 * 2**20) for i in range(3)}, compression=zipfile.ZIP_DEFLATED
        ),
        MNIST,
        fails(r"members declare \d+ bytes unpacked in all"),
    ),
    "npz-too-many-members": (
        "d.npz",
        lambda: npz({f"m{i}.npy": npy(digit()) for i in range(MAX_NPZ_MEMBERS + 1)}),
        MNIST,
        fails(f"more than {MAX_NPZ_MEMBERS} members"),
    ),
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
        fails("could not decode the image: image file is truncated"),
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
        fails(f"is {MAX_PATTERN_BYTES + 1} bytes, over the limit of {2**24} bytes"),
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
        fails("image is 5000x5000 = 25000000 pixels, over the limit"),
    ),
    "image-pillow-bomb": (
        "d.png",
        lambda: png_declaring(100_000, 100_000),
        MNIST,
        fails("image is too big"),
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
    "free-axes": (
        "d.npy",
        lambda: npy(digit()),
        (None, None, None, 3),
        fails(re.escape("input shape (None, None, 3) has free axes")),
    ),
}

# Refused on declared sizes alone: reading them must not allocate what they declare.
BOMBS = ["header-bomb", "npz-bomb", "npz-sum-bomb", "image-too-many-pixels", "image-pillow-bomb"]


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


def test_npz_with_thousands_of_empty_members_is_refused_before_listing():
    data = npz({f"{i}": b"" for i in range(20_000)})
    with pytest.raises(PatternError, match="more than 8 members"):
        read_pattern(data, "many.npz", MNIST)


def test_read_pattern_accepts_bytearray_and_memoryview():
    data = npy(digit())
    for wrapped in (bytearray(data), memoryview(data)):
        assert read_pattern(wrapped, "d.npy", MNIST).shape == (1, 28, 28, 1)


# --- fit_array ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "input_shape"),
    [
        ((28, 28, 1), MNIST),
        ((1, 28, 28, 1), MNIST),
        ((28, 28), MNIST),
        ((50, 50, 1), (50, 50)),
        ((784,), (None, 784)),
        ((1, 784), (784,)),
        ((3,), (3,)),
        ((2, 3), (1, 2, 3)),
    ],
)
def test_fit_array_accepts(shape, input_shape):
    out = fit_array(np.zeros(shape, dtype=np.int16), input_shape)
    expected = input_shape_of(input_shape)
    if input_shape[0] == 1:  # a leading 1 is taken as the batch axis
        expected = expected[1:]
    assert out.shape == (1, *expected)
    assert out.dtype == np.float32 and out.flags.c_contiguous


@pytest.mark.parametrize(
    ("shape", "input_shape"),
    [
        ((28, 28, 3), MNIST),
        ((2, 28, 28, 1), MNIST),
        ((28, 28, 1, 1), (28, 28)),
        ((784,), MNIST),
        ((28, 28), (28, 28, 3)),
    ],
)
def test_fit_array_refuses(shape, input_shape):
    target = input_shape_of(input_shape)
    message = f"pattern shape {shape} does not fit input {target}"
    with pytest.raises(PatternError, match=re.escape(message)):
        fit_array(np.zeros(shape), input_shape)


def test_fit_array_does_not_alias_its_input():
    source = np.zeros((2, 2), dtype=np.float32)
    out = fit_array(source, (2, 2))
    out[0, 0, 0] = 5
    assert source[0, 0] == 0


def test_fit_array_refuses_ragged_lists_and_objects():
    with pytest.raises(PatternError, match="not a rectangular array"):
        fit_array([[1, 2], [3]], (2, 2))
    with pytest.raises(PatternError, match="pickled/object"):
        fit_array(np.array([1, None]), (2,))


# --- input shapes and random patterns -------------------------------------------------------


def fake_model(*shapes):
    return SimpleNamespace(inputs=[SimpleNamespace(shape=shape) for shape in shapes])


def test_input_shape_of_models_and_shapes():
    assert input_shape_of(fake_model((None, 28, 28, 1))) == (28, 28, 1)
    assert input_shape_of(fake_model((None, 4), (None, 2, 3))) == [(4,), (2, 3)]
    assert input_shape_of((None, 28, 28, 1)) == (28, 28, 1)
    assert input_shape_of([28, 28]) == (28, 28)
    assert input_shape_of((np.int64(5),)) == (5,)
    assert input_shape_of([(None, 4), (2, 3)]) == [(4,), (2, 3)]


def test_input_shape_of_refuses_free_axes_and_bad_shapes():
    with pytest.raises(PatternError, match=re.escape("input shape (None, None, 3) has free axes")):
        input_shape_of(fake_model((None, None, None, 3)))
    with pytest.raises(PatternError, match="not a tuple of ints"):
        input_shape_of((28.0, 28))
    with pytest.raises(PatternError, match="not a positive int"):
        input_shape_of((0, 28))


def test_input_shape_of_model_without_inputs():
    with pytest.raises(ModelStructureError, match="no inputs"):
        input_shape_of(fake_model())
    with pytest.raises(ModelStructureError, match="cannot read the model's inputs"):
        input_shape_of(object())


def test_random_pattern_shape_dtype_range():
    out = random_pattern(fake_model((None, 28, 28, 1)), seed=1)
    assert out.shape == (1, 28, 28, 1)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() < 1.0
    assert out.std() > 0.2  # uniform [0, 1) has std ~0.29


def test_random_pattern_is_deterministic_with_a_seed():
    np.testing.assert_array_equal(random_pattern((5, 5), seed=7), random_pattern((5, 5), seed=7))
    expected = np.random.default_rng(7).random((1, 5, 5), dtype=np.float32)
    np.testing.assert_array_equal(random_pattern((None, 5, 5), seed=7), expected)
    assert not np.array_equal(random_pattern((5, 5), seed=7), random_pattern((5, 5), seed=8))


def test_random_pattern_multi_input_draws_in_order_from_one_generator():
    first, second = random_pattern(fake_model((None, 4), (None, 2, 3)), seed=3)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(first, rng.random((1, 4), dtype=np.float32))
    np.testing.assert_array_equal(second, rng.random((1, 2, 3), dtype=np.float32))
