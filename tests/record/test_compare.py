"""Pattern A now against the same pattern as a recorded run saw it at epoch k."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from layerviz.analysis.compare import divergences
from layerviz.errors import ArgumentError, PatternError, RunError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.reduce import reduce_activation
from layerviz.record.compare import compare_with_epoch, probe_index
from record.training import EPOCHS, KILL_EPOCH, MAX_SIDE, make_model


@pytest.fixture(scope="module")
def final(killed_run):
    """The tiny CNN with the weights of the run's last epoch, and its extractor."""
    _, kept = killed_run
    model = make_model()
    model.set_weights(kept.by_epoch[EPOCHS])
    return model, ActivationExtractor(model)


def _reference(kept, epoch, pattern) -> list[np.ndarray]:
    """Each layer's maps for ``pattern`` on epoch ``epoch``'s weights, reduced as the run does."""
    model = make_model()
    model.set_weights(kept.by_epoch[epoch])
    arrays = ActivationExtractor(model).extract_batch(pattern).arrays
    return [reduce_activation(a, max_side=MAX_SIDE).maps[0] for a in arrays]


@pytest.mark.parametrize("epoch", [0, KILL_EPOCH, EPOCHS])
def test_b_is_the_pattern_on_that_epochs_weights_and_a_the_model_now(killed_run, final, epoch):
    run, kept = killed_run
    pattern = run.header.probe[0][1:2]  # the second probe pattern
    result = compare_with_epoch(run, final[1].run(pattern), pattern, epoch)
    now, then = _reference(kept, EPOCHS, pattern), _reference(kept, epoch, pattern)
    assert [d.name for d in result.layers] == ["c1", "p1", "c2", "gap", "out"]
    for layer, a, b in zip(result.layers, now, then, strict=True):
        np.testing.assert_allclose(layer.a, a, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(layer.b, b, rtol=2e-3, atol=2e-3)  # stored as float16
        cosine, _ = divergences(a, b)
        assert layer.cosine == pytest.approx(cosine, abs=2e-3)
    if epoch == EPOCHS:  # the same weights: nothing moved but float16 rounding
        assert max(d.relative_l2 for d in result.layers) < 2e-3
    else:
        assert max(d.cosine for d in result.layers) > 1e-3
    # The output layer was recorded whole: B's prediction is the run's softmax of that epoch.
    np.testing.assert_allclose(result.b.outputs[0], then[-1], rtol=2e-3, atol=2e-3)


def test_a_that_is_no_probe_pattern_is_refused_naming_the_probe(killed_run, final):
    run, _ = killed_run
    other = np.zeros((1, 12, 12, 1), np.float32)
    with pytest.raises(PatternError, match=r"not one of the run's probe patterns \(seed 0, "):
        compare_with_epoch(run, final[1].run(other), other, 1)
    assert probe_index(run, run.header.probe[0][3]) == 3


def test_an_epoch_the_run_lacks_names_its_epochs(killed_run, final):
    run, _ = killed_run
    pattern = run.header.probe[0][:1]
    with pytest.raises(ArgumentError, match=f"no record at epoch 99; epochs: 0-{EPOCHS}"):
        compare_with_epoch(run, final[1].run(pattern), pattern, 99)


def test_a_run_of_another_model_is_refused_naming_the_layer(killed_run):
    run, _ = killed_run
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="c1")(inputs)
    other = ActivationExtractor(keras.Model(inputs, x))
    pattern = run.header.probe[0][:1]
    with pytest.raises(RunError, match=r"'c1' is \(12, 12, 4\), A's model gives \(12, 12, 2\)"):
        compare_with_epoch(run, other.run(pattern), pattern, 1)
