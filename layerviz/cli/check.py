"""``layerviz check``: check a model file from a stranger before anything loads it."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "check",
        help="check a .keras file (allowlisted layers, zip limits) and load it once in a "
        "limited child process; prints a report or the reason it is refused",
    )
    parser.add_argument("model", type=Path, help="a .keras file")
    parser.add_argument(
        "--max-mb", type=_positive, default=100.0, help="largest file accepted (default 100)"
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=120.0,
        help="seconds the trial load may take, TensorFlow's start included (default 120)",
    )
    parser.add_argument(
        "--no-canary",
        action="store_true",
        help="static checks only: do not load the model in a child process",
    )
    parser.add_argument(
        "--layers",
        action="store_true",
        help="list every layer with its class (by default: a count of layers by class)",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from layerviz.load.modelcheck import CheckLimits, check_model_file

    limits = CheckLimits(canary_timeout_s=args.timeout)
    report = check_model_file(
        args.model, int(args.max_mb * 1e6), limits=limits, canary=not args.no_canary
    )
    for line in report.lines(all_layers=args.layers):
        print(line)
    return 0
