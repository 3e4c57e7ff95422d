"""The Recorder on a model trained in the test: what it records, and how it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from layerviz.errors import PatternError, RunError
from layerviz.record.recorder import Recorder
from layerviz.record.run import Run, layer_summary
from record.training import (
    CHANNEL,
    EPOCHS,
    KILL_EPOCH,
    distances,
    train,
)

TRAINING = Path(__file__).with_name("training.py")
ROOT = Path(__file__).resolve().parents[2]


def test_the_run_holds_one_record_before_training_and_one_per_epoch(killed_run):
    run, _ = killed_run
    assert run.epochs == list(range(EPOCHS + 1))
    assert np.isnan(run.logs()["loss"][0]) and np.all(np.isfinite(run.logs()["loss"][1:]))
    assert run.header.probe_source.startswith("seeded random patterns")
    assert run.header.probe[0].shape == (8, 12, 12, 1)
    assert [i.name for i in run.header.layers] == ["c1", "p1", "c2", "gap", "out"]
    assert run.header.versions["keras"] and run.header.versions["backend"]
    assert json.loads(run.header.model_config)["name"] == "tiny_trained"


def test_the_dead_channel_curve_shows_the_killed_channel_dead_from_its_epoch_on(killed_run):
    run, _ = killed_run
    c1 = next(c for c in run.curves() if c.info.name == "c1")
    assert c1.dead.tolist() == [0] * KILL_EPOCH + [1] * (EPOCHS + 1 - KILL_EPOCH)
    for stamp in run.stamps:
        record = run.record(stamp.number, maps=False)
        dead = layer_summary(record.layers[0], run.header.layers[0])["dead"]
        assert (CHANNEL in dead) == (stamp.epoch >= KILL_EPOCH), stamp.epoch
    # The killed bias shows in the weight norms too: c1/bias jumps at KILL_EPOCH.
    bias = run.header.weight_paths.index("c1/bias")
    norms = [run.record(s.number, maps=False).weight_norms[bias] for s in run.stamps]
    assert norms[KILL_EPOCH - 1] < 10 < 1e4 - 10 < norms[KILL_EPOCH]


class NaNChannel(keras.callbacks.Callback):
    """Set layer "lin"'s bias of CHANNEL to NaN at the end of epoch ``at``, before the
    recorder's record: that channel's values are NaN only, the others untouched."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.at:
            bias = self.model.get_layer("lin").bias
            value = keras.ops.convert_to_numpy(bias).copy()
            value[CHANNEL] = np.nan
            bias.assign(value)


def test_a_nan_only_channel_is_non_finite_not_dead(tmp_path):
    # A linear convolution: a ReLU would turn the NaN into 0 on TensorFlow (a dead channel).
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(3, 3, name="lin")(inputs)
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x_train = np.random.default_rng(0).random((8, 6, 6, 1), dtype=np.float32)
    recorder = Recorder(tmp_path / "nan")
    model.fit(x_train, x_train[:, 0, 0], epochs=2, verbose=0, callbacks=[NaNChannel(2), recorder])
    run = Run(tmp_path / "nan")
    curves = {c.info.name: c for c in run.curves()}
    assert curves["lin"].nonfinite.tolist() == [0, 0, 1]  # the NaN-only channel, reported apart
    assert curves["lin"].dead.tolist() == [0, 0, 0]
    assert np.isfinite(curves["lin"].mean[-1])  # over the finite values only
    record = run.record(2, maps=False).layers[0]
    assert np.all(record.maximum[:, CHANNEL] == -np.inf)  # no finite value: "never above 0"
    summary = layer_summary(record, run.header.layers[0])
    assert summary["nonfinite_channels"].tolist() == [CHANNEL]
    assert CHANNEL not in summary["dead"] and CHANNEL not in summary["saturated"]


