"""``layerviz stats``: one line of statistics per layer for one pattern."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerviz.cli.common import add_model_limit, add_pattern_options, model_limit, pattern_from_args
from layerviz.cli.table import format_number, print_table, write_csv

HEADER = ("#", "layer", "class", "shape", "min", "max", "mean", "std", "zeros", "NaN", "Inf",
          "channels", "dead")  # fmt: skip
RIGHT = {0, *range(4, len(HEADER))}


def register(sub) -> None:
    parser = sub.add_parser(
        "stats", help="print each layer's min, max, mean, std, zeros and dead channels"
    )
    parser.add_argument("model", help="a .keras file, or a bundled model name (see 'models')")
    add_pattern_options(parser)
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")
    add_model_limit(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz
    from layerviz.analysis.statistics import counted_dead, records_csv, value_movers

    model = layerviz.load_model(args.model, max_bytes=model_limit(args))
    pattern, source = pattern_from_args(model, args.model, args)
    extraction = layerviz.ActivationExtractor(model).run(pattern)
    records = layerviz.layer_statistics(extraction)
    print(f"model: {model.name}   pattern: {source}")
    print_table(HEADER, [_row(r) for r in records], RIGHT)
    # A Flatten, a Dropout or an identity Activation repeats its input's channels.
    dead = counted_dead(records, value_movers(model))
    print(f"{len(records)} layers, {dead} dead channel(s) for this pattern (every value <= 0)")
    if args.csv is not None:
        write_csv(args.csv, records_csv(records))
        print(f"wrote {len(records)} rows to {args.csv}")
    return 0


def _row(record) -> list[str]:
    return [
        str(record.index),
        record.name,
        record.class_name,
        "x".join(map(str, record.shape)),
        *(format_number(v) for v in (record.min, record.max, record.mean, record.std)),
        f"{record.zero_fraction:.1%}",
        str(record.nan_count),
        str(record.inf_count),
        str(record.n_channels),
        str(record.n_dead),
    ]
