import math
from pathlib import Path

import numpy as np
import pytest
from problems import small_problem

from helpers import training
from helpers.history import load_history
from helpers.models import build_cnn, compile_cnn

import keras


def tiny_model(sparse_labels=False, **options):
    return compile_cnn(build_cnn(filters=4, dense_units=8, **options), sparse_labels=sparse_labels)


def test_train_records_a_history_and_saves_it_every_epoch():
    images, labels = small_problem()
    training.set_seed(0)
    history = training.train(tiny_model(), images, labels, epochs=3, batch_size=32,
                             validation_split=0.25, run_name="unit", record_batches=True,
                             verbose=0)
    assert history.keys() == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epochs == 3
    assert len(history.seconds_per_epoch) == 3 and min(history.seconds_per_epoch) > 0
    assert history.learning_rate == pytest.approx([0.001] * 3)
    assert history.batches_per_epoch == 5  # 144 training samples in batches of 32
    assert len(history.batch_loss) == 15
    # Keras reports the mean of the epoch's batch losses; the recorder recovers each batch.
    for epoch in range(3):
        batch_losses = history.batch_loss[epoch * 5:(epoch + 1) * 5]
        assert np.average(batch_losses, weights=[32, 32, 32, 32, 16]) == pytest.approx(
            history["loss"][epoch], rel=1e-4)
    assert history["val_loss"][-1] < history["val_loss"][0]
    saved = load_history(history.info["run_directory"])
    assert saved.metrics == history.metrics


def test_saved_history_survives_a_crash_mid_run():
    images, labels = small_problem()

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("kernel died")

    with pytest.raises(RuntimeError):
        training.train(tiny_model(), images, labels, epochs=5, batch_size=32,
                       validation_split=0.25, run_name="crash", callbacks=[Crash()], verbose=0)
    (run_directory,) = training.runs_directory().iterdir()
    assert load_history(run_directory).epochs == 2


def test_runs_go_to_the_variables_folder_else_the_repositorys_runs(monkeypatch, tmp_path):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv(training.RUNS_DIRECTORY_VARIABLE, str(tmp_path / "mine"))
    assert training.runs_directory() == tmp_path / "mine"
    monkeypatch.delenv(training.RUNS_DIRECTORY_VARIABLE)
    monkeypatch.chdir(root / "notebooks")  # where a notebook's kernel runs
    assert training.runs_directory() == root / "runs"  # not notebooks/runs
    monkeypatch.chdir(tmp_path)  # outside a checkout, as on Colab
    assert training.runs_directory() == Path("runs")


def test_same_seed_gives_identical_histories():
    images, labels = small_problem()
    histories = []
    for _ in range(2):
        training.set_seed(7)
        histories.append(training.train(tiny_model(), images, labels, epochs=2, batch_size=32,
                                         validation_split=0.25, verbose=0))
    assert histories[0].metrics == histories[1].metrics
    training.set_seed(8)
    other = training.train(tiny_model(), images, labels, epochs=2, batch_size=32,
                           validation_split=0.25, verbose=0)
    assert other.metrics != histories[0].metrics


def test_float_one_hot_and_sparse_inputs_give_the_same_run():
    images, labels = small_problem()
    as_floats = (images.astype(np.float32) / 255.0)[..., np.newaxis]
    runs = []
    for x, y, model_options in ((images, labels, {}),
                                (as_floats, np.eye(10, dtype=np.float32)[labels], {}),
                                (images, labels, {"sparse_labels": True})):
        training.set_seed(3)
        runs.append(training.train(tiny_model(**model_options), x, y, epochs=1, batch_size=32,
                                   validation_split=0.25, verbose=0))
    for run in runs[1:]:
        assert run["loss"] == pytest.approx(runs[0]["loss"], rel=1e-5)
        assert run["val_loss"] == pytest.approx(runs[0]["val_loss"], rel=1e-5)


