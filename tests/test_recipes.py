import math

import pytest

from helpers.recipes import RECIPES, SPIKY, run_recipe


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("LCL_QUICK", "1")


def test_every_pattern_has_a_recipe():
    assert {recipe.pattern for recipe in RECIPES.values()} == {
        "healthy", "overfitting", "underfitting", "spiky", "diverged", "val_below_train"}


def test_run_recipe_uses_the_mode_sizes_and_records_the_recipe(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("healthy", images, labels, quick_training_images=500, quick_epochs=1)
    assert history.epochs == 1
    assert history.info["training_samples"] == 400 and history.info["recipe"] == "healthy"


def test_learning_rate_spikes_follow_the_schedule(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe(SPIKY, images, labels, quick_training_images=300, quick_epochs=3,
                         learning_rate_spikes=(2,))
    assert history.learning_rate == pytest.approx([0.001, 0.03, 0.001])


def test_divergence_recipe_stops_on_nan(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("diverged", images, labels, quick_training_images=500)
    assert history.epochs == 1 and math.isnan(history["loss"][-1])


def test_bad_recipe_names_and_fields_are_refused(fashion_mnist):
    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="recipe must be one of"):
        run_recipe("exploding", images, labels)
    with pytest.raises(ValueError, match="unknown recipe field.*droput"):
        run_recipe("healthy", images, labels, droput=0.5)


def test_label_noise_clipping_and_batch_recording(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("healthy", images, labels, quick_training_images=300, quick_epochs=1,
                         label_noise=0.5, clipnorm=1.0, record_batches=True)
    assert len(history.batch_loss) == history.batches_per_epoch == 4  # 240 images, batch 64


def test_every_optimizer_name_builds_its_keras_optimizer():
    import keras

    from helpers.recipes import OPTIMIZERS, make_optimizer

    assert isinstance(make_optimizer("adamw", 0.01), keras.optimizers.AdamW)
    momentum = make_optimizer("momentum", 0.05)
    assert isinstance(momentum, keras.optimizers.SGD) and momentum.momentum == 0.9
    assert set(OPTIMIZERS) == {"sgd", "momentum", "rmsprop", "adam", "adamw"}
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer("adagrad", 0.01)
    with pytest.raises(ValueError, match="learning_rate must be a number above 0"):
        make_optimizer("adam", 0)


def test_run_sweep_runs_each_variant_on_the_same_data(quick, fashion_mnist):
    from helpers.recipes import run_sweep

    (images, labels), _ = fashion_mnist
    runs = run_sweep("healthy", images, labels,
                     {"batch 32": {"batch_size": 32}, "batch 128": {"batch_size": 128}},
                     quick_training_images=400, quick_epochs=1)
    assert list(runs) == ["batch 32", "batch 128"]
    assert [run.info["batch_size"] for run in runs.values()] == [32, 128]
    assert {run.info["training_samples"] for run in runs.values()} == {320}
    with pytest.raises(ValueError, match="variants must be a non-empty dict"):
        run_sweep("healthy", images, labels, {})
    with pytest.raises(ValueError, match=r"variants\['x'\] must be a dict"):
        run_sweep("healthy", images, labels, {"x": 3})


def test_rare_classes_shrink_only_the_training_part(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    balanced = run_recipe("healthy", images, labels, quick_training_images=1000, quick_epochs=1)
    rare = run_recipe("healthy", images, labels, quick_training_images=1000, quick_epochs=1,
                      rare_classes=(0, 6), rare_fraction=0.1)
    # 800 training images, 80 per class: two classes keep 8 each.
    assert balanced.info["training_samples"] == 800
    assert 800 - 2 * 80 + 2 * 4 <= rare.info["training_samples"] <= 800 - 2 * 72 + 2 * 12


def test_unscaled_inputs_give_a_much_larger_first_loss(quick, fashion_mnist):
    (images, labels), _ = fashion_mnist
    common = dict(quick_training_images=600, quick_epochs=1, model={"dropout": 0.0})
    scaled = run_recipe("healthy", images, labels, **common)
    unscaled = run_recipe("healthy", images, labels, scale_inputs=False, **common)
    assert unscaled["loss"][0] > 2 * scaled["loss"][0]
