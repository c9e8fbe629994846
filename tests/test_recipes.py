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