def test_validation_data_equals_validation_split():
    images, labels = small_problem()
    training.set_seed(1)
    by_split = training.train(tiny_model(), images, labels, epochs=1, batch_size=32,
                              validation_split=0.25, verbose=0)
    training.set_seed(1)
    by_data = training.train(tiny_model(), images[:144], labels[:144], epochs=1, batch_size=32,
                             validation_data=(images[144:], labels[144:]), verbose=0)
    assert by_split.metrics == by_data.metrics


def bad_inputs():
    images, labels = small_problem(64)
    with_nan = images.astype(np.float32) / 255.0
    with_nan[3, 4, 5] = math.nan
    return [
        (dict(x=with_nan), ValueError, "x contains NaN"),
        (dict(x=images[:, :20, :20]), ValueError, "x must have shape"),
        (dict(x=images.tolist()), ValueError, "x must be a numpy array"),
        (dict(y=labels[:-1]), ValueError, "x and y must have the same length"),
        (dict(epochs=0), ValueError, "epochs must be an integer of at least 1, got 0"),
        (dict(epochs=2.5), ValueError, "epochs"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=1000), ValueError, "batch_size=1000 is larger"),
        (dict(validation_split=1.0), ValueError, "validation_split"),
        (dict(validation_split=0.2, validation_data=(images, labels)), ValueError, "not both"),
        (dict(validation_data=(images, labels[:3])), ValueError, "validation_data\\[1\\]"),
        (dict(model=build_cnn()), ValueError, "compiled"),
        (dict(model="cnn"), ValueError, "model must be a keras.Model"),
        (dict(model=tiny_model(sparse_labels=True), y=np.eye(10)[labels]), ValueError, "one-hot"),
        (dict(run_name="../escape"), ValueError, "run_name"),
    ]


@pytest.mark.parametrize("changes, error, message", bad_inputs())
def test_bad_input_is_refused_with_the_argument_named(changes, error, message):
    images, labels = small_problem(64)
    arguments = dict(model=tiny_model(), x=images, y=labels, epochs=1, batch_size=16, verbose=0)
    arguments.update(changes)
    with pytest.raises(error, match=message):
        training.train(**arguments)


def test_set_seed_refuses_bad_seeds():
    with pytest.raises(ValueError, match="seed"):
        training.set_seed(-1)
    with pytest.raises(ValueError, match="seed"):
        training.set_seed("42")


def test_recorder_works_with_plain_fit():
    images, labels = small_problem()
    x = (images.astype(np.float32) / 255.0)[..., np.newaxis]
    y = np.eye(10, dtype=np.float32)[labels]
    recorder = training.Recorder()
    model = tiny_model()
    keras_history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25,
                              callbacks=[recorder], verbose=0)
    assert recorder.history.metrics == keras_history.history
    assert recorder.history.epochs == 2


def test_clean_training_loss_is_recorded_in_inference_mode():
    images, labels = small_problem()
    training.set_seed(0)
    model = tiny_model(dropout=0.9)
    history = training.train(model, images, labels, epochs=2, batch_size=32,
                             validation_split=0.25, verbose=0,
                             callbacks=[training.CleanTrainingLoss(images[:64], labels[:64])])
    assert "clean_loss" in history and "clean_accuracy" in history
    expected = model.evaluate(images[:64].astype("float32")[..., None] / 255,
                              np.eye(10)[labels[:64]], verbose=0)[0]
    assert history["clean_loss"][-1] == pytest.approx(expected, rel=1e-4)


def test_clean_training_loss_refuses_mismatched_labels():
    images, labels = small_problem()
    with pytest.raises(ValueError, match="labels"):
        training.train(tiny_model(), images, labels, epochs=1, verbose=0,
                       callbacks=[training.CleanTrainingLoss(images[:64], labels[:10])])


def test_train_stores_the_baseline_loss_for_diagnosis():
    images, labels = small_problem(64)
    history = training.train(tiny_model(), images, labels, epochs=1, batch_size=32, verbose=0)
    assert history.info["baseline_loss"] == pytest.approx(math.log(10))


