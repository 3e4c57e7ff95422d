"""``layerviz models``: list the bundled models and their sample patterns."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    parser = sub.add_parser("models", help="list the bundled models and their sample patterns")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layerviz.load.bundled import list_models

    for bundled in list_models():
        shapes = ["x".join(map(str, item.shape)) for item in bundled.inputs]
        if len(bundled.inputs) == 1:
            print(f"{bundled.name:<16} input {shapes[0]:<10} {bundled.title}")
        else:
            named = " + ".join(f"{i.name} {s}" for i, s in zip(bundled.inputs, shapes, strict=True))
            print(f"{bundled.name:<16} inputs {named}   {bundled.title}")
        for sample in bundled.samples:
            print(f"{'':<16}   sample {sample.name}  {sample.description}")
    return 0
