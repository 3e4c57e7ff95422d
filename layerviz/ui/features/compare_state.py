"""The compare section's server side, without Dash: pattern B's recipe, the comparison, renders.

The browser keeps B as a small recipe beside A's (``ids.PATTERN_STORE``), in one of four forms:

===========  ====================================================  =========================
source       store form                                            pattern B
===========  ====================================================  =========================
``seed``     ``{"source": "seed", "seed": 7}``                     ``random_pattern``
``sample``   ``{"source": "sample", "sample": "digit_7.png"}``     a sample of A's model
``upload``   ``{"source": "upload", "digest", "filename"}``        an upload (workbench)
``perturb``  ``{"source": "perturb", "spec": "noise:sigma=0.1",    A, perturbed
             "seed": 0}``
``epoch``    ``{"source": "epoch", "run": "runs/exp1", "epoch": 3}``  A as a recorded run saw
                                                                   it after epoch 3
===========  ====================================================  =========================

B always belongs to A's model, so a perturbation follows A when A changes. Store data comes
from a browser: :func:`b_pattern` checks every field (``PatternError`` / ``ArgumentError``).
Comparisons are cached by model and the two patterns' contents, so turning a page or clicking
a divergence point runs nothing again. An ``epoch`` B is no pattern: the comparison is of A's
maps now with the run's recorded maps of A (:mod:`layerviz.record.compare`), at the run's
display resolution.
"""

from __future__ import annotations

import io
import threading
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go

from layerviz.analysis.compare import Comparison, compare_patterns
from layerviz.analysis.perturb import format_spec, parse_spec, perturb
from layerviz.draw.compare_figures import compare_grid, divergence_figure, visible_rows
from layerviz.draw.export import comparison_pngs
from layerviz.draw.figures import empty_figure, pattern_figure, prediction_bar
from layerviz.draw.grid import GridSettings, clamp, grid_pages
from layerviz.draw.selection import visible_layers
from layerviz.errors import ArgumentError, PatternError
from layerviz.patterns.inputs import check_seed
from layerviz.record.compare import EpochComparison, compare_with_epoch
from layerviz.ui.cache import ByteLRU
from layerviz.ui.common import current_run
from layerviz.ui.features.training_run_views import offered_run
from layerviz.ui.recipe import Recipe, recipe_from_store
from layerviz.ui.workbench import Workbench, pattern_digest

__all__ = [
    "DEFAULT_B",
    "INPUT_HEIGHT",
    "SOURCES",
    "CompareRender",
    "CompareView",
    "active_b",
    "b_pattern",
    "b_store",
    "compare_view",
    "input_figure",
]

#: Where pattern B can come from, as ``pattern-b-source`` offers it.
SOURCES = ("perturb", "seed", "sample", "upload", "epoch")
#: B when compare mode is switched on: A with a little Gaussian noise.
DEFAULT_B = {"source": "perturb", "spec": "noise:sigma=0.1", "seed": 0}
#: Budget of the comparison cache (each holds A's, B's and B − A's outputs).
CACHE_BYTES = 256 * 2**20


def b_store(
    source: Any,
    *,
    seed: Any = None,
    sample: Any = None,
    kind: Any = None,
    values: Any = None,
    run: Any = None,
    epoch: Any = None,
) -> dict:
    """B's store form from the controls (an upload's comes from ``Workbench.add_upload``).

    Raises:
        ArgumentError: an unknown source or perturbation, a parameter that is not a number, an
            epoch that is not a whole number ≥ 0.
        PatternError: a bad seed, no sample or no run chosen.
    """
    if source == "epoch":
        if not isinstance(run, str) or not run:
            raise PatternError("choose a recorded training run for pattern B")
        return {"source": "epoch", "run": run, "epoch": check_epoch(epoch)}
    if source == "seed":
        return {"source": "seed", "seed": check_seed(0 if seed in (None, "") else seed)}
    if source == "sample":
        if not isinstance(sample, str) or not sample:
            raise PatternError("choose one of the model's samples for pattern B")
        return {"source": "sample", "sample": sample}
    if source == "perturb":
        text = f"{kind}:{values}" if isinstance(values, str) and values.strip() else f"{kind}"
        name, params = parse_spec(text)
        noise_seed = check_seed(0 if seed in (None, "") else seed)
        return {"source": "perturb", "spec": format_spec(name, params), "seed": noise_seed}
    shown = source if isinstance(source, str) and len(source) <= 20 else type(source).__name__
    raise ArgumentError(f"pattern B comes from one of {', '.join(SOURCES)}; got {shown!r}")


