"""``layerviz export``: write the article's PNG files for one pattern."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerviz.cli.common import (
    add_grid_options,
    add_model_limit,
    add_pattern_options,
    model_limit,
    pattern_from_args,
    progress_bar,
)
from layerviz.errors import ArgumentError


def register(sub) -> None:
    parser = sub.add_parser(
        "export", help="write the layer-output grids as 0.png, 1.png, ... (the article's files)"
    )
    parser.add_argument(
        "model", nargs="?", help="a .keras file, or a bundled model name (see 'models')"
    )
    parser.add_argument(
        "--run", type=Path, help="draw a recorded training run's maps instead (no model)"
    )
    parser.add_argument(
        "--epoch", type=int, help="with --run: the epoch whose maps to draw (0: before training)"
    )
    parser.add_argument(
        "--probe",
        type=int,
        default=0,
        help="with --run: which of the run's probe patterns (default 0, the first)",
    )
    add_pattern_options(parser)
    add_grid_options(parser)
    parser.add_argument(
        "--plot-model",
        action="store_true",
        help="also write model.png, the architecture (needs Graphviz)",
    )
    parser.add_argument(
        "--norm",
        choices=("map", "layer", "page"),  # layerviz.draw.normalise's (it imports Keras)
        default=None,
        help="colour ranges: map (each channel its own), layer (one per panel: the article's, "
        "the default) or page (one for all panels of a PNG)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    add_model_limit(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.run is not None or args.epoch is not None:
        return run_epoch(args)
    if args.model is None:
        raise ArgumentError("export needs a model (or --run DIR --epoch K)")
    import layerviz
    from layerviz.draw.export import export_pattern
    from layerviz.draw.grid import GridSettings

    settings = GridSettings.checked(args.grid, args.limit)
    model = layerviz.load_model(args.model, max_bytes=model_limit(args))
    pattern, source = pattern_from_args(model, args.model, args)
    exported = export_pattern(
        model,
        pattern,
        args.out,
        settings,
        plot_model=args.plot_model,
        progress=progress_bar,
        norm=args.norm,
    )
    pages = exported.pages.pages
    limit = f"{args.limit[0]}x{args.limit[1]}"
    print(f"model: {model.name}   pattern: {source}")
    if not pages:
        print(f"no layer output is larger than {limit}: lower --limit to see more layers")
    for number, path in enumerate(exported.paths):
        print(path)
        if number < len(pages):  # what the page shows, by the panels' titles
            print("    " + ", ".join(panel.title for panel in pages[number]))
    print(f"wrote {len(pages)} page(s) of {args.grid[0]}x{args.grid[1]} to {args.out}")
    return 0


def run_epoch(args: argparse.Namespace) -> int:
    """``export --run DIR --epoch K``: the article's PNGs of one probe pattern at one epoch."""
    from layerviz.draw.export import pages_png
    from layerviz.draw.grid import GridSettings, grid_pages
    from layerviz.record.run import Run

    if args.run is None or args.epoch is None or args.model is not None:
        raise ArgumentError("a run's epoch is exported with --run DIR --epoch K and no model")
    if args.pattern or args.seed is not None or args.plot_model:
        raise ArgumentError("--pattern, --seed and --plot-model do not apply to --run")
    recorded = Run(args.run)
    record = recorded.record(recorded.number_at_epoch(args.epoch))
    activations = recorded.activations(record, args.probe, limit_size_layer=args.limit)
    # The limit was applied to the full maps; the recorded ones may be smaller.
    grid = grid_pages(activations, GridSettings.checked(args.grid, (0, 0)))
    pages = grid.pages
    args.out.mkdir(parents=True, exist_ok=True)
    label = recorded.header.probe_labels[args.probe]
    print(f"run: {args.run}   model: {recorded.header.model_name}   {record.label}   {label}")
    for number, png in enumerate(pages_png(grid, norm=args.norm)):
        path = args.out / f"{number}.png"
        path.write_bytes(png)
        print(path)
        print("    " + ", ".join(panel.title for panel in pages[number]))
    print(f"wrote {len(pages)} page(s) of {args.grid[0]}x{args.grid[1]} to {args.out}")
    return 0