def test_integer_training_labels_with_one_hot_validation_labels():
    images, labels = small_problem()
    training.set_seed(2)
    mixed = training.train(tiny_model(), images[:144], labels[:144], epochs=1, batch_size=32,
                           validation_data=(images[144:], np.eye(10)[labels[144:]]), verbose=0)
    training.set_seed(2)
    plain = training.train(tiny_model(), images[:144], labels[:144], epochs=1, batch_size=32,
                           validation_data=(images[144:], labels[144:]), verbose=0)
    assert mixed["val_loss"] == pytest.approx(plain["val_loss"], rel=1e-5)


def test_batch_loss_recovers_each_batch_from_size_weighted_running_means():
    from helpers.training import batch_loss

    losses, sizes = [2.0, 1.0, 3.0], [64, 64, 16]  # a short last batch
    seen = np.cumsum(sizes)
    means = [np.dot(losses[:k + 1], sizes[:k + 1]) / seen[k] for k in range(3)]
    recovered = [batch_loss(means[k], seen[k], means[k - 1] if k else 0.0, seen[k - 1] if k else 0)
                 for k in range(3)]
    assert recovered == pytest.approx(losses)
    with pytest.raises(ValueError, match="samples_seen"):
        batch_loss(1.0, 64, 1.0, 64)


def test_recorded_batch_losses_match_losses_computed_batch_by_batch():
    # A frozen model (learning rate 0, no dropout): each batch's loss can be computed directly.
    images, labels = small_problem(80)
    x = (images.astype(np.float32) / 255.0)[..., np.newaxis]
    y = np.eye(10, dtype=np.float32)[labels]
    model = compile_cnn(build_cnn(filters=4, dense_units=8, dropout=0.0), optimizer="sgd",
                        learning_rate=1e-12, steps_per_execution=1)
    recorder = training.Recorder(record_batches=True, batch_size=32, samples=80)
    model.fit(x, y, epochs=1, batch_size=32, shuffle=False, callbacks=[recorder], verbose=0)
    expected = [model.evaluate(x[start:start + 32], y[start:start + 32], verbose=0)[0]
                for start in (0, 32, 64)]  # the last batch holds 16 images
    assert recorder.history.batch_loss == pytest.approx(expected, rel=1e-4)


def test_recorder_calls_its_listeners_with_itself():
    images, labels = small_problem()
    calls = []

    class Listener:
        def on_train_begin(self, recorder):
            calls.append(("begin", recorder.history.epochs))

        def on_batch(self, recorder):
            calls.append(("batch", len(recorder.history.batch_loss)))

        def on_epoch(self, recorder):
            calls.append(("epoch", recorder.history.epochs))

    training.train(tiny_model(), images, labels, epochs=2, batch_size=64, validation_split=0.25,
                   record_batches=True, listeners=[Listener()], verbose=0)
    assert calls == [("begin", 0), ("batch", 1), ("batch", 2), ("batch", 3), ("epoch", 1),
                     ("batch", 4), ("batch", 5), ("batch", 6), ("epoch", 2)]


def test_a_model_built_before_release_memory_still_trains_the_same():
    # set_seed clears Keras' global state; models already built keep working and their runs
    # match those of a kernel that never cleared anything.
    images, labels = small_problem()
    runs = []
    for clear_in_between in (False, True):
        training.set_seed(3)
        model = tiny_model()
        if clear_in_between:
            training.release_memory()
        runs.append(training.train(model, images, labels, epochs=2, batch_size=32,
                                    validation_split=0.25, verbose=0).metrics)
    assert runs[0] == runs[1]


def test_datasets_do_not_autotune_against_training_for_the_cores():
    images, labels = small_problem()
    dataset = training.make_dataset(images, labels, batch_size=32, shuffle=True)
    assert dataset.options().autotune.enabled is False


def test_the_training_step_is_traced_once_and_trains_the_same(monkeypatch):
    # train() creates the optimizer's and the metrics' variables before fit, so Keras traces its
    # training step once instead of twice; the run is the one fit makes without that.
    images, labels = small_problem()
    runs, tracings = [], []
    for build_first in (True, False):
        if not build_first:
            monkeypatch.setattr(training, "build_training_state", lambda *arguments: None)
        training.set_seed(3)
        model = tiny_model()
        traced = []

        def counting_step(data, step=model.train_step, traced=traced):  # runs once per trace
            traced.append(1)
            return step(data)

        model.train_step = counting_step
        runs.append(training.train(model, images[:96], labels[:96], epochs=2, batch_size=32,
                                   validation_split=1 / 3, verbose=0).metrics)
        tracings.append(len(traced))
    assert runs[0] == runs[1]
    assert tracings == [1, 2], tracings