def check_epoch(epoch: Any) -> int:
    """An epoch number from a box or a store: a whole number ≥ 0 (0: before training).

    Raises:
        ArgumentError: anything else, named.
    """
    if isinstance(epoch, float) and epoch.is_integer():
        epoch = int(epoch)
    if isinstance(epoch, str) and epoch.strip().isdigit():
        epoch = int(epoch.strip())
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        shown = repr(epoch)[:40] if isinstance(epoch, int | float | str) else type(epoch).__name__
        raise ArgumentError(
            f"the epoch must be a whole number ≥ 0 (0: before training); got {shown}"
        )
    return epoch


def active_b(compare_on: Any, b_data: Any) -> Any:
    """Pattern B's store form when compare mode is on with a B, else None."""
    return b_data if compare_on is True and b_data else None


def b_pattern(workbench: Workbench, a_recipe: Recipe, a: np.ndarray, data: Any) -> np.ndarray:
    """Pattern B for A's model from its store form (checked field by field).

    Raises:
        PatternError: malformed store data, an unknown sample, an upload no longer kept.
        ArgumentError: a perturbation out of range.
    """
    if not isinstance(data, dict):
        raise PatternError("malformed recipe for pattern B: expected an object")
    source = data.get("source")
    if source == "perturb":
        spec = data.get("spec")
        if not isinstance(spec, str) or len(spec) > 200:
            raise PatternError("malformed recipe for pattern B: 'spec' is not a perturbation")
        kind, params = parse_spec(spec)
        return perturb(a, kind, seed=check_seed(data.get("seed", 0)), **params)
    if source in ("seed", "sample", "upload"):
        fields = {k: v for k, v in data.items() if k != "source"}
        recipe = recipe_from_store({**fields, "model": a_recipe.model, "kind": source})
        return workbench.pattern(recipe)
    raise PatternError("malformed recipe for pattern B: unknown source")


def describe_b(data: dict) -> str:
    """B's recipe as people read it: ``"A perturbed by noise:sigma=0.1 (seed 0)"``."""
    source = data.get("source")
    if source == "perturb":
        seed = (
            f" (seed {data.get('seed', 0)})"
            if str(data.get("spec", "")).startswith("noise")
            else ""
        )
        return f"A perturbed by {data.get('spec')}{seed}"
    if source == "seed":
        return f"random pattern, seed {data.get('seed')}"
    if source == "sample":
        return f"sample {data.get('sample')}"
    if source == "epoch":
        return f"A as run {data.get('run')} recorded it after epoch {data.get('epoch')}"
    return f"uploaded {data.get('filename')}"


@dataclass(frozen=True)
class CompareRender:
    """Everything the compare panel shows for one A, B, page and size limit."""

    divergence: go.Figure
    grid: go.Figure
    n_pages: int
    page: int
    summary: str
    prediction_a: go.Figure
    prediction_b: go.Figure
    selected_info: str
    #: A's and B's inputs side by side (where an occlusion box or a shift landed).
    input_a: go.Figure
    input_b: go.Figure


