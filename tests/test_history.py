import json
import math

import pytest

from helpers.history import History, as_history, best_epoch, load_history, save_history


class FakeKerasHistory:
    """What keras.callbacks.History looks like from outside: a .history dict."""

    def __init__(self, history):
        self.history = history


def test_keys_are_normalized_from_every_source():
    old_style = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "acc": [0.5, 0.7],
                 "val_acc": [0.4, 0.6], "lr": [0.1, 0.05]}
    for source in (old_style, FakeKerasHistory(old_style)):
        history = as_history(source)
        assert history.keys() == ["loss", "val_loss", "accuracy", "val_accuracy"]
        assert history["acc"] == history["accuracy"] == [0.5, 0.7]
        assert history["lr"] == history.learning_rate == [0.1, 0.05]
        assert history.epochs == 2 and history.epoch_numbers == [1, 2]


def test_history_passes_through_unchanged():
    history = History(metrics={"loss": [1.0]})
    assert as_history(history) is history


def test_lists_of_different_lengths_are_an_error():
    with pytest.raises(ValueError, match="same length.*loss: 3.*val_loss: 2"):
        as_history({"loss": [1, 2, 3], "val_loss": [1, 2]})
    with pytest.raises(ValueError, match="same length"):
        History(metrics={"loss": [1.0, 0.5]}, seconds_per_epoch=[1.0])


def test_non_numbers_and_duplicate_keys_are_errors():
    with pytest.raises(ValueError, match="loss"):
        as_history({"loss": ["low", "lower"]})
    with pytest.raises(ValueError, match="both 'acc'"):
        as_history({"accuracy": [0.1], "acc": [0.1]})
    with pytest.raises(ValueError, match="history must be"):
        as_history(42)


def test_missing_key_says_what_there_is():
    with pytest.raises(KeyError, match="no 'val_loss'.*loss"):
        as_history({"loss": [1.0]})["val_loss"]


def test_save_and_load_round_trip_with_nan(tmp_path):
    history = History(metrics={"loss": [1.0, math.nan], "val_loss": [1.2, math.inf]},
                      seconds_per_epoch=[2.0, 2.5], learning_rate=[1e-3, 1e-3],
                      batch_loss=[1.5, 1.0, 0.9], batches_per_epoch=2, info={"seed": 42})
    path = save_history(history, tmp_path / "run")
    assert path.name == "history.json"
    assert json.loads(path.read_text())["metrics"]["val_loss"] == [1.2, math.inf]
    loaded = load_history(tmp_path / "run")
    assert loaded.metrics["loss"][0] == 1.0 and math.isnan(loaded.metrics["loss"][1])
    assert loaded.seconds_per_epoch == [2.0, 2.5] and loaded.info == {"seed": 42}
    assert loaded.batch_loss == [1.5, 1.0, 0.9]
    assert as_history(str(path)).epochs == 2
    with pytest.raises(FileNotFoundError, match="no saved history"):
        load_history(tmp_path / "elsewhere")


def test_best_epoch_skips_nan_and_counts_from_one():
    assert best_epoch({"val_loss": [0.5, 0.3, math.nan, 0.4]}) == 2
    with pytest.raises(ValueError, match="no finite"):
        best_epoch({"val_loss": [math.nan]})


def test_smooth_is_a_debiased_moving_average():
    from helpers.history import smooth

    assert smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    assert smooth([1.0, 0.0], weight=0.5) == pytest.approx([1.0, 1 / 3])
    assert smooth([1.0, 2.0], weight=0.0) == [1.0, 2.0]
    assert math.isnan(smooth([1.0, math.nan, 1.0])[1])
    with pytest.raises(ValueError, match="weight"):
        smooth([1.0], weight=1.0)


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_early_stopping_epoch_agrees_with_keras(patience):
    from helpers.history import early_stopping_epoch

    import keras

    val_loss = [1.0, 0.8, 0.7, 0.72, 0.69, 0.75, 0.8, 0.85, 0.9]

    class Model:
        stop_training = False

    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)
    model = Model()
    callback.set_model(model)
    callback.on_train_begin()
    keras_stop = None
    for epoch, value in enumerate(val_loss):
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            keras_stop = epoch + 1
            break
    assert early_stopping_epoch({"val_loss": val_loss}, patience) == keras_stop
    assert early_stopping_epoch({"val_loss": [3, 2, 1]}, 2) is None
    with pytest.raises(ValueError, match="patience"):
        early_stopping_epoch({"val_loss": val_loss}, 0)