def test_recorded_maps_of_each_epoch_equal_the_extraction_on_that_epochs_weights(killed_run):
    run, kept = killed_run
    for epoch, far in distances(run, kept).items():
        assert far["maps"] < 2e-3, epoch  # float16 keeps 11 bits
        assert far["stats"] < 1e-5, epoch
    assert run.header.layers[0].stride == 2  # c1's 12×12 kept every 2nd position
    assert run.record(0).layers[0].maps.shape == (8, 6, 6, 4)


def test_the_same_on_jax(tmp_path):
    pytest.importorskip("jax")  # absent from the PyTorch venv (make test-torch)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(TRAINING), "check", str(tmp_path / "jax")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    assert result["epochs"] == list(range(EPOCHS + 1))
    assert result["dead_c1"] == [0] * KILL_EPOCH + [1] * (EPOCHS + 1 - KILL_EPOCH)
    for epoch, far in result["distances"].items():
        assert far["maps"] < 2e-3 and far["stats"] < 1e-5, epoch


def test_patterns_that_do_not_fit_fail_at_train_begin_naming_both_shapes(tmp_path):
    wrong = np.zeros((2, 10, 10, 1), np.float32)
    recorder = Recorder(tmp_path / "run", patterns=wrong)
    with pytest.raises(PatternError, match=r"\(2, 10, 10, 1\).*\(12, 12, 1\)"):
        train(None, recorder=recorder, epochs=1)
    assert not (tmp_path / "run").exists()


def test_a_folder_holding_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match=r"notes\.txt"):
        train(tmp_path, epochs=1)


def test_a_folder_holding_a_run_is_refused(tmp_path):
    train(tmp_path / "run", epochs=1)
    with pytest.raises(RunError, match="holds a recorded run already"):
        train(tmp_path / "run", epochs=1)


def test_an_unwritable_folder_stops_recording_with_one_warning_not_training(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    recorder = Recorder(tmp_path / "file" / "run")
    with pytest.warns(RuntimeWarning, match="stopped recording") as caught:
        train(None, recorder=recorder, epochs=2)
    assert len([w for w in caught if "Recorder" in str(w.message)]) == 1
    assert recorder.stopped and recorder.model.history.epoch == [0, 1]


def test_a_full_disk_stops_recording_with_one_warning_and_training_ends(tmp_path):
    # The disk "fills" after epoch 1: from then on RLIMIT_FSIZE makes every write past 1 KiB
    # fail with EFBIG, as a full disk fails them with ENOSPC.
    script = f"""
import resource, signal, sys, warnings
sys.path[:0] = [{str(ROOT)!r}, {str(TRAINING.parent)!r}]
import keras
from training import train

class FillDisk(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    recorder = train({str(tmp_path / "run")!r}, extra=[FillDisk()], epochs=3)
print(sum("stopped recording" in str(w.message) for w in caught), recorder.model.history.epoch)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-4:] == ["1", "[0,", "1,", "2]"]
    assert Run(tmp_path / "run").epochs == [0]  # epoch 1's record met the full disk
    assert not list((tmp_path / "run" / "records").glob(".*.partial"))


def test_a_run_killed_mid_write_reads_back_to_its_last_complete_epoch(tmp_path):
    folder = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, str(TRAINING), "hang", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        flag = tmp_path / "hanging"
        for _ in range(3000):
            if flag.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists(), child.stderr.read().decode()[-3000:]
    finally:
        child.kill()
        child.wait()
    assert list((folder / "records").glob(".*.partial")), "the kill left no half-written file"
    run = Run(folder)
    assert run.epochs == [0, 1, 2]
    assert run.record(2).layers[0].maps.shape == (8, 6, 6, 4)


def test_a_damaged_record_is_named_with_the_last_good_epoch(tmp_path):
    train(tmp_path / "run", epochs=3)
    victim = tmp_path / "run" / "records" / "00002.h5"
    victim.write_bytes(victim.read_bytes()[:300])
    with pytest.raises(RunError, match=r"00002\.h5 is damaged.*last good epoch is epoch 1"):
        Run(tmp_path / "run")
    salvaged = Run(tmp_path / "run", salvage=True)
    assert salvaged.epochs == [0, 1] and "epoch 1" in salvaged.damage
