"""``layerviz explain``: which part of the input made the model say this, as an overlay PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerviz.cli.common import add_model_limit, add_pattern_options, model_limit, pattern_from_args

#: The method names the command takes, and how a line of output names them.
TITLES = {"gradcam": "Grad-CAM", "saliency": "saliency", "smoothgrad": "SmoothGrad"}


def _opacity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"opacity is a number from 0 to 1, got {text!r}")
    return value


def register(sub) -> None:
    parser = sub.add_parser(
        "explain", help="draw which part of the input made the model say this (Grad-CAM, saliency)"
    )
    parser.add_argument("model", help="a .keras file, or a bundled model name (see 'models')")
    add_pattern_options(parser)
    parser.add_argument(
        "--method",
        choices=tuple(TITLES),
        default="gradcam",
        help="gradcam (default), saliency (the input's gradient) or smoothgrad (16 noisy copies)",
    )
    parser.add_argument(
        "--layer", help="Grad-CAM's layer, e.g. backbone/conv5 (default: the last with maps)"
    )
    parser.add_argument(
        "--class",
        dest="class_index",
        type=int,
        metavar="K",
        help="the class to explain (default: the top class; a one-unit head: 0 is 1-p, 1 is p)",
    )
    parser.add_argument(
        "--target",
        choices=("logit", "probability"),
        default="logit",
        help="what is explained: the class score before the softmax/sigmoid (logit, default, "
        "as the Grad-CAM paper) or the probability after it",
    )
    parser.add_argument(
        "--opacity", type=_opacity, default=0.5, help="the heat map's opacity over an image"
    )
    parser.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    add_model_limit(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz
    from layerviz.analysis.explain import Explainer
    from layerviz.draw.overlay import explanation_png

    model = layerviz.load_model(args.model, max_bytes=model_limit(args))
    pattern, source = pattern_from_args(model, args.model, args)
    explainer = Explainer(model)
    result = explainer.explain(
        pattern, args.method, args.layer, args.class_index, target=args.target
    )
    where = f" at layer {result.layer!r}" if result.layer else ""
    line = f"{TITLES[result.method]}{where}, class {result.class_index} ({result.target})"
    png = explanation_png(pattern, result.heat, f"{model.name}: {line}", args.opacity)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    print(f"model: {model.name}   pattern: {source}")
    print(line)
    print(f"wrote {args.out}")
    return 0
