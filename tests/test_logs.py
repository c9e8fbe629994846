"""Any training log in, a verdict out: helpers.logs readers, as_history on paths and DataFrames,
and the command line ``python -m helpers.diagnose``.

The Keras logs (CSVLogger file, TensorBoard folder, history JSON) come from one real 4-epoch fit
of a small model on small arrays; the Lightning ``metrics.csv`` is written in the layout
Lightning's ``CSVLogger`` uses (Lightning is not installed here).
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.diagnose import PATTERNS, diagnose
from helpers.diagnose.__main__ import main
from helpers.history import History, as_history, save_history
from helpers.logs import read_dataframe, read_log

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 4
# Lightning's CSVLogger layout: steps logged every 2 batches, then one validation row and one
# training-epoch row per epoch; columns sorted by name.
LIGHTNING_METRICS = """epoch,step,train_acc_epoch,train_loss_epoch,train_loss_step,val_acc,val_loss
0,1,,,1.10,,
0,3,,,0.95,,
0,3,,,,0.61,0.90
0,3,0.55,1.02,,,
1,5,,,0.80,,
1,7,,,0.70,,
1,7,,,,0.70,0.72
1,7,0.68,0.75,,,
2,9,,,0.62,,
2,11,,,0.58,,
2,11,,,,0.74,0.66
2,11,0.75,0.60,,,
3,13,,,0.50,,
3,15,,,0.49,,
3,15,,,,0.76,0.64
3,15,0.79,0.50,,,
"""


@pytest.fixture(scope="module")
def keras_logs(tmp_path_factory):
    """One real Keras fit writing a CSVLogger file, a TensorBoard folder and a history JSON."""
    import keras

    folder = tmp_path_factory.mktemp("keras_logs")
    rng = np.random.default_rng(0)
    images = rng.random((256, 8)).astype("float32")
    labels = (images[:, 0] + images[:, 1] > 1).astype("int32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [keras.callbacks.CSVLogger(str(folder / "log.csv"))]
    if importlib.util.find_spec("tensorboard"):  # Keras' TensorBoard callback needs it
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder / "tensorboard")))
    fit = model.fit(images, labels, epochs=EPOCHS, batch_size=32, validation_split=0.25, verbose=0,
                    callbacks=callbacks)
    history = {key: [float(value) for value in values] for key, values in fit.history.items()}
    (folder / "history.json").write_text(json.dumps(history))
    (folder / "metrics.csv").write_text(LIGHTNING_METRICS)
    return folder, history


def assert_same_curves(read, expected, tolerance=1e-6):
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert read[key] == pytest.approx(expected[key], rel=tolerance), key


def test_a_csvlogger_file_is_read_with_keras_names(keras_logs):
    folder, history = keras_logs
    read = read_log(folder / "log.csv")
    assert "epoch" not in read and len(read["loss"]) == EPOCHS
    assert_same_curves(read, history)


def test_a_keras_tensorboard_folder_gives_the_same_curves(keras_logs):
    pytest.importorskip("tensorboard", reason="TensorBoard logs need the tensorboard package")
    folder, history = keras_logs
    read = read_log(folder / "tensorboard")  # train/ and validation/ inside, tags epoch_*
    assert_same_curves(read, history, tolerance=1e-5)  # TensorBoard stores float32


def test_a_keras_history_json_and_a_list_of_rows(keras_logs, tmp_path):
    folder, history = keras_logs
    assert_same_curves(as_history(folder / "history.json").metrics, history)
    rows = [{key: values[epoch] for key, values in history.items()} | {"epoch": epoch}
            for epoch in range(EPOCHS)]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    assert_same_curves(read_log(tmp_path / "rows.json"), history)


def test_a_lightning_metrics_csv_joins_training_and_validation_rows(keras_logs):
    folder, _ = keras_logs
    read = read_log(folder / "metrics.csv")
    assert read == {"loss": [1.02, 0.75, 0.60, 0.50], "accuracy": [0.55, 0.68, 0.75, 0.79],
                    "val_accuracy": [0.61, 0.70, 0.74, 0.76], "val_loss": [0.90, 0.72, 0.66, 0.64]}


def test_a_column_logged_every_few_steps_is_averaged_per_epoch(tmp_path):
    text = "epoch,step,train_loss,val_loss\n0,1,1.0,\n0,3,0.8,\n0,3,,0.85\n1,5,0.6,\n1,7,0.4,\n1,7,,0.6\n"
    (tmp_path / "metrics.csv").write_text(text)
    assert read_log(tmp_path / "metrics.csv") == {"loss": [0.9, 0.5], "val_loss": [0.85, 0.6]}
    # A NaN step makes its epoch NaN, as in Keras' epoch mean: divergence is not averaged away.
    (tmp_path / "metrics.csv").write_text(text.replace("1,7,0.4,", "1,7,nan,"))
    assert math.isnan(read_log(tmp_path / "metrics.csv")["loss"][1])


def test_a_dataframe_is_read_like_its_csv(keras_logs, tmp_path):
    pandas = pytest.importorskip("pandas")
    folder, history = keras_logs
    assert read_dataframe(pandas.read_csv(folder / "metrics.csv")) == read_log(folder / "metrics.csv")
    # An epoch without its validation row is dropped, not read as a NaN (divergence).
    unfinished = LIGHTNING_METRICS.rsplit("3,15,,,,0.76,0.64\n", 1)[0] + "3,15,0.79,0.50,,,\n"
    (tmp_path / "metrics.csv").write_text(unfinished)
    assert len(read_dataframe(pandas.read_csv(tmp_path / "metrics.csv"))["loss"]) == EPOCHS - 1
    assert_same_curves(as_history(pandas.DataFrame(history)).metrics, history)


def test_nan_in_a_log_is_kept_so_divergence_shows(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,nan,nan\n")
    read = read_log(tmp_path / "log.csv")
    assert math.isnan(read["loss"][1]) and diagnose(tmp_path / "log.csv").pattern == "diverged"


def test_a_saved_run_still_keeps_its_info(tmp_path):
    history = History(metrics={"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.8]},
                      info={"baseline_loss": math.log(10)})
    save_history(history, tmp_path / "run")
    assert as_history(tmp_path / "run").info["baseline_loss"] == math.log(10)
    assert as_history(tmp_path / "run" / "history.json").info["baseline_loss"] == math.log(10)


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n", "columns found: a, b"),
    ("epoch,loss,val_loss\n0,1.0,low\n",
     "row 1, column 'val_loss': 'low' is not a number; columns found: epoch, loss, val_loss"),
    ("epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n0,1.2,1.3\n", "several runs"),
    ("", "empty file"),
])
def test_a_bad_file_is_a_clear_error_naming_it(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_log(path)
    assert str(path) in str(error.value)


def test_missing_files_and_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training log at"):
        as_history(tmp_path / "nowhere.csv")
    with pytest.raises(ValueError, match="without TensorBoard event files"):
        read_log(tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json is not valid JSON"):
        read_log(tmp_path / "broken.json")


def test_a_column_of_text_is_dropped(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,loss,val_loss,note\n0,1.0,1.1,start\n1,0.8,0.9,\n")
    assert read_log(tmp_path / "log.csv") == {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}


def test_tensorboard_without_its_package_is_a_clear_error(tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.startswith("tensorboard")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    (tmp_path / "events.out.tfevents.0.host").write_bytes(b"")
    with pytest.raises(ValueError, match="needs the tensorboard package"):
        read_log(tmp_path)


def test_plot_history_takes_a_log_path(keras_logs):
    import matplotlib.pyplot as plt

    from helpers.plots import plot_history

    folder, _ = keras_logs
    figure, axes = plot_history(folder / "log.csv")
    assert len(axes) == 2  # loss and accuracy
    plt.close(figure)


def run_cli(*arguments):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = dict(os.environ, PYTHONPATH=path, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "helpers.diagnose", *map(str, arguments)],
                          capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300)


@pytest.mark.parametrize("log", ["log.csv", "history.json", "metrics.csv", "tensorboard"])
def test_the_command_line_prints_verdict_evidence_and_advice(keras_logs, log):
    if log == "tensorboard":
        pytest.importorskip("tensorboard", reason="TensorBoard logs need the tensorboard package")
    folder, _ = keras_logs
    result = run_cli(folder / log)
    assert result.returncode == 0, result.stderr
    expected = diagnose(folder / log)
    assert f"Diagnosis: {expected.pattern}" in result.stdout
    assert f"  - {expected.evidence[0]}" in result.stdout and "Advice:" in result.stdout


def test_the_command_line_writes_json_and_a_plot(keras_logs, tmp_path):
    folder, _ = keras_logs
    result = run_cli(folder / "log.csv", "--json", "--plot", tmp_path / "curves.png")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["pattern"] in PATTERNS and data["epochs"] == EPOCHS and data["evidence"]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_line_fails_clearly_on_a_file_it_cannot_read(tmp_path, capsys):
    bad = tmp_path / "notes.csv"
    bad.write_text("name,score\nalice,3\n")  # no loss column
    result = run_cli(bad)
    assert result.returncode == 1 and str(bad) in result.stderr and "columns found" in result.stderr
    assert main([str(tmp_path / "missing.csv")]) == 1  # in-process too
    assert "missing.csv" in capsys.readouterr().err
