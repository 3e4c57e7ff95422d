"""The grid drawn from a reduced pass is the grid drawn from the full arrays.

``ReducedExtraction.item`` entries carry only the pixels the tiles keep and the maps' extremes
over the full output; the figure (every panel's PNG, title and colour range) and hover's exact
values in original coordinates must not change.
"""

from __future__ import annotations

import pytest
from tiny_models import image_batch, make_image_model, make_sequence_model, token_batch

from layerviz.draw.grid import GridSettings, grid_pages
from layerviz.draw.normalise import NORM_MODES
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import shown_point, tile_step
from layerviz.extract.activations import ActivationExtractor

SIDE = 24  # small, so that most panels keep every f-th pixel


@pytest.fixture(params=["image", "sequence"])
def both(request, keras_session):
    make, batch = {
        "image": (make_image_model, image_batch),
        "sequence": (make_sequence_model, token_batch),
    }[request.param]
    extractor = ActivationExtractor(make())
    x = batch(1)
    full = extractor.extract_batch(x).item(0).activations
    reduced = extractor.extract_reduced(x, max_side=SIDE).item(0)
    settings = GridSettings(3, 3, (0, 0))
    return grid_pages(full, settings), grid_pages(reduced, settings)


@pytest.mark.parametrize("norm", sorted(NORM_MODES))
def test_reduced_grid_figure_is_the_full_one(both, norm):
    full, reduced = both
    assert [p.title for p in full.layers] == [p.title for p in reduced.layers]
    assert any(tile_step(p, SIDE) > 1 for p in full.layers)
    for number in range(1, full.n_pages + 1):
        want = tile_grid(full.page(number), norm=norm, max_panel_pixels=SIDE).to_plotly_json()
        got = tile_grid(reduced.page(number), norm=norm, max_panel_pixels=SIDE).to_plotly_json()
        assert got == want


def test_hover_on_a_reduced_panel_reports_the_exact_value_in_original_coordinates(both):
    full, reduced = both
    for f, r in zip(full.layers, reduced.layers, strict=True):
        step = tile_step(f, SIDE)
        assert tile_step(r, SIDE) == step
        image = r.image
        for row in range(image.shape[0]):
            for col in range(image.shape[1]):
                assert shown_point(r, step, row, col) == shown_point(f, step, row, col), f.title
