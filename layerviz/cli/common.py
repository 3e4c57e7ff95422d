"""What the ``layerviz`` commands share: argument types, reading a pattern, a progress bar.

A command module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> exit code`` on it; ``layerviz.cli`` lists the modules.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

__all__ = [
    "add_grid_options",
    "add_model_limit",
    "add_pattern_options",
    "model_limit",
    "parse_grid",
    "parse_limit",
    "parse_pair",
    "parse_pattern_source",
    "parse_seed",
    "pattern_from_args",
    "positive_int",
    "progress_bar",
    "read_regular_file",
]


def parse_pair(text: str) -> tuple[int, int]:
    """Parse ``"3x3"``, ``"3,4"`` or ``"5"`` (square) into two non-negative ints."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS such as 3x3, got {text!r}")
    return values[0], values[1]


def parse_grid(text: str) -> tuple[int, int]:
    """Parse a grid size like ``parse_pair``; each side within ``layerviz.draw.grid.GRID_SIDES``."""
    from layerviz.draw.grid import GRID_SIDES

    rows, cols = parse_pair(text)
    low, high = GRID_SIDES
    if not (low <= rows <= high and low <= cols <= high):
        raise argparse.ArgumentTypeError(
            f"a grid has {low} to {high} rows and columns, got {text!r}"
        )
    return rows, cols


def parse_limit(text: str) -> tuple[int, int]:
    """Parse a size limit like ``parse_pair``; each side within
    ``layerviz.draw.grid.LIMIT_SIDES``."""
    from layerviz.draw.grid import LIMIT_SIDES

    pair = parse_pair(text)
    if max(pair) > LIMIT_SIDES[1]:
        raise argparse.ArgumentTypeError(
            f"a size limit is at most {LIMIT_SIDES[1]} a side, got {text!r}"
        )
    return pair


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def parse_seed(text: str) -> int:
    """A random seed, checked as everywhere else (``patterns.check_seed``), as a usage error."""
    from layerviz.errors import PatternError
    from layerviz.patterns.inputs import check_seed

    try:
        return check_seed(text)
    except PatternError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_model_limit(parser: argparse.ArgumentParser) -> None:
    """``--max-model-mb``: a cap on the model file named on the command line (none by
    default: the operator's own file is checked, not capped at the upload limit)."""
    parser.add_argument(
        "--max-model-mb",
        type=_positive_mb,
        default=None,
        metavar="MB",
        help="refuse a model file larger than MB megabytes (default: no cap on your own file)",
    )


def model_limit(args: argparse.Namespace) -> int | None:
    """The cap ``--max-model-mb`` asked for, in bytes (None: no cap)."""
    mb = getattr(args, "max_model_mb", None)
    return None if mb is None else round(mb * 1_000_000)


