"""layerviz: see what a pattern looks like as it passes through each layer of a Keras 3 model.

The data flows one way::

    load_model -> ActivationExtractor.extract -> visible_layers -> pages -> PNGs / Plotly figures

Example:
    >>> import layerviz
    >>> model = layerviz.load_model("digits_cnn")
    >>> pattern = layerviz.random_pattern(model, seed=0)
    >>> layerviz.plot_pattern_process(model, pattern, "out", grid_size=(3, 3))
"""

from layerviz import _quiet  # noqa: F401  (must run before TensorFlow is imported)
from layerviz.analysis.compare import Comparison, LayerDifference, compare, compare_patterns
from layerviz.analysis.explain import Explainer, Explanation, grad_cam, saliency
from layerviz.analysis.health import (
    LayerHealth,
    ModelHealth,
    model_health,
    sample_patterns,
    seeded_patterns,
)
from layerviz.analysis.perturb import OcclusionMap, occlusion_sweep, perturb
from layerviz.analysis.statistics import (
    ChannelScores,
    LayerStatistics,
    channel_scores,
    layer_statistics,
    reduced_statistics,
)
from layerviz.config import version as _version
from layerviz.draw.export import plot_pattern_process
from layerviz.draw.selection import VisibleLayer, paginate, visible_layers
from layerviz.errors import (
    ArgumentError,
    GraphvizError,
    LayervizError,
    ModelLoadError,
    ModelStructureError,
    PatternError,
    UnsafeModelError,
)
from layerviz.extract.activations import (
    ActivationExtractor,
    BatchExtraction,
    LayerActivation,
    SkippedLayer,
    extract_activations,
)
from layerviz.extract.reduce import ReducedExtraction, ReducedLayer, reduce_activation
from layerviz.lens.datasets import Dataset, load_dataset, read_dataset
from layerviz.lens.features import (
    DatasetFeatures,
    LayerFeatures,
    TopExamples,
    dataset_features,
    merge_features,
    top_examples,
)
from layerviz.lens.probes import ProbeCurve, probe_accuracy
from layerviz.lens.similarity import cka, layer_similarity
from layerviz.load.bundled import (
    BundledModel,
    SamplePattern,
    bundled_model_of,
    get_bundled,
    list_models,
)
from layerviz.load.loading import load_model
from layerviz.load.modelcheck import CheckLimits, ModelReport, check_model_file
from layerviz.patterns.inputs import fit_array, input_shape_of, input_shapes_of, random_pattern
from layerviz.patterns.readers import read_pattern, read_pattern_batch

__version__ = _version()


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
    "Dataset",
    "DatasetFeatures",
    "Explainer",
    "Explanation",
    "GraphvizError",
    "LayerActivation",
    "LayerDifference",
    "LayerFeatures",
    "LayerHealth",
    "LayerStatistics",
    "LayervizError",
    "ModelHealth",
    "ModelLoadError",
    "ModelReport",
    "ModelStructureError",
    "OcclusionMap",
    "PatternError",
    "ProbeCurve",
    "ReducedExtraction",
    "ReducedLayer",
    "SamplePattern",
    "SkippedLayer",
    "TopExamples",
    "UnsafeModelError",
    "VisibleLayer",
    "__version__",
    "bundled_model_of",
    "channel_scores",
    "check_model_file",
    "cka",
    "compare",
    "compare_patterns",
    "dataset_features",
    "extract_activations",
    "fit_array",
    "get_bundled",
    "grad_cam",
    "input_shape_of",
    "input_shapes_of",
    "layer_similarity",
    "layer_statistics",
    "list_models",
    "load_dataset",
    "load_model",
    "merge_features",
    "model_health",
    "occlusion_sweep",
    "paginate",
    "perturb",
    "plot_pattern_process",
    "probe_accuracy",
    "random_pattern",
    "read_dataset",
    "read_pattern",
    "read_pattern_batch",
    "reduce_activation",
    "reduced_statistics",
    "saliency",
    "sample_patterns",
    "seeded_patterns",
    "show",
    "top_examples",
    "visible_layers",
]
