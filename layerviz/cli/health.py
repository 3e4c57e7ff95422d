"""``layerviz health``: dead and saturated channels per layer over a batch of patterns."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from layerviz.cli.common import (
    add_model_limit,
    model_limit,
    positive_int,
    progress_bar,
    read_regular_file,
)
from layerviz.cli.table import print_table, write_csv

HEADER = ("#", "layer", "class", "channels", "dead", "saturated", "dead channels")
RIGHT = {0, 3, 4, 5}
DEFAULT_SEEDS = 64
#: How many channel numbers a line lists before it says "…".
SHOWN_CHANNELS = 8


def register(sub) -> None:
    parser = sub.add_parser("health", help="find dead and saturated channels over many patterns")
    parser.add_argument("model", help="a .keras file, or a bundled model name (see 'models')")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--seeds",
        type=positive_int,
        metavar="N",
        help=f"random patterns from seeds 0 … N-1 (the default, N = {DEFAULT_SEEDS})",
    )
    source.add_argument(
        "--patterns", type=Path, metavar="FILE", help=".npy or .npz batch shaped (n, *input)"
    )
    source.add_argument(
        "--samples", action="store_true", help="the bundled model's sample patterns"
    )
    parser.add_argument(
        "--threshold",
        type=_finite_float,
        default=0.0,
        metavar="T",
        help="a channel is dead when it never exceeds T (default 0)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="B",
        help="patterns per forward pass (default 32; lower it to save memory)",
    )
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")
    add_model_limit(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz
    from layerviz.analysis.statistics import records_csv

    model = layerviz.load_model(args.model, max_bytes=model_limit(args))
    patterns, source = _patterns(model, args)
    report = layerviz.model_health(
        model,
        patterns,
        threshold=args.threshold,
        batch_size=args.batch_size,
        progress=lambda done, total: progress_bar(done, total, "patterns"),
    )
    print(f"model: {model.name}   patterns: {source}   threshold: {args.threshold:g}")
    print_table(HEADER, [_row(layer) for layer in report.layers], RIGHT)
    print(
        f"{report.n_dead} dead and {report.n_saturated} saturated channel(s) in "
        f"{len(report.layers)} layers over {report.n_patterns} pattern(s)"
    )
    if args.csv is not None:
        write_csv(args.csv, records_csv(report.layers))
        print(f"wrote {len(report.layers)} rows to {args.csv}")
    return 0


def _patterns(model, args: argparse.Namespace):
    """The batch the options ask for, and a few words saying what it is."""
    import layerviz
    from layerviz.patterns.inputs import input_dtypes_of
    from layerviz.patterns.readers import MAX_BATCH_BYTES

    if args.patterns is not None:
        data = read_regular_file(args.patterns, MAX_BATCH_BYTES)
        shape, dtype = layerviz.input_shape_of(model), input_dtypes_of(model)[0]
        batch = layerviz.read_pattern_batch(data, args.patterns.name, shape, dtype)
        return batch, f"{len(batch)} from {args.patterns}"
    if args.samples:
        shape, dtype = layerviz.input_shape_of(model), input_dtypes_of(model)[0]
        batch = layerviz.sample_patterns(args.model, shape, dtype)
        return batch, f"the {len(batch)} bundled samples"
    n = DEFAULT_SEEDS if args.seeds is None else args.seeds
    return layerviz.seeded_patterns(model, n), f"{n} random (seeds 0-{n - 1})"


def _row(layer) -> list[str]:
    listed = ", ".join(map(str, layer.dead[:SHOWN_CHANNELS]))
    if layer.n_dead > SHOWN_CHANNELS:
        listed += ", …"
    return [
        str(layer.index),
        layer.name,
        layer.class_name,
        str(layer.n_channels),
        str(layer.n_dead),
        str(layer.n_saturated),
        listed,
    ]


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
