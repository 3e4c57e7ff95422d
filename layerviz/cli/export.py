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


def register(sub) -> None:
    parser = sub.add_parser(
        "export", help="write the layer-output grids as 0.png, 1.png, ... (the article's files)"
    )
    parser.add_argument("model", help="a .keras file, or a bundled model name (see 'models')")
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
