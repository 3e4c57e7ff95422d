"""``layerviz lens``: a dataset through every layer: probe accuracy and layer similarity."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerviz.cli.common import positive_int, progress_bar, read_regular_file

HEADER = ("#", "layer", "class", "channels", "probe acc.", "± (folds)")
RIGHT = {0, 3, 4, 5}


def register(sub) -> None:
    parser = sub.add_parser(
        "lens", help="run a dataset through every layer: linear probes and CKA similarity"
    )
    parser.add_argument("model", help="a .keras/.h5 file, or a bundled model name (see 'models')")
    parser.add_argument(
        "data",
        nargs="?",
        type=Path,
        help=(
            "an .npz with x (and y: labels), or a folder of PNG/JPEG images (one sub-folder "
            "per class for labels); default: the bundled model's held-out set"
        ),
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the CSV and PNG files"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, metavar="B", help="default 32"
    )
    parser.add_argument(
        "--folds", type=positive_int, default=5, metavar="K", help="probe CV folds (default 5)"
    )
    parser.add_argument(
        "--debiased", action="store_true", help="debiased CKA (for datasets of a few hundred)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import layerviz
    from layerviz.cli.table import format_number, print_table, write_csv
    from layerviz.draw.lens_export import cka_csv, cka_png, probe_csv, probe_png
    from layerviz.lens.probes import probe_accuracy

    model = layerviz.load_model(args.model)
    data = _dataset(model, args)
    args.out.mkdir(parents=True, exist_ok=True)
    features = layerviz.dataset_features(
        model,
        data.x,
        batch_size=args.batch_size,
        progress=lambda done, total: progress_bar(done, total, "patterns"),
    )
    labels, what = data.y, "labels y"
    if labels is None and features.predicted is not None:
        labels, what = features.predicted, "the model's own predictions (the data has no y)"
    print(f"model: {model.name}   data: {data.source} ({len(data)} patterns)")
    written = []
    accuracy = {}
    if labels is not None:
        curve = probe_accuracy(features, labels, folds=args.folds)
        accuracy = {row["name"]: row for row in curve.rows()}
        write_csv(args.out / "probe.csv", probe_csv(curve))
        probe_png(curve, args.out / "probe.png", f"{model.name}: linear probe per layer")
        written += ["probe.csv", "probe.png"]
        print(f"probes predict {what}; chance {curve.chance:.3f}, {curve.folds}-fold CV")
    names, matrix = layerviz.layer_similarity(features, debiased=args.debiased)
    write_csv(args.out / "cka.csv", cka_csv(names, matrix))
    kind = "debiased linear CKA" if args.debiased else "linear CKA"
    cka_png(names, matrix, args.out / "cka.png", f"{model.name}: {kind}")
    written += ["cka.csv", "cka.png"]

    def row(layer) -> list[str]:
        probe = accuracy.get(layer.name)
        scores = [format_number(probe[k]) for k in ("accuracy", "spread")] if probe else ["", ""]
        return [str(layer.index), layer.name, layer.class_name, str(layer.n_channels), *scores]

    print_table(HEADER, [row(layer) for layer in features.layers], RIGHT)
    print(f"wrote {', '.join(written)} to {args.out}")
    return 0


def _dataset(model, args: argparse.Namespace):
    import layerviz
    from layerviz.errors import ArgumentError
    from layerviz.lens.datasets import MAX_DATASET_BYTES, bundled_dataset

    shape = layerviz.input_shape_of(model)
    if args.data is None:
        bundled = layerviz.bundled_model_of(args.model)
        data = bundled_dataset(bundled.name, shape) if bundled is not None else None
        if data is None:
            raise ArgumentError(
                f"model {model.name!r} has no bundled dataset; give DATA (an .npz or a folder)"
            )
        return data
    if args.data.is_dir():
        return layerviz.load_dataset(args.data, shape)
    raw = read_regular_file(args.data, MAX_DATASET_BYTES)
    return layerviz.read_dataset(raw, str(args.data), shape)
