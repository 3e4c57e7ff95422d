"""The ``layerviz`` command: export the article's PNGs, list bundled models, serve the dashboard.

Exit codes: 0 success, 2 bad input (one line on stderr saying what was expected and what
arrived), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from layerviz import _quiet  # noqa: F401  (before anything imports TensorFlow)

__all__ = ["main", "parse_grid", "parse_pair"]


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


def _seed(text: str) -> int:
    """A random seed, checked as everywhere else (``patterns.check_seed``), as a usage error."""
    from layerviz.errors import PatternError
    from layerviz.patterns import check_seed

    try:
        return check_seed(text)
    except PatternError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_grid(text: str) -> tuple[int, int]:
    """Parse a grid size like ``parse_pair``; each side must be at least 1."""
    rows, cols = parse_pair(text)
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"a grid needs at least 1 row and 1 column, got {text!r}")
    return rows, cols


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerviz",
        description="See what a pattern looks like in each layer of a Keras model.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    export = sub.add_parser(
        "export", help="write the layer-output grids as 0.png, 1.png, ... (the article's files)"
    )
    export.add_argument("model", help="a .keras/.h5 file, or a bundled model name (see 'models')")
    source = export.add_mutually_exclusive_group()
    source.add_argument("--pattern", type=Path, help=".npy, .npz, .csv, .png or .jpg input pattern")
    source.add_argument(
        "--seed", type=_seed, help="draw a uniform [0, 1) random pattern from this seed"
    )
    export.add_argument(
        "--grid",
        type=parse_grid,
        default=(3, 3),
        metavar="RxC",
        help="panels per file, rows x columns (default 3x3)",
    )
    export.add_argument(
        "--limit",
        type=parse_pair,
        default=(15, 15),
        metavar="HxW",
        help="show a layer when its maps are larger than this (default 15x15)",
    )
    export.add_argument(
        "--plot-model",
        action="store_true",
        help="also write model.png, the architecture (needs Graphviz)",
    )
    export.add_argument("--out", type=Path, required=True, help="folder to write into")

    sub.add_parser("models", help="list the bundled models and their sample patterns")

    serve = sub.add_parser("serve", help="serve the dashboard on http://127.0.0.1:8050")
    serve.add_argument("model", nargs="?", help="model to open first (default: digits_cnn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--debug", action="store_true", help="Dash debug mode (never in production)")
    return parser


def _progress(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = round(width * done / total)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages{end}")
    sys.stderr.flush()


def _export(args: argparse.Namespace) -> int:
    import layerviz

    model = layerviz.load_model(args.model)
    if args.pattern is not None:
        data = _read_file(args.pattern)
        pattern = layerviz.read_pattern(data, args.pattern.name, model.inputs[0].shape)
        source = str(args.pattern)
    elif args.seed is not None or not _default_sample(args.model):
        seed = 0 if args.seed is None else args.seed
        pattern = layerviz.random_pattern(model, seed=seed)
        source = f"random pattern, seed {seed}"
    else:
        sample = _default_sample(args.model)
        pattern = layerviz.read_pattern(sample.read_bytes(), sample.name, model.inputs[0].shape)
        source = f"bundled sample {sample.name}"

    written = layerviz.plot_pattern_process(
        model,
        pattern,
        args.out,
        grid_size=args.grid,
        limit_size_layer=args.limit,
        plot_model=args.plot_model,
        progress=_progress,
    )
    pages = [p for p in written if p.name != "model.png"]
    limit = f"{args.limit[0]}x{args.limit[1]}"
    print(f"model: {model.name}   pattern: {source}")
    if not pages:
        print(f"no layer output is larger than {limit}: lower --limit to see more layers")
    for path in written:
        print(path)
    print(f"wrote {len(pages)} page(s) of {args.grid[0]}x{args.grid[1]} to {args.out}")
    return 0


def _read_file(path: Path) -> bytes:
    from layerviz.errors import PatternError
    from layerviz.patterns import check_size

    try:
        check_size(path.stat().st_size, path.name)  # before reading a huge file into memory
        return path.read_bytes()
    except OSError as exc:
        raise PatternError(f"cannot read pattern file {path}: {exc.strerror or exc}") from exc


def _default_sample(model_arg: str) -> Path | None:
    from layerviz.bundled import get_bundled
    from layerviz.errors import ModelLoadError

    if Path(model_arg).suffix:  # a file path, not a bundled name
        return None
    try:
        return get_bundled(model_arg).default_sample_path
    except ModelLoadError:
        return None


def _models() -> int:
    from layerviz.bundled import list_models

    for bundled in list_models():
        shape = "x".join(map(str, bundled.input_shape))
        print(f"{bundled.name:<16} input {shape:<10} {bundled.title}")
        for sample in bundled.samples:
            print(f"{'':<16}   sample {sample.name}  {sample.description}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from layerviz.ui.app import create_app

    app = create_app(model=args.model)
    print(f"layerviz dashboard on http://{args.host}:{args.port}  (Ctrl+C to stop)")
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _build_parser().parse_args(argv)
    from layerviz.errors import LayervizError

    try:
        if args.command == "export":
            return _export(args)
        if args.command == "models":
            return _models()
        return _serve(args)
    except LayervizError as exc:
        print(f"layerviz: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out names an existing file
        print(f"layerviz: error: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
