"""layerviz: see what a pattern looks like as it passes through each layer of a Keras 3 model.

The data flows one way::

    load_model -> ActivationExtractor.extract -> visible_layers -> pages -> PNGs / Plotly figures

Example:
    >>> import layerviz
    >>> model = layerviz.load_model("digits_cnn")
    >>> pattern = layerviz.random_pattern(model, seed=0)
    >>> layerviz.plot_pattern_process(model, pattern, "out", grid_size=(3, 3))
"""

import importlib

from layerviz.errors import (
    ArgumentError,
    GraphvizError,
    LayervizError,
    ModelLoadError,
    ModelStructureError,
    PatternError,
    UnsafeModelError,
)

# Names that need Keras come from their modules on first use (PEP 562), so ``import layerviz``
# and ``layerviz --help`` import neither Keras nor its backend (12 s of TensorFlow on this
# machine, and TensorFlow only when Keras runs on it).
_LAZY = {
    "layerviz.analysis.compare": ("Comparison", "LayerDifference", "compare", "compare_patterns"),
    "layerviz.analysis.explain": ("Explainer", "Explanation", "grad_cam", "saliency"),
    "layerviz.analysis.health": (
        "LayerHealth",
        "ModelHealth",
        "model_health",
        "sample_patterns",
        "seeded_patterns",
    ),
    "layerviz.analysis.perturb": ("OcclusionMap", "occlusion_sweep", "perturb"),
    "layerviz.analysis.statistics": (
        "ChannelScores",
        "LayerStatistics",
        "channel_scores",
        "layer_statistics",
        "reduced_statistics",
    ),
    "layerviz.analysis.visualise": (
        "Visualisation",
        "VisualiseSettings",
        "Visualiser",
        "visualise",
    ),
    "layerviz.draw.export": ("plot_pattern_process",),
    "layerviz.draw.selection": ("VisibleLayer", "paginate", "visible_layers"),
    "layerviz.extract.activations": (
        "ActivationExtractor",
        "BatchExtraction",
        "LayerActivation",
        "SkippedLayer",
        "extract_activations",
    ),
    "layerviz.extract.reduce": ("ReducedExtraction", "ReducedLayer", "reduce_activation"),
    "layerviz.load.bundled": (
        "BundledModel",
        "SamplePattern",
        "bundled_model_of",
        "get_bundled",
        "list_models",
    ),
    "layerviz.load.loading": ("load_model",),
    "layerviz.load.modelcheck": ("CheckLimits", "ModelReport", "check_model_file"),
    "layerviz.patterns.inputs": (
        "fit_array",
        "input_shape_of",
        "input_shapes_of",
        "random_pattern",
    ),
    "layerviz.patterns.readers": ("read_pattern", "read_pattern_batch"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str):
    """Import a public name's module on first use and keep the name here."""
    if name == "__version__":  # read from the package's metadata: ~0.1 s, so on first use too
        from layerviz.config import version

        value = globals()[name] = version()
        return value
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'layerviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF) | {"__version__"})


def show(model, pattern=None, port: int = 8050, **kwargs) -> None:
    """Serve an in-memory model in the dashboard (inline in Jupyter); see ``layerviz.ui.show``."""
    from layerviz.ui.show import show as _show  # the only path from the core into Dash

    _show(model, pattern, port=port, **kwargs)


__all__ = [
    "ActivationExtractor",
    "ArgumentError",
    "BatchExtraction",
    "BundledModel",
    "ChannelScores",
    "CheckLimits",
    "Comparison",
    "Explainer",
    "Explanation",
    "GraphvizError",
    "LayerActivation",
    "LayerDifference",
    "LayerHealth",
    "LayerStatistics",
    "LayervizError",
    "ModelHealth",
    "ModelLoadError",
    "ModelReport",
    "ModelStructureError",
    "OcclusionMap",
    "PatternError",
    "ReducedExtraction",
    "ReducedLayer",
    "SamplePattern",
    "SkippedLayer",
    "UnsafeModelError",
    "VisibleLayer",
    "Visualisation",
    "VisualiseSettings",
    "Visualiser",
    "__version__",
    "bundled_model_of",
    "channel_scores",
    "check_model_file",
    "compare",
    "compare_patterns",
    "extract_activations",
    "fit_array",
    "get_bundled",
    "grad_cam",
    "input_shape_of",
    "input_shapes_of",
    "layer_statistics",
    "list_models",
    "load_model",
    "model_health",
    "occlusion_sweep",
    "paginate",
    "perturb",
    "plot_pattern_process",
    "random_pattern",
    "read_pattern",
    "read_pattern_batch",
    "reduce_activation",
    "reduced_statistics",
    "saliency",
    "sample_patterns",
    "seeded_patterns",
    "show",
    "visible_layers",
    "visualise",
]
