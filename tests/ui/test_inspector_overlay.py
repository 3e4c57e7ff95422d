"""The inspector's selected channel and its overlay: stepping in rank order, turning pages,
held at the ends; the channel over an image, a heat band under a sequence, a sentence for a
layer without maps; a model of two inputs. Plain functions, tiny models built here."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import (
    make_conv1d_model,
    make_multi_input_model,
    make_sequential_cnn,
    make_two_images_model,
)

from layerviz.analysis.statistics import channel_scores
from layerviz.draw.channel_figures import SELECTED_COLOUR
from layerviz.errors import ModelStructureError
from layerviz.ui import ids
from layerviz.ui.features.inspector import channel_select, views
from layerviz.ui.features.inspector import overlay_view as module
from layerviz.ui.features.inspector.overlay import click_action
from layerviz.ui.features.inspector.overlay_view import layer_ranking, overlay_view, select
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.workbench import Workbench

#: Six channels whose means are, by channel: 0.5, 3, 1, 2, -1, 4 → ranked 5, 1, 3, 2, 0, 4.
MEANS = np.array([0.5, 3.0, 1.0, 2.0, -1.0, 4.0], np.float32)
RANKED = [5, 1, 3, 2, 0, 4]


@pytest.fixture(scope="module")
def scores():
    return channel_scores(np.broadcast_to(MEANS, (2, 2, 6)), "mean")


def store_of(channel: int, layer: str = "conv", by: str = "mean") -> dict:
    return {"model": "m", "layer": layer, "by": by, "channel": channel}


# --- the selection, on hand-made scores ---------------------------------------------------


def test_the_hand_made_ranking(scores):
    assert scores.order.tolist() == RANKED


def test_the_top_ranked_channel_is_selected_until_another_is(scores):
    first = channel_select.chosen(scores, None, "m", "conv")
    assert (first.channel, first.rank) == (5, 0)
    third = channel_select.chosen(scores, store_of(3), "m", "conv")
    assert (third.channel, third.rank) == (3, 2)
    assert third.label == "channel 3 (rank 3 of 6, mean 2)"


@pytest.mark.parametrize(
    "stored",
    [
        store_of(3, layer="other"),  # another layer's selection
        store_of(3, by="max"),  # another ranking's
        {**store_of(3), "model": "n"},
        store_of(6),
        store_of(-1),
        store_of(True),
        store_of("3"),
        store_of(3.0),
        [3],
        "3",
    ],
)
def test_a_selection_for_something_else_or_malformed_falls_back_to_the_top(scores, stored):
    assert channel_select.chosen(scores, stored, "m", "conv").channel == 5


def test_steps_follow_the_rank_order(scores):
    choice = channel_select.chosen(scores, None, "m", "conv")
    seen = [choice.channel]
    for _ in range(5):
        choice = channel_select.stepped(choice, scores, 1)
        seen.append(choice.channel)
    assert seen == RANKED
    back = channel_select.stepped(choice, scores, -2)
    assert (back.channel, back.rank) == (2, 3)


def test_steps_are_held_at_either_end(scores):
    first = channel_select.chosen(scores, None, "m", "conv")
    assert channel_select.stepped(first, scores, -1).rank == 0
    last = channel_select.chosen(scores, store_of(4), "m", "conv")
    assert last.rank == 5
    assert channel_select.stepped(last, scores, 1).channel == 4


@pytest.mark.parametrize(("rank", "k", "page"), [(0, 4, 1), (3, 4, 1), (4, 4, 2), (5, 1, 6)])
def test_the_page_that_shows_a_rank(rank, k, page):
    assert channel_select.page_of(rank, k) == page


def test_a_click_on_a_tile_names_its_channel(scores):
    # Page 2 of 4 channels holds ranks 5 and 6: channels 0 and 4.
    assert channel_select.clicked(scores, 4, 2, 0).channel == 0
    assert channel_select.clicked(scores, 4, 2, 1).channel == 4
    for curve in (2, 4, -1, True, "0", None, 0.0):
        assert channel_select.clicked(scores, 4, 2, curve) is None


def test_click_action_reads_buttons_and_plotly_clicks():
    assert click_action(ids.CHANNEL_NEXT, None) == "next"
    assert click_action(ids.CHANNEL_PREV, None) == "previous"
    click = {"points": [{"curveNumber": 3, "x": 1, "y": 2, "z": 0.5}]}
    assert click_action(ids.CHANNEL_GRAPH, click) == ("click", 3)
    for garbage in (None, {}, {"points": []}, {"points": "x"}, [1], "A" * 100):
        assert click_action(ids.CHANNEL_GRAPH, garbage) is None


# --- on a real workbench with tiny models ---------------------------------------------------


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    models = {
        "cnn": make_sequential_cnn(),
        "signal": make_conv1d_model(),
        "two": make_multi_input_model(),
    }
    return Workbench(models, include_bundled=False)


def ranking_of(workbench, model: str, layer: str, by: str = "mean"):
    store = SeedRecipe(model, 1).to_store()
    return layer_ranking(workbench, store, {"model": model, "layer": layer}, by)


def test_steps_turn_the_inspector_s_page_at_its_edges(workbench):
    ranking = ranking_of(workbench, "cnn", "conv1")  # 4 channels: 2 pages of 2
    order = ranking.scores.order.tolist()
    stored, page = select(ranking, None, "next", 2, 1)  # rank 1 → 2: still page 1
    assert (stored["channel"], page) == (order[1], 1)
    stored, page = select(ranking, stored, "next", 2, 1)  # rank 2 → 3: onto page 2
    assert (stored["channel"], page) == (order[2], 2)
    stored, page = select(ranking, stored, "next", 2, 2)
    assert (stored["channel"], page) == (order[3], 2)
    assert select(ranking, stored, "next", 2, 2)[0]["channel"] == order[3]  # held at the end
    stored, page = select(ranking, stored, "previous", 2, 2)
    stored, page = select(ranking, stored, "previous", 2, 2)  # back over the edge
    assert (stored["channel"], page) == (order[1], 1)
    assert stored == {"model": "cnn", "layer": "conv1", "by": "mean", "channel": order[1]}


def test_a_click_selects_on_the_page_shown_and_garbage_selects_nothing(workbench):
    ranking = ranking_of(workbench, "cnn", "conv2", "max")  # 6 channels
    order = ranking.scores.order.tolist()
    stored, page = select(ranking, None, ("click", 1), 4, 2)
    assert (stored["channel"], stored["by"], page) == (order[5], "max", 2)
    # k and page as a browser may send them: clamped as the inspector clamps them.
    assert select(ranking, None, ("click", 0), 1000, "x")[0]["channel"] == order[0]
    assert select(ranking, None, ("click", 2), 4, 2) is None  # page 2 holds two channels
    assert select(ranking, None, "sideways", 4, 1) is None


def test_no_layer_selected_is_no_ranking(workbench):
    store = SeedRecipe("cnn", 1).to_store()
    assert layer_ranking(workbench, store, None, "mean") is None
    assert layer_ranking(workbench, store, {"model": "two", "layer": "img_conv"}, "mean") is None
    figure, caption = overlay_view(None, None, 0.5)
    assert caption == "" and not figure.data


def heat_of(figure) -> np.ndarray:
    return np.asarray(figure.data[-1].z, dtype=np.float32)


def test_the_selected_channel_over_an_image(workbench):
    ranking = ranking_of(workbench, "cnn", "conv2")  # (4, 4, 6) over a 12×12 input
    top = int(ranking.scores.order[0])
    figure, caption = overlay_view(ranking, None, 0.3)
    assert [t.type for t in figure.data] == ["heatmap", "heatmap"]  # the input, then the heat
    assert heat_of(figure).shape == (12, 12)
    assert figure.data[1].opacity == pytest.approx(0.3)
    assert caption.startswith(f"channel {top} (rank 1 of 6, mean ")
    assert f"channel {top} over the input" in figure.layout.title.text
    second = int(ranking.scores.order[1])
    other, caption = overlay_view(ranking, store_of_model("cnn", "conv2", second), 0.3)
    assert caption.startswith(f"channel {second} (rank 2 of 6")
    assert not np.array_equal(heat_of(other), heat_of(figure))  # the overlay follows


def store_of_model(model: str, layer: str, channel: int, by: str = "mean") -> dict:
    return {"model": model, "layer": layer, "by": by, "channel": channel}


@pytest.mark.parametrize("opacity", [None, "x", float("inf"), True, [1]])
def test_a_malformed_opacity_is_the_default(workbench, opacity):
    figure, _ = overlay_view(ranking_of(workbench, "cnn", "conv1"), None, opacity)
    assert figure.data[1].opacity == pytest.approx(0.5)


def test_a_sequence_gets_a_heat_band_under_its_waveform(workbench):
    ranking = ranking_of(workbench, "signal", "conv1d")  # (28, 4) along a (32, 2) signal
    figure, caption = overlay_view(ranking, None, 0.5)
    assert [t.type for t in figure.data] == ["scatter", "scatter", "heatmap"]
    assert heat_of(figure).shape == (1, 32)
    assert caption.startswith("channel ")


def test_a_layer_without_maps_gets_a_sentence(workbench):
    figure, caption = overlay_view(ranking_of(workbench, "cnn", "probs"), None, 0.5)
    assert not figure.data
    assert "has no height × width maps to lay over the 12×12 input image" in caption
    figure, caption = overlay_view(ranking_of(workbench, "signal", "out"), None, 0.5)
    assert "no time axis to lay along the 32-step input" in caption


def test_two_inputs_overlay_the_one_the_layer_derives_from(workbench):
    figure, caption = overlay_view(ranking_of(workbench, "two", "img_conv"), None, 0.5)
    assert caption.endswith("over input 'image', which it derives from")
    assert heat_of(figure).shape == (6, 6)
    figure, caption = overlay_view(ranking_of(workbench, "two", "vec_dense"), None, 0.5)
    assert "from input 'vector'." in caption and not figure.data


def test_the_grid_outlines_the_selected_channel(workbench):
    store = SeedRecipe("cnn", 1).to_store()
    picked = {"model": "cnn", "layer": "conv2"}
    order = ranking_of(workbench, "cnn", "conv2").scores.order.tolist()

    def selected_shapes(chosen):
        view = views.inspector_view(
            workbench, store, picked, "mean", 6, 1, "map", None, None, chosen
        )
        titles = [a.text for a in view.figure.layout.annotations]
        shapes = [s for s in view.figure.layout.shapes if s.line.color == SELECTED_COLOUR]
        return shapes, [i for i, t in enumerate(titles) if "selected" in t]

    shapes, marked = selected_shapes(None)
    assert len(shapes) == 1 and marked == [0]  # the top-ranked one by default
    shapes, marked = selected_shapes(store_of_model("cnn", "conv2", order[3]))
    assert len(shapes) == 1 and marked == [3]
    assert shapes[0].line.width > 3  # wider than a health outline, which it may surround


@pytest.fixture(scope="module")
def two_images() -> Workbench:
    return Workbench({"pair": make_two_images_model()}, include_bundled=False)


def test_the_input_a_layer_derives_from_beats_the_first_that_fits(two_images):
    ranking = ranking_of(two_images, "pair", "right_conv")
    figure, caption = overlay_view(ranking, None, 0.5)
    assert caption.endswith("over input 'right', which it derives from")
    right = two_images.extraction(SeedRecipe("pair", 1)).pattern[1][0, :, :, 0]
    np.testing.assert_array_equal(np.asarray(figure.data[0].z), right)  # right's picture


def test_a_graph_that_cannot_be_read_falls_back_to_the_first_input_that_fits(
    two_images, monkeypatch
):
    def unreadable(model):
        raise ModelStructureError("a subclassed model lists no layers")

    monkeypatch.setattr(module, "architecture", unreadable)
    monkeypatch.setattr(module, "_ANCESTORS", module.weakref.WeakKeyDictionary())
    _, caption = overlay_view(ranking_of(two_images, "pair", "right_conv"), None, 0.5)
    assert caption.endswith("over input 'left', the first its maps fit (its source is not known)")


def test_a_turned_page_moves_the_selection_onto_it(workbench):
    ranking = ranking_of(workbench, "cnn", "conv2")  # 6 channels: pages of 4 hold 4 and 2
    order = ranking.scores.order.tolist()
    stored, page = select(ranking, None, "page", 4, 2)  # the top channel is on page 1
    assert (stored["channel"], page) == (order[4], 2)  # page 2's first
    stored, _ = select(ranking, None, ("click", 1), 4, 2)  # rank 5, shown on page 2
    assert select(ranking, stored, "page", 4, 2)[0] == stored  # still shown: it stays
    stored, page = select(ranking, stored, "page", 4, 1)
    assert (stored["channel"], page) == (order[0], 1)
    # The overlay draws the channel the page shows.
    _, caption = overlay_view(ranking, select(ranking, None, "page", 4, 2)[0], 0.5)
    assert caption.startswith(f"channel {order[4]} (rank 5 of 6")
    assert click_action(ids.CHANNEL_PAGE, None) == "page"
