import numpy as np
import pytest
from problems import small_problem

from helpers import reused_runs
from helpers.recipes import HEALTHY, run_recipe
from helpers.training import runs_directory

SMALL = {"training_images": 120, "epochs": 2}


def stored_files():
    folder = runs_directory() / reused_runs.FOLDER_NAME
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_an_identical_run_is_loaded_and_equals_training_it_again(capsys):
    images, labels = small_problem()
    trained = run_recipe(HEALTHY, images, labels, **SMALL)
    assert "Reused" not in capsys.readouterr().out and len(stored_files()) == 1
    loaded = run_recipe(HEALTHY, images, labels, **SMALL)
    assert "Reused, not retrained" in capsys.readouterr().out
    assert loaded.info["reused_from"] == str(stored_files()[0])
    retrained = run_recipe(HEALTHY, images, labels, reuse=False, **SMALL)
    # Bit for bit: the stored run is the run.
    assert loaded.metrics == trained.metrics == retrained.metrics
    assert loaded.seconds_per_epoch == trained.seconds_per_epoch
    assert loaded.info["trained_at"] == trained.info["trained_at"]


def test_batch_losses_are_stored_and_returned_only_when_asked_for():
    images, labels = small_problem()
    plain = run_recipe(HEALTHY, images, labels, **SMALL)
    assert plain.batch_loss == [] and plain.batches_per_epoch is None
    # The stored run has no batch losses (it ran several steps per call): asked for, it trains
    # again, one step per call, to the same curves, and stores them.
    with_batches = run_recipe(HEALTHY, images, labels, record_batches=True, **SMALL)
    assert "reused_from" not in with_batches.info and with_batches.metrics == plain.metrics
    assert len(with_batches.batch_loss) == 2 * with_batches.batches_per_epoch > 0
    again = run_recipe(HEALTHY, images, labels, record_batches=True, **SMALL)
    assert "reused_from" in again.info and again.batch_loss == with_batches.batch_loss
    without = run_recipe(HEALTHY, images, labels, **SMALL)
    assert "reused_from" in without.info and without.batch_loss == []
    assert len(stored_files()) == 1


@pytest.mark.parametrize("difference", [
    {"seed": 1}, {"data_seed": 5}, {"learning_rate": 0.01}, {"model": {"dropout": 0.5}},
    {"epochs": 1},
])
def test_any_difference_in_settings_or_seed_trains_a_new_run(difference):
    images, labels = small_problem()
    run_recipe(HEALTHY, images, labels, **SMALL)
    other = run_recipe(HEALTHY, images, labels, **{**SMALL, **difference})
    assert "reused_from" not in other.info and len(stored_files()) == 2


def test_different_data_trains_a_new_run():
    images, labels = small_problem()
    run_recipe(HEALTHY, images, labels, **SMALL)
    changed = images.copy()
    changed[:, 0, 0] = np.where(changed[:, 0, 0] > 0, changed[:, 0, 0] - 1, 1)
    other = run_recipe(HEALTHY, changed, labels, **SMALL)
    assert "reused_from" not in other.info


def test_runs_with_callbacks_or_listeners_or_reuse_off_are_always_trained(monkeypatch):
    import keras

    images, labels = small_problem()
    run_recipe(HEALTHY, images, labels, **SMALL)
    with_callback = run_recipe(HEALTHY, images, labels, callbacks=[keras.callbacks.Callback()],
                               **SMALL)
    assert "reused_from" not in with_callback.info
    monkeypatch.setenv(reused_runs.REUSE_VARIABLE, "0")
    assert "reused_from" not in run_recipe(HEALTHY, images, labels, **SMALL).info
    assert len(stored_files()) == 1


def test_the_key_covers_versions_machine_and_helpers_code(monkeypatch):
    images, _ = small_problem()
    key = reused_runs.run_key({"a": 1}, images)
    assert reused_runs.run_key({"a": 1}, images) == key
    assert reused_runs.run_key({"a": 2}, images) != key
    monkeypatch.setattr(reused_runs, "_library_version", lambda name: "0.0")
    assert reused_runs.run_key({"a": 1}, images) != key
    monkeypatch.undo()
    monkeypatch.setattr(reused_runs, "_helpers_digest", lambda: "changed code")
    assert reused_runs.run_key({"a": 1}, images) != key


def test_a_damaged_stored_run_is_trained_again():
    images, labels = small_problem()
    run_recipe(HEALTHY, images, labels, **SMALL)
    stored_files()[0].write_text("{ not json")
    again = run_recipe(HEALTHY, images, labels, **SMALL)
    assert "reused_from" not in again.info
    assert "reused_from" in run_recipe(HEALTHY, images, labels, **SMALL).info


def test_a_bad_reuse_setting_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv(reused_runs.REUSE_VARIABLE, "maybe")
    with pytest.raises(ValueError, match="LCL_REUSE_RUNS='maybe'"):
        reused_runs.reuse_enabled()


def test_a_reused_run_says_where_and_when_it_was_trained(monkeypatch):
    from helpers.history import History

    monkeypatch.setenv("JPY_SESSION_NAME", "/home/student/notebooks/05_underfitting.ipynb")
    history = reused_runs.store_run("k" * 32, History(metrics={"loss": [1.0]}), runs_directory())
    assert history.info["trained_in"] == "05_underfitting.ipynb"
    text = reused_runs.describe_origin(reused_runs.load_run("k" * 32, runs_directory()))
    assert text == f"trained in 05_underfitting.ipynb at {history.info['trained_at']}"


def test_a_run_written_out_as_the_notebooks_do_is_the_recipes_run_and_is_remembered(capsys):
    from helpers.data import split_train_validation, stratified_subset
    from helpers.models import build_cnn, compile_cnn
    from helpers.recipes import OVERFITTING, remember_run, with_changes
    from helpers.training import set_seed, train

    images, labels = small_problem()
    recipe = with_changes(OVERFITTING, training_images=120, epochs=2)
    # 04's problem run, step by step: subset, split, seed, model, fit.
    x_subset, y_subset = stratified_subset(images, labels, recipe.training_images, seed=42)
    (x_fit, y_fit), validation = split_train_validation(x_subset, y_subset, 0.2)
    set_seed(42)
    model = compile_cnn(build_cnn(dropout=0.0, dense_units=512), optimizer="adam",
                        learning_rate=0.001)
    written_out = train(model, x_fit, y_fit, epochs=recipe.epochs, batch_size=recipe.batch_size,
                        validation_data=validation, seed=42, verbose=0)
    assert remember_run(written_out, recipe, images, labels, seed=42) is written_out
    assert len(stored_files()) == 1
    loaded = run_recipe(recipe, images, labels, seed=42)
    assert "Reused, not retrained" in capsys.readouterr().out
    assert loaded.metrics == written_out.metrics
    assert run_recipe(recipe, images, labels, seed=42, reuse=False).metrics == written_out.metrics
    # Another seed or change is another run.
    assert "reused_from" not in run_recipe(recipe, images, labels, seed=1).info


def test_remember_run_stores_nothing_with_reuse_off(monkeypatch):
    from helpers.recipes import remember_run

    images, labels = small_problem()
    history = run_recipe(HEALTHY, images, labels, reuse=False, **SMALL)
    monkeypatch.setenv(reused_runs.REUSE_VARIABLE, "0")
    remember_run(history, HEALTHY, images, labels, **SMALL)
    assert stored_files() == []