class CompareView:
    """A and B compared for the dashboard, with a cache of comparisons.

    Args:
        workbench: the app's workbench (models, extractors, A's recipes and uploads).
        cache_bytes: budget of the comparison cache.
    """

    def __init__(self, workbench: Workbench, cache_bytes: int = CACHE_BYTES):
        self.workbench = workbench
        self.cache: ByteLRU[Comparison] = ByteLRU(cache_bytes, sizeof=_nbytes)

    def comparison(self, a_store: Any, b_data: Any) -> tuple[Recipe, Comparison]:
        """A's recipe and A compared with B: one batch of two, or the cached result.

        Raises:
            PatternError, ArgumentError, ModelLoadError: as ``current_run`` and ``b_pattern``.
        """
        recipe, run = current_run(self.workbench, a_store)
        if isinstance(b_data, dict) and b_data.get("source") == "epoch":
            return recipe, self._epoch_comparison(recipe, run, b_data)
        b = b_pattern(self.workbench, recipe, run.pattern, b_data)
        extractor = self.workbench.entry(recipe.model).extractor
        key = (recipe.model, pattern_digest(run.pattern), pattern_digest(b))
        result, _ = self.cache.get_or_compute(
            key, lambda: compare_patterns(extractor, run.pattern, b)
        )
        return recipe, result

    def _epoch_comparison(self, recipe: Recipe, run, b_data: dict) -> Comparison:
        """A now against the same pattern as an offered run recorded it after an epoch."""
        recorded = offered_run(self.workbench, b_data.get("run"))
        epoch = check_epoch(b_data.get("epoch"))
        key = ("epoch", recipe.model, pattern_digest(run.pattern), str(recorded.folder),
               len(recorded), epoch)  # fmt: skip
        result, _ = self.cache.get_or_compute(
            key, lambda: compare_with_epoch(recorded, run.extraction, run.pattern, epoch)
        )
        return result

    def inputs(self, a_store: Any, b_data: Any) -> tuple[Any, np.ndarray]:
        """Patterns A and B as the model takes them (batch axis of 1; a tuple for several
        inputs). Raises as :meth:`comparison`."""
        recipe, run = current_run(self.workbench, a_store)
        if isinstance(b_data, dict) and b_data.get("source") == "epoch":
            return run.pattern, run.pattern  # the same pattern, as the run saw it at epoch k
        return run.pattern, b_pattern(self.workbench, recipe, run.pattern, b_data)

    def render(
        self, a_store: Any, b_data: Any, rows: Any, limit: Any, page: Any, selected: Any = None
    ) -> CompareRender:
        """The panel: divergence graph, one page of A | B | B − A rows, both predictions and
        both inputs."""
        recipe, result = self.comparison(a_store, b_data)
        a, b = self.inputs(a_store, b_data)
        settings = GridSettings(rows, 3, limit)
        drawn, drawn_limit = full_size_view(result, settings.limit)
        shown = visible_rows(drawn.layers, drawn_limit)
        per_page = settings.rows
        n_pages = max(1, -(-len(shown) // per_page))
        number = clamp(page, (1, n_pages), 1)
        rows_shown = shown[(number - 1) * per_page : number * per_page]
        picked = _picked_layer(result, recipe.model, selected)
        classes = self.workbench.entry(recipe.model).class_names
        summary = (
            f"layers {(number - 1) * per_page + 1}–{(number - 1) * per_page + len(rows_shown)} "
            f"of {len(shown)} shown (maps larger than {settings.limit_text}); "
            f"B: {describe_b(b_data)}"
            if shown
            else f"no layer output is larger than {settings.limit_text} — lower the size limit"
        )
        return CompareRender(
            divergence=divergence_figure(result.layers, picked.name if picked else None),
            grid=compare_grid(rows_shown) if rows_shown else empty_figure(summary),
            n_pages=n_pages,
            page=number,
            summary=summary,
            prediction_a=prediction_bar(result.a.outputs[0], classes),
            prediction_b=(
                prediction_bar(result.b.outputs[0], classes)
                if result.b.outputs
                else empty_figure("B's prediction was not recorded")
            ),
            selected_info=_selected_text(picked),
            input_a=input_figure(a, "A"),
            input_b=input_figure(b, "B"),
        )

    def jump(
        self, a_store: Any, b_data: Any, click: Any, rows: Any, cols: Any, limit: Any
    ) -> tuple[dict, int | None, int | None]:
        """Where a click on a divergence point leads.

        Returns:
            ``({"model", "layer"}, compare page, activation-grid page)``; a page is None when
            the layer is below the size limit there (it still opens in the inspector).

        Raises:
            ArgumentError: the click names no layer of this comparison.
        """
        position = _clicked_index(click)
        recipe, result = self.comparison(a_store, b_data)
        if not 0 <= position < len(result.layers):
            raise ArgumentError(f"no compared layer output at position {position}")
        name = result.layers[position].name
        settings = GridSettings(rows, cols, limit)
        drawn, drawn_limit = full_size_view(result, settings.limit)
        shown = [d.name for d, _ in visible_rows(drawn.layers, drawn_limit)]
        compare_page = shown.index(name) // settings.rows + 1 if name in shown else None
        grid_order = [panel.name for panel in grid_pages(result.a.activations, settings).layers]
        per_page = settings.rows * settings.cols
        grid_page = grid_order.index(name) // per_page + 1 if name in grid_order else None
        return {"model": recipe.model, "layer": name}, compare_page, grid_page

    def zip_bytes(
        self,
        a_store: Any,
        b_data: Any,
        rows: Any,
        cols: Any,
        limit: Any,
        progress: Callable[[int, int], None] | None = None,
    ) -> bytes:
        """The three page sets in one zip: ``a/0.png…``, ``b/0.png…``, ``diff/0.png…``.

        ``progress(done, total)`` hears each page drawn, counted over the three sets.

        Raises:
            PatternError: no layer is larger than the size limit (nothing to draw).
        """
        _, result = self.comparison(a_store, b_data)
        settings = GridSettings(rows, cols, limit)
        drawn, drawn_limit = full_size_view(result, settings.limit)
        drawn_settings = GridSettings(settings.rows, settings.cols, drawn_limit)
        sets = comparison_pngs(drawn, drawn_settings, _over_three_sets(progress))
        if not sets["a"]:
            raise PatternError(
                "there is nothing to download: no layer output is larger than "
                f"{settings.limit_text}"
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs: stored
            for folder, pngs in sets.items():
                for number, png in enumerate(pngs):
                    entry = zipfile.ZipInfo(
                        f"{folder}/{number}.png", date_time=(1980, 1, 1, 0, 0, 0)
                    )
                    archive.writestr(entry, png)
        return buffer.getvalue()


def full_size_view(result: Comparison, limit: tuple[int, int]) -> tuple[Comparison, tuple]:
    """``(result, limit)`` to draw with: an ``EpochComparison`` holds reduced maps, so it keeps
    only the layers whose *full* outputs (A's extraction) pass ``limit``, drawn with no limit."""
    if not isinstance(result, EpochComparison):
        return result, limit
    names = {panel.name for panel in visible_layers(result.a.activations, limit)}
    return replace(result, layers=[d for d in result.layers if d.name in names]), (0, 0)


_VIEWS: weakref.WeakKeyDictionary[Workbench, CompareView] = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


def compare_view(workbench: Workbench) -> CompareView:
    """The workbench's one ``CompareView``, made on first use.

    The compare section and the architecture graph's divergence colours ask the same view, so
    a comparison runs once and both read it from one cache.
    """
    with _VIEWS_LOCK:
        view = _VIEWS.get(workbench)
        if view is None:
            view = _VIEWS[workbench] = CompareView(workbench)
        return view


def _over_three_sets(progress: Callable[[int, int], None] | None):
    """``comparison_pngs`` counts each set's pages from 1; a bar wants one count of all."""
    if progress is None:
        return None
    done = [0]

    def step(_number: int, total: int) -> None:
        done[0] += 1
        progress(done[0], 3 * total)

    return step


def _nbytes(result: Comparison) -> int:
    layers = sum(d.a.nbytes + d.b.nbytes + d.diff.nbytes for d in result.layers)
    return layers + sum(o.nbytes for o in result.a.outputs + result.b.outputs)


def _clicked_index(click: Any) -> int:
    """The output a click on the divergence graph names: its point's ``customdata``, the
    output's position in the comparison."""
    try:
        value = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        raise ArgumentError("the click on the divergence graph names no point") from None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError("the click on the divergence graph names no layer")
    return value


def _picked_layer(result: Comparison, model: str, selected: Any):
    """The compared layer the shared selected-layer store names, if it is of this model."""
    if not isinstance(selected, dict) or selected.get("model") != model:
        return None
    return next((d for d in result.layers if d.name == selected.get("layer")), None)


#: The height of A's and B's inputs in the Compare tab, side by side.
INPUT_HEIGHT = 220


def input_figure(pattern: Any, name: str) -> go.Figure:
    """Pattern ``name``'s (first) input drawn as the page draws its input, titled ``"B: …"``."""
    part = pattern[0] if isinstance(pattern, tuple | list) else pattern
    figure = pattern_figure(np.asarray(part)[0])
    figure.update_layout(
        title=dict(text=f"{name}: {figure.layout.title.text}", font_size=12),
        height=INPUT_HEIGHT,
        margin=dict(l=4, r=4, t=28, b=4),
    )
    return figure


def _selected_text(layer) -> str:
    if layer is None:
        return "click a point to open its layer"
    top = ", ".join(str(int(c)) for c in layer.ranked_channels[:5])
    relative = "inf" if layer.relative_l2 == float("inf") else f"{layer.relative_l2:.3g}"
    return (
        f"{layer.index}: {layer.name} — cosine distance {layer.cosine:.3g}, relative L2 "
        f"{relative}; most changed channels: {top}"
    )
