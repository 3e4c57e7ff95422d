"""``layerviz serve``: the dashboard on http://127.0.0.1:8050."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerviz.cli.common import add_model_limit, model_limit


def register(sub) -> None:
    parser = sub.add_parser("serve", help="serve the dashboard on http://127.0.0.1:8050")
    parser.add_argument("model", nargs="?", help="model to open first (default: digits_cnn)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--debug", action="store_true", help="Dash debug mode (never in production)"
    )
    add_model_limit(parser)
    parser.add_argument(
        "--run",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a recorded training run to show in the Training run section (repeatable)",
    )
    parser.add_argument(
        "--runs", type=Path, metavar="DIR", help="a folder of recorded runs, all listed"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from layerviz.ui.app import create_app

    runs = [*args.run, *([args.runs] if args.runs else [])]
    app = create_app(model=args.model, max_model_bytes=model_limit(args), runs=runs or None)
    print(f"layerviz dashboard on http://{args.host}:{args.port}  (Ctrl+C to stop)")
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0
