"""``layerviz compare``: how each layer's output changes from pattern A to pattern B."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from layerviz.cli.common import (
    add_model_limit,
    model_limit,
    parse_grid,
    parse_limit,
    parse_seed,
    progress_bar,
)

#: Channels listed per layer in the table and the CSV, the most changed first.
TOP_CHANNELS = 3


def register(sub) -> None:
    parser = sub.add_parser(
        "compare",
        help="compare two patterns layer by layer: divergences, and PNGs of A, B and B−A",
        description="A is the first --pattern (by default the bundled model's sample, or "
        "seed 0); B is the second --pattern, a random pattern (--seed) or a perturbation of A "
        "(--perturb).",
    )
    parser.add_argument("model", help="a .keras file, or a bundled model name (see 'models')")
    parser.add_argument(
        "--pattern",
        type=Path,
        action="append",
        default=[],
        help="pattern A; given twice, the second is pattern B (.npy, .npz, .csv, .png, .jpg; "
        "for a model with several inputs, a .npz with an array named after each input)",
    )
    parser.add_argument("--seed", type=parse_seed, help="B: a random pattern from this seed")
    parser.add_argument(
        "--perturb",
        metavar="KIND:VALUES",
        help="B: A perturbed, e.g. noise:0.1, shift:2,0 (dx,dy), occlude:x=8,y=8,size=6, scale:0.5",
    )
    parser.add_argument(
        "--perturb-seed", type=parse_seed, default=0, help="the noise's seed (default 0)"
    )
    parser.add_argument("--csv", type=Path, help="also write the table as CSV to this file")
    parser.add_argument(
        "--out", type=Path, help="write PNG pages of A, B and B−A into a/, b/ and diff/ here"
    )
    parser.add_argument(
        "--grid", type=parse_grid, default=(3, 3), metavar="RxC", help="panels per page (3x3)"
    )
    parser.add_argument(
        "--limit",
        type=parse_limit,
        default=(15, 15),
        metavar="HxW",
        help="draw a layer when its maps are larger than this (default 15x15)",
    )
    add_model_limit(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz

    model = layerviz.load_model(args.model, max_bytes=model_limit(args))
    a, a_source = _pattern_a(model, args)
    b, b_source = _pattern_b(model, a, args)
    comparison = layerviz.compare_patterns(model, a, b)
    classes = _class_names(args.model)
    print(f"model: {model.name}")
    print(f"A: {a_source}   prediction: {_prediction(comparison.a.outputs, classes)}")
    print(f"B: {b_source}   prediction: {_prediction(comparison.b.outputs, classes)}")
    print()
    rows = table_rows(comparison.layers)
    print(format_table(rows))
    if args.csv is not None:
        write_csv(rows, args.csv)
        print(f"wrote {args.csv}")
    if args.out is not None:
        counts = write_pages(comparison, args.out, args.grid, args.limit)
        print(f"wrote {counts} page(s) each to {args.out}/a, {args.out}/b and {args.out}/diff")
    return 0


def _pattern_a(model, args: argparse.Namespace):
    from layerviz.cli.common import pattern_from_args

    if len(args.pattern) > 2:
        from layerviz.errors import ArgumentError

        raise ArgumentError(
            f"--pattern is given once for A and once more for B, got {len(args.pattern)}"
        )
    first = [(None, args.pattern[0])] if args.pattern else None
    # pattern_from_args reads --pattern / --seed; here --seed belongs to B, so A gets neither.
    return pattern_from_args(model, args.model, argparse.Namespace(pattern=first, seed=None))


def _pattern_b(model, a, args: argparse.Namespace):
    """B from exactly one of: a second --pattern, --seed, --perturb."""
    import layerviz
    from layerviz.analysis.perturb import format_spec, parse_spec
    from layerviz.cli.common import pattern_from_args
    from layerviz.errors import ArgumentError

    chosen = [len(args.pattern) == 2, args.seed is not None, args.perturb is not None]
    if sum(chosen) != 1:
        raise ArgumentError(
            "give pattern B once: a second --pattern, --seed N or --perturb KIND:VALUES "
            f"(got {sum(chosen)} of them)"
        )
    if args.seed is not None:
        return layerviz.random_pattern(model, seed=args.seed), f"random pattern, seed {args.seed}"
    if args.perturb is not None:
        kind, params = parse_spec(args.perturb)
        b = layerviz.perturb(a, kind, seed=args.perturb_seed, **params)
        seed = f", seed {args.perturb_seed}" if kind == "noise" else ""
        return b, f"A perturbed by {format_spec(kind, params)}{seed}"
    second = argparse.Namespace(pattern=[(None, args.pattern[1])], seed=None)
    return pattern_from_args(model, args.model, second)


def _class_names(model_arg: str) -> tuple[str, ...]:
    from layerviz.load.bundled import bundled_model_of

    bundled = bundled_model_of(model_arg)
    return tuple(bundled.classes) if bundled and bundled.classes else ()


def _prediction(outputs, classes: tuple[str, ...]) -> str:
    """``"3 (p=0.998)"``: the top class of the first output and its probability."""
    from layerviz.analysis.perturb import probabilities

    probs = probabilities(outputs[0][None])[0]
    top = int(probs.argmax())
    name = classes[top] if top < len(classes) else f"class {top}"
    return f"{name} (p={probs[top]:.3f})"


def table_rows(layers) -> list[dict[str, str]]:
    """One row of text cells per layer: index, name, shape, both divergences, top channels."""
    return [
        {
            "index": str(layer.index),
            "layer": layer.name,
            "shape": "x".join(map(str, layer.shape)),
            "cosine_distance": _number(layer.cosine),
            "relative_l2": _number(layer.relative_l2),
            "top_channels": " ".join(map(str, layer.ranked_channels[:TOP_CHANNELS])),
        }
        for layer in layers
    ]


def _number(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6g}"


def format_table(rows: list[dict[str, str]]) -> str:
    """The rows as aligned columns under a header line."""
    headers = {
        "index": "#",
        "layer": "layer",
        "shape": "shape",
        "cosine_distance": "cosine dist",
        "relative_l2": "rel. L2",
        "top_channels": "most changed channels",
    }
    widths = {k: max([len(h)] + [len(r[k]) for r in rows]) for k, h in headers.items()}
    right = {"index", "cosine_distance", "relative_l2"}

    def line(cells: dict[str, str]) -> str:
        parts = [cells[k].rjust(w) if k in right else cells[k].ljust(w) for k, w in widths.items()]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in rows])


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    """The table as CSV with a header row (the column names are ``table_rows``' keys)."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["index"])
        writer.writeheader()
        writer.writerows(rows)


def write_pages(comparison, out: Path, grid, limit) -> int:
    """Write the article's pages of A, of B and of B − A; returns the pages per set."""
    from layerviz.draw.export import comparison_pngs
    from layerviz.draw.grid import GridSettings

    sets = comparison_pngs(comparison, GridSettings.checked(grid, limit), progress_bar)
    for folder_name, pngs in sets.items():
        folder = out / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        for number, png in enumerate(pngs):
            (folder / f"{number}.png").write_bytes(png)
    return len(sets["a"])
