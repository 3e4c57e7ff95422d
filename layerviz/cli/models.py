"""``layerviz models``: list the bundled models and their sample patterns."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    parser = sub.add_parser("models", help="list the bundled models and their sample patterns")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layerviz.bundled import list_models

    for bundled in list_models():
        shape = "x".join(map(str, bundled.input_shape))
        print(f"{bundled.name:<16} input {shape:<10} {bundled.title}")
        for sample in bundled.samples:
            print(f"{'':<16}   sample {sample.name}  {sample.description}")
    return 0
