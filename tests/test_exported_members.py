"""``__all__`` is complete, as in httpx's ``tests/test_exported_members.py``.

(That every name in an ``__all__`` exists is ruff's F822, run by ``make test``.)
"""

from __future__ import annotations

import inspect

import layerviz

#: Names without a leading underscore that are exported on purpose anyway.
INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def test_all_lists_every_public_member_sorted():
    for name in layerviz.__all__:  # names load lazily (PEP 562): bring them all in first
        getattr(layerviz, name)
    public = {
        name
        for name, value in vars(layerviz).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not inspect.ismodule(value)
    }
    assert layerviz.__all__ == sorted(public)


def test_catching_layerviz_error_catches_every_exported_error():
    errors = [getattr(layerviz, n) for n in layerviz.__all__ if n.endswith("Error")]
    assert {e.__name__ for e in errors} >= {"ArgumentError", "PatternError", "ModelLoadError"}
    assert all(issubclass(e, layerviz.LayervizError) for e in errors)


#: The public face as it stood before the package moved into rooms (issue 19): every name
#: stays importable from the top, whatever module now defines it.
PUBLIC_BEFORE_THE_ROOMS = [
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
    "SamplePattern",
    "SkippedLayer",
    "UnsafeModelError",
    "VisibleLayer",
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
    "saliency",
    "sample_patterns",
    "seeded_patterns",
    "show",
    "visible_layers",
]


def test_the_public_face_did_not_move():
    assert set(PUBLIC_BEFORE_THE_ROOMS) <= set(layerviz.__all__)
    for name in PUBLIC_BEFORE_THE_ROOMS:
        assert getattr(layerviz, name) is not None