def _positive_mb(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of megabytes, got {text!r}")
    return value


def add_grid_options(parser: argparse.ArgumentParser) -> None:
    """``--grid RxC`` (panels per page) and ``--limit HxW`` (the article's size limit)."""
    for flag, kind, default, metavar, text in (
        ("--grid", parse_grid, (3, 3), "RxC", "panels per file, rows x columns, 1 to 6 each"),
        ("--limit", parse_limit, (15, 15), "HxW", "show a layer when its maps are larger"),
    ):
        parser.add_argument(
            flag,
            type=kind,
            default=default,
            metavar=metavar,
            help=f"{text} (default {default[0]}x{default[1]})",
        )


def parse_pattern_source(text: str) -> tuple[str | None, Path]:
    """``FILE`` or ``NAME=FILE`` (NAME an input's name); an existing file named ``a=b`` wins."""
    name, sep, file = text.partition("=")
    if sep and name and file and "/" not in name and not Path(text).is_file():
        return name, Path(file)
    return None, Path(text)


def add_pattern_options(parser: argparse.ArgumentParser) -> None:
    """``--pattern [NAME=]FILE ... | --seed N``: where the input pattern(s) come from."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--pattern",
        type=parse_pattern_source,
        action="append",
        metavar="[NAME=]FILE",
        help=".npy, .npz, .csv, .png or .jpg input pattern; for a model with several inputs "
        "give one NAME=FILE per input (NAME: the Input's name), or one .npz holding an array "
        "named after each input",
    )
    source.add_argument(
        "--seed", type=parse_seed, help="draw a random pattern from this seed (default: 0)"
    )


def pattern_from_args(model, model_arg: str, args: argparse.Namespace):
    """The pattern ``--pattern`` / ``--seed`` ask for, and a line saying where it came from.

    With neither, a bundled model (by name or by its file's path) opens with its default
    sample, any other model with seed 0. A model with several inputs gets a list of patterns.

    Raises:
        PatternError: a file cannot be read, does not fit its input, or the ``--pattern``
            names do not match the model's inputs.
    """
    import layerviz

    if args.pattern:
        return _patterns_from_files(model, args.pattern)
    bundled = layerviz.bundled_model_of(model_arg)
    sample = bundled.default_sample_path if bundled and args.seed is None else None
    if sample is None:
        seed = 0 if args.seed is None else args.seed
        return layerviz.random_pattern(model, seed=seed), f"random pattern, seed {seed}"
    return _read_for_model(model, sample.read_bytes(), sample.name), f"bundled sample {sample.name}"


def _read_for_model(model, data: bytes, name: str):
    """One file as the model's pattern: its only input's, or every input's from a .npz."""
    from layerviz.patterns.inputs import input_dtypes_of, input_names_of, input_shapes_of
    from layerviz.patterns.readers import read_pattern, read_patterns

    shapes, dtypes = input_shapes_of(model), input_dtypes_of(model)
    if len(shapes) == 1:
        return read_pattern(data, name, shapes[0], dtypes[0])
    return read_patterns(data, name, input_names_of(model), shapes, dtypes)


def _patterns_from_files(model, sources: list[tuple[str | None, Path]]):
    """``--pattern`` values as the model's pattern(s), in input order, and where they came from.

    Raises:
        PatternError: names that are not the model's inputs, an input named twice or left
            out, or a file that cannot be read or does not fit.
    """
    from layerviz.errors import PatternError
    from layerviz.patterns.inputs import input_dtypes_of, input_names_of, input_shapes_of
    from layerviz.patterns.readers import read_pattern

    names, shapes = input_names_of(model), input_shapes_of(model)
    inputs = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=True))
    if len(sources) == 1 and (sources[0][0] is None or names == [sources[0][0]]):
        _, path = sources[0]
        if len(names) > 1 and path.suffix.lower() != ".npz":
            raise PatternError(
                f"the model has {len(names)} inputs, {inputs}: give one --pattern NAME=FILE "
                "per input, or one .npz holding an array named after each input"
            )
        return _read_for_model(model, read_regular_file(path), path.name), str(path)
    given = [name for name, _ in sources]
    wrong = [n for n in given if n not in names]
    if None in given or wrong or len(set(given)) != len(given) or set(given) != set(names):
        problem = (
            f"unknown input {wrong[0]!r}" if wrong and wrong[0] is not None
            else "each input needs exactly one --pattern NAME=FILE"
        )  # fmt: skip
        raise PatternError(f"{problem}; the model's inputs are {inputs}")
    files = dict(sources)
    dtypes = input_dtypes_of(model)
    patterns = [
        read_pattern(read_regular_file(files[n]), files[n].name, shape, dtype)
        for n, shape, dtype in zip(names, shapes, dtypes, strict=True)
    ]
    source = ", ".join(f"{n}={files[n]}" for n in names)
    return (patterns[0] if len(patterns) == 1 else patterns), source


def read_regular_file(path: Path, limit: int | None = None) -> bytes:
    """A pattern file's bytes: regular files only, and never more than the size cap + 1.

    ``limit`` is the size cap, ``layerviz.patterns.readers.MAX_PATTERN_BYTES`` when None.

    ``/dev/zero`` or a FIFO must not grow the process or block it: the file is opened without
    blocking, checked to be a regular file, and read up to the cap.

    Raises:
        PatternError: not a regular file, unreadable, or over the size cap.
    """
    from layerviz.errors import PatternError
    from layerviz.patterns.readers import MAX_PATTERN_BYTES, check_file_size

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PatternError(f"cannot read pattern file {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise PatternError(f"{path}: not a regular file; give a pattern file")
    with os.fdopen(fd, "rb") as handle:
        limit = MAX_PATTERN_BYTES if limit is None else limit
        check_file_size(info.st_size, path.name, limit)
        data = handle.read(limit + 1)
    check_file_size(len(data), path.name, limit)  # it grew while we read it
    return data


def progress_bar(done: int, total: int, unit: str = "pages") -> None:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""
    if not sys.stderr.isatty() or total <= 0:
        return
    width = 30
    filled = round(width * done / total)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}{end}")
    sys.stderr.flush()
