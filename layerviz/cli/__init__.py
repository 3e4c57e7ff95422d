"""The ``layerviz`` command: one module per subcommand, each with ``register(subparsers)``.

Exit codes: 0 success, 2 bad input (one line on stderr saying what was expected and what
arrived, usage errors included), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import sys

from layerviz.cli import (
    check,
    compare,
    explain,
    export,
    health,
    models,
    serve,
    stats,
    visualise,
)
from layerviz.cli.common import parse_grid, parse_pair

__all__ = ["main", "parse_grid", "parse_pair"]

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = (export, compare, stats, health, explain, visualise, models, serve, check)


class _UsageError(Exception):
    """argparse found the command line wrong; the message is its one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a wrong command line as one line, not a usage block."""

    def error(self, message: str):
        raise _UsageError(f"{self.prog}: {message}")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="layerviz",
        description="See what a pattern looks like in each layer of a Keras model.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
    except _UsageError as exc:
        print(f"layerviz: error: {exc} (see layerviz --help)", file=sys.stderr)
        return 2
    from layerviz.errors import LayervizError

    try:
        return args.func(args)
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
