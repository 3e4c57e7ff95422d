"""The run the record tests share: trained once, with a channel killed at a known epoch."""

from __future__ import annotations

import pytest

from layerviz.record.run import Run
from record.training import KeepWeights, KillChannel, train


@pytest.fixture(scope="session")
def killed_run(tmp_path_factory):
    """A run of EPOCHS epochs in which c1's channel CHANNEL is killed after epoch KILL_EPOCH,
    and the weights of every epoch (``KeepWeights``)."""
    folder = tmp_path_factory.mktemp("runs") / "killed"
    kept = KeepWeights()
    train(folder, extra=[KillChannel(), kept])
    return Run(folder), kept