def test_the_recorder_counts_steps_and_images_across_epochs_for_its_listeners():
    images, labels = small_problem(count=100)
    counts = []

    class Counter:
        def on_batch(self, recorder):
            counts.append((recorder.steps_taken, recorder.images_seen))

    training.train(tiny_model(), images, labels, epochs=2, batch_size=32, verbose=0,
                   listeners=[Counter()])
    # 4 batches per epoch, the last one short (4 images).
    assert counts == [(1, 32), (2, 64), (3, 96), (4, 100), (5, 132), (6, 164), (7, 196), (8, 200)]
    assert training.Recorder().images_seen is None  # no batch_size: images are not counted


def test_several_steps_per_call_give_the_same_run_and_train_restores_one_step_where_batches_are_read():
    images, labels = small_problem(count=100)
    runs, counts = {}, []

    class Counter:
        def on_batch(self, recorder):
            counts.append(recorder.steps_taken)

    for steps in (1, 3):
        training.set_seed(0)
        model = compile_cnn(build_cnn(filters=4, dense_units=8), steps_per_execution=steps)
        runs[steps] = training.train(model, images, labels, epochs=2, batch_size=16,
                                     validation_split=0.2, verbose=0).metrics
        assert model.steps_per_execution == steps
    assert runs[1] == runs[3]  # the same weights, batch after batch: equal to the last bit
    # A listener reads every batch: train() runs one step per call, then puts the setting back.
    model = compile_cnn(build_cnn(filters=4, dense_units=8), steps_per_execution=3)
    history = training.train(model, images, labels, epochs=1, batch_size=16, verbose=0,
                             record_batches=True, listeners=[Counter()])
    assert counts == [1, 2, 3, 4, 5, 6, 7] and len(history.batch_loss) == 7
    assert model.steps_per_execution == 3


def test_the_recorder_counts_steps_when_keras_reports_every_few_batches():
    images, labels = small_problem(count=100)
    counts = []

    class EpochCounter:
        def on_epoch(self, recorder):
            counts.append((recorder.steps_taken, recorder.images_seen))

    model = compile_cnn(build_cnn(filters=4, dense_units=8), steps_per_execution=3)
    training.train(model, images, labels, epochs=2, batch_size=32, verbose=0,
                   listeners=[EpochCounter()])
    assert counts == [(4, 100), (8, 200)]  # 4 batches per epoch, reported after batches 3 and 4


def test_a_recorder_that_reads_batches_refuses_a_model_running_several_steps_per_call():
    images, labels = small_problem(count=64)
    x = (images.astype(np.float32) / 255.0)[..., np.newaxis]
    model = compile_cnn(build_cnn(filters=4, dense_units=8), steps_per_execution=4)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.fit(x, np.eye(10)[labels], epochs=1, verbose=0,
                  callbacks=[training.Recorder(record_batches=True)])


def test_reads_each_batch_tells_batch_callbacks_from_epoch_callbacks():
    assert training.reads_each_batch(keras.callbacks.TerminateOnNaN())
    assert not training.reads_each_batch(keras.callbacks.EarlyStopping())
    assert not training.reads_each_batch(keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3))


def test_release_memory_freezes_what_exists_and_still_collects_what_comes_later():
    import gc
    import weakref

    training.release_memory()
    frozen = gc.get_freeze_count()
    assert frozen > 0  # the first call froze the objects of that moment

    class Node:
        pass

    node = Node()
    node.cycle = node  # garbage only a collection finds
    alive = weakref.ref(node)
    del node
    training.release_memory()
    assert alive() is None and gc.get_freeze_count() == frozen  # collected; nothing more frozen
