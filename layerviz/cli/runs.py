"""``layerviz runs``: list the training runs a ``Recorder`` wrote into a folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "runs", help="list the recorded training runs in a folder (epochs, size, last loss)"
    )
    parser.add_argument("folder", type=Path, help="a run's folder, or a folder of runs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layerviz.cli.table import format_number, print_table
    from layerviz.errors import RunError
    from layerviz.record.run import Run, list_runs

    folders = list_runs(args.folder)
    if not folders:
        print(f"no recorded runs in {args.folder}")
        return 0
    rows = []
    for folder in folders:
        try:
            opened = Run(folder, salvage=True)
        except RunError as exc:
            rows.append([folder.name, "?", "-", "-", "-", "-", f"unreadable: {exc}"])
            continue
        loss = opened.last_loss()
        epochs = opened.epochs
        rows.append(
            [
                folder.name,
                opened.header.model_name,
                str(max(epochs)) if epochs else "-",
                str(len(opened)),
                f"{opened.nbytes / 2**20:.2f} MB",
                "-" if loss is None else format_number(loss),
                f"damaged after {opened.stamps[-1].label}" if opened.damage and epochs else "",
            ]
        )
    header = ["run", "model", "epochs", "records", "size", "last loss", "note"]
    print_table(header, rows, right={2, 3, 4, 5})
    return 0
