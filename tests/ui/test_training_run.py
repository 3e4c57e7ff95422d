"""The Training run section's plain functions (what its callbacks return), on a run trained here."""

from __future__ import annotations

import numpy as np
import pytest
from record.training import CHANNEL, EPOCHS, KILL_EPOCH, KillChannel, train

from layerviz.draw.grid import GridSettings
from layerviz.errors import RunError
from layerviz.ui.features import training_run


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-run") / "killed"
    train(folder, extra=[KillChannel()])
    return str(folder)


def grid(folder, number, limit=(3, 3), range_mode="epoch", rows=3, page=1):
    settings = GridSettings(rows, 3, limit)
    return training_run.epoch_grid(
        folder, number, 0, settings, "Viridis", "layer", range_mode, page
    )


def test_the_size_limit_applies_to_the_full_maps(folder):
    _, label, names, *_ = grid(folder, 2)
    assert label.startswith("epoch 2 · loss ")
    assert names == ["c1", "p1", "c2"]  # 12x12, 6x6, 4x4 over 3x3 (c1 is kept 6x6)
    assert grid(folder, 2, limit=(5, 5))[2] == ["c1", "p1"]


def test_a_range_fixed_across_the_run_is_the_same_at_every_epoch(folder):
    def legend(number, mode):
        figure = grid(folder, number, range_mode=mode)[0]
        return [a.text for a in figure.layout.annotations if a.text and ": " not in a.text]

    assert legend(0, "run") == legend(EPOCHS, "run")
    assert legend(0, "epoch") != legend(EPOCHS, "epoch")


def test_the_strip_names_the_epoch_the_channel_died(folder):
    # Channel CHANNEL's tile in c1's 2x2 montage of 6x6 kept maps: row 0, column 1.
    click = {"x": 7 + 1, "y": 1, "step": 1}
    figure = training_run.strip_figure(folder, "c1", click, 0, "Viridis")
    assert f"c1 channel {CHANNEL} over {EPOCHS + 1} records" in figure.layout.title.text
    assert f"first dead: epoch {KILL_EPOCH} " in figure.layout.title.text
    image = figure.data[0].z
    assert image.shape == (6, (EPOCHS + 1) * 7 - 1)
    assert np.all(image[:, KILL_EPOCH * 7 :][np.isfinite(image[:, KILL_EPOCH * 7 :])] == 0)


def test_a_click_between_tiles_says_so(folder):
    with pytest.raises(RunError, match="gap between maps"):
        training_run.strip_figure(folder, "c1", {"x": 6, "y": 1, "step": 1}, 0, "Viridis")


def test_the_curves_mark_the_current_epoch(folder):
    figure = training_run.curves_figure(folder, 3)
    assert {shape.x0 for shape in figure.layout.shapes} == {3.0}
    dead = [t for t in figure.data if t.name == "c1" and t.xaxis == "x4"]
    assert list(dead[0].y) == [0] * KILL_EPOCH + [1] * (EPOCHS + 1 - KILL_EPOCH)


def test_the_grid_pages_layers_as_the_main_grid_does(folder):
    # c1, p1, c2 pass the limit (0, 0)... and gap (1×6) and out (1×3) too: 5 panels, 3 a page.
    first = grid(folder, 2, limit=(0, 0), rows=1)
    assert (first.names, first.n_pages, first.page) == (["c1", "p1", "c2"], 2, 1)
    second = grid(folder, 2, limit=(0, 0), rows=1, page=2)
    assert (second.names, second.page) == (["gap", "out"], 2)
    assert len(second.figure.data) == 2
    assert grid(folder, 2, limit=(0, 0), rows=1, page=99).page == 2  # clamped
    assert grid(folder, 2, limit=(0, 0), rows=1, page="x").page == 1


def test_a_scrub_sends_the_curves_marks_alone_and_they_are_the_figures(folder):
    marks = training_run.curves_marks(folder, 2)
    assert marks == [
        s.to_plotly_json() for s in training_run.curves_figure(folder, 2).layout.shapes
    ]
    figure = training_run.curves_figure(folder, 2)
    assert {m["xref"] for m in marks} == {t.xaxis for t in figure.data}  # one a plot
    assert [a.text for a in figure.layout.annotations][3:5] == [
        "dead channels", "non-finite channels"
    ]  # fmt: skip