def test_without_penalty_compares_a_regularized_run_on_its_plain_cross_entropy():
    from helpers.history import History, without_penalty

    penalized = History(metrics={"loss": [1.5, 1.2], "val_loss": [1.6, 1.4],
                                 "cross_entropy": [1.0, 0.7], "val_cross_entropy": [1.1, 0.9],
                                 "accuracy": [0.5, 0.6]}, batch_loss=[1.5, 1.4])
    plain = without_penalty(penalized)
    assert plain["loss"] == [1.0, 0.7] and plain["val_loss"] == [1.1, 0.9]
    assert plain["penalized_loss"] == [1.5, 1.2] and plain["val_penalized_loss"] == [1.6, 1.4]
    assert "cross_entropy" not in plain and plain["accuracy"] == [0.5, 0.6]
    assert plain.batch_loss == [] and plain.info["loss_without_penalty"]
    unregularized = History(metrics={"loss": [1.0], "val_loss": [1.1]})
    assert without_penalty(unregularized) is unregularized


def test_kept_epochs_cuts_an_early_stopped_run_at_its_best_epoch():
    from helpers.history import History, kept_epochs

    curves = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [1.1, 0.7, 0.6, 0.65, 0.7]}
    stopped = History(metrics=curves, info={"epochs": 20})  # stopped after 5 of 20 planned
    kept = kept_epochs(stopped)
    assert kept["val_loss"] == [1.1, 0.7, 0.6] and kept.info["kept_epochs"] == 3
    # A run that trained all its planned epochs, or says nothing about its plan, is kept whole.
    assert kept_epochs(History(metrics=curves, info={"epochs": 5})).epochs == 5
    assert kept_epochs(curves).epochs == 5
    # A run that train() says kept its last weights (TerminateOnNaN, no restore) is kept whole.
    last_weights = History(metrics=curves, info={"epochs": 20, "restores_best_weights": False})
    assert kept_epochs(last_weights).epochs == 5
    restored = History(metrics=curves, info={"epochs": 20, "restores_best_weights": True})
    assert kept_epochs(restored).epochs == 3


def test_train_records_whether_a_callback_restores_the_best_weights():
    import numpy as np

    from helpers.history import best_epoch, kept_epochs
    from helpers.models import build_cnn, compile_cnn
    from helpers.training import train

    import keras

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), np.arange(64) % 10
    for restore in (False, True):
        stopping = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=restore,
                                                 min_delta=10.0)  # stops after 2 epochs
        model = compile_cnn(build_cnn(conv_blocks=0, dense_units=4))
        run = train(model, images, labels, epochs=6, batch_size=32, validation_data=(images, labels),
                    callbacks=[stopping], verbose=0)
        assert run.epochs == 2 and run.info["restores_best_weights"] is restore
        assert kept_epochs(run).epochs == (best_epoch(run) if restore else 2)


def test_a_keras_history_keeps_its_planned_epochs():
    from helpers.history import as_history, kept_epochs

    class KerasHistory:  # what model.fit returns: .history and .params
        history = {"loss": [1.0, 0.6, 0.5], "val_loss": [0.9, 0.7, 0.8]}
        params = {"epochs": 10, "steps": 25}

    assert as_history(KerasHistory()).info["epochs"] == 10
    assert kept_epochs(KerasHistory())["val_loss"] == [0.9, 0.7]
