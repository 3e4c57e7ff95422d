"""``layerviz visualise``: the pattern each channel looks for, one PNG per channel and a sheet.

Every file is written whole or not at all: its bytes go to a hidden temporary file in the
same folder, renamed over the name when complete, so an interrupt (Ctrl-C) or a full disk
never leaves half a PNG behind.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from layerviz.cli.common import parse_seed, progress_bar

#: Channels drawn when ``--channels`` is left out: the first this many.
DEFAULT_CHANNELS = 16


def parse_channels(text: str) -> list[int]:
    """``"0-15"``, ``"3"`` or ``"0,4,8-11"`` as a list of channel numbers (in that order)."""
    channels: list[int] = []
    try:
        for part in text.split(","):
            first, sep, last = part.strip().partition("-")
            low = int(first)
            high = int(last) if sep else low
            if low < 0 or high < low:
                raise ValueError
            channels.extend(range(low, high + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"channels are numbers or ranges such as 0-15 or 0,4,8-11, got {text!r}"
        ) from None
    return channels


def parse_range(text: str) -> tuple[float, float]:
    """``"0,1"`` or ``"-1,1"``: the input's value range, low then high."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a range is LOW,HIGH such as 0,1, got {text!r}") from None
    return low, high


def register(sub) -> None:
    parser = sub.add_parser(
        "visualise",
        help="draw the pattern each channel of a layer looks for (activation maximisation)",
    )
    parser.add_argument("model", help="a .keras/.h5 file, or a bundled model name (see 'models')")
    parser.add_argument(
        "--layer", help="the layer, e.g. conv2 (default: the output layer: one picture per class)"
    )
    parser.add_argument(
        "--channels",
        type=parse_channels,
        metavar="LIST",
        help=f"channels such as 0-15 or 0,4,8-11 (default: the first {DEFAULT_CHANNELS})",
    )
    parser.add_argument("--steps", type=int, default=256, help="optimisation steps (default 256)")
    parser.add_argument("--seed", type=parse_seed, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--learning-rate", type=float, default=0.1, help="Adam's step size (default 0.1)"
    )
    parser.add_argument(
        "--range",
        dest="value_range",
        type=parse_range,
        default=(0.0, 1.0),
        metavar="LOW,HIGH",
        help="the values the model's input takes (default 0,1; --range=-1,1 for negative LOW)",
    )
    parser.add_argument(
        "--batch", type=int, default=32, help="channels optimised together (default 32)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the folder to write PNGs into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz
    from layerviz.draw.feature_images import contact_sheet_png, pattern_png

    model = layerviz.load_model(args.model)
    visualiser = layerviz.Visualiser(model)
    layer = args.layer or visualiser.layers[-1]
    count = visualiser.n_channels(layer)
    channels = args.channels or list(range(min(count, DEFAULT_CHANNELS)))
    result = layerviz.visualise(
        visualiser,
        layer,
        channels,
        steps=args.steps,
        seed=args.seed,
        learning_rate=args.learning_rate,
        batch_size=args.batch,
        progress=lambda done, total: progress_bar(done, total, "steps"),
        value_range=args.value_range,
    )
    stem = layer.replace("/", "_").replace(":", "_")
    args.out.mkdir(parents=True, exist_ok=True)
    value_range = result.settings.value_range
    paths = []
    for channel, image in zip(result.channels, result.images, strict=True):
        paths.append(args.out / f"{stem}_channel_{channel}.png")
        write_whole(paths[-1], pattern_png(image, value_range))
    labels = [f"{c}: {v:.3g}" for c, v in zip(result.channels, result.history[-1], strict=True)]
    title = f"{model.name} / {layer}: {result.objective}, {args.steps} steps, seed {args.seed}"
    sheet = args.out / f"{stem}_sheet.png"
    write_whole(sheet, contact_sheet_png(result.images, labels, value_range, title))
    print(f"model: {model.name}   layer: {layer}   objective: {result.objective}")
    print(f"wrote {len(paths)} channel PNGs and {sheet}")
    return 0


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it when complete."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
