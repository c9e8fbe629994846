import math

import pytest

from helpers.recipes import HEALTHY, OVERFITTING, RECIPES, SPIKY, run_recipe, run_sweep, with_changes

pytestmark = pytest.mark.slow  # trains on the real Fashion-MNIST


def test_every_pattern_has_a_recipe_named_after_it():
    assert set(RECIPES) == {"healthy", "overfitting", "underfitting", "spiky", "diverged",
                            "val_below_train"}
    assert all(name == recipe.name for name, recipe in RECIPES.items())


def test_model_changes_merge_into_the_recipes_model():
    augmented = with_changes(OVERFITTING, model={"augment": True})
    assert augmented.model == {"dropout": 0.0, "dense_units": 512, "augment": True}
    assert with_changes(OVERFITTING, model={"dropout": 0.5}).model["dense_units"] == 512
    assert OVERFITTING.model == {"dropout": 0.0, "dense_units": 512}  # the preset is untouched


def test_describe_names_sizes_model_and_what_differs_from_the_defaults():
    text = with_changes(HEALTHY, training_images=1_000, epochs=3, label_noise=0.2).describe()
    assert text.startswith("1,000 images (80% to train), 3 epochs, batch 64; model: dropout 0.25")
    assert text.endswith("; label noise 0.2")


def test_run_recipe_uses_the_recipes_sizes_and_records_the_recipe(fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("healthy", images, labels, training_images=500, epochs=1)
    assert history.epochs == 1
    assert history.info["training_samples"] == 400 and history.info["recipe"] == "healthy"
    assert history.info["settings"].startswith("500 images")


def test_learning_rate_spikes_follow_the_schedule(fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe(SPIKY, images, labels, training_images=300, epochs=3,
                         learning_rate_spikes=(2,))
    assert history.learning_rate == pytest.approx([0.001, 0.03, 0.001])


def test_divergence_recipe_stops_on_nan(fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("diverged", images, labels, training_images=500)
    assert history.epochs == 1 and math.isnan(history["loss"][-1])


def test_bad_recipe_names_and_fields_are_refused(fashion_mnist):
    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="recipe must be one of"):
        run_recipe("exploding", images, labels)
    with pytest.raises(ValueError, match="unknown recipe field.*droput"):
        run_recipe("healthy", images, labels, droput=0.5)


def test_label_noise_clipping_and_batch_recording(fashion_mnist):
    (images, labels), _ = fashion_mnist
    history = run_recipe("healthy", images, labels, training_images=300, epochs=1,
                         label_noise=0.5, global_clipnorm=1.0, record_batches=True)
    assert len(history.batch_loss) == history.batches_per_epoch == 4  # 240 images, batch 64


def test_run_sweep_runs_each_variant_on_the_same_data(fashion_mnist):
    (images, labels), _ = fashion_mnist
    runs = run_sweep("healthy", images, labels,
                     {"batch 32": {"batch_size": 32}, "batch 128": {"batch_size": 128}},
                     training_images=400, epochs=1)
    assert list(runs) == ["batch 32", "batch 128"]
    assert [run.info["batch_size"] for run in runs.values()] == [32, 128]
    assert {run.info["training_samples"] for run in runs.values()} == {320}
    with pytest.raises(ValueError, match="variants must be a non-empty dict"):
        run_sweep("healthy", images, labels, {})
    with pytest.raises(ValueError, match=r"variants\['x'\] must be a dict"):
        run_sweep("healthy", images, labels, {"x": 3})


def test_rare_classes_shrink_only_the_training_part(fashion_mnist):
    (images, labels), _ = fashion_mnist
    balanced = run_recipe("healthy", images, labels, training_images=1000, epochs=1)
    rare = run_recipe("healthy", images, labels, training_images=1000, epochs=1,
                      rare_classes=(0, 6), rare_fraction=0.1)
    # 800 training images, about 80 per class; classes 0 and 6 keep 10% of theirs, about 8 each.
    assert balanced.info["training_samples"] == 800
    kept_of_two_classes = rare.info["training_samples"] - (800 - 160)
    assert 8 <= kept_of_two_classes <= 24


def test_unscaled_inputs_give_a_much_larger_first_loss(fashion_mnist):
    (images, labels), _ = fashion_mnist
    common = dict(training_images=600, epochs=1, model={"dropout": 0.0})
    scaled = run_recipe("healthy", images, labels, **common)
    unscaled = run_recipe("healthy", images, labels, scale_inputs=False, **common)
    assert unscaled["loss"][0] > 2 * scaled["loss"][0]


class RateEachStep:
    """A Recorder listener that notes the optimizer's learning rate after every step."""

    def __init__(self):
        self.rates = []

    def on_batch(self, recorder):
        self.rates.append(float(recorder.model.optimizer.learning_rate.numpy()))


def test_warmup_and_schedule_set_the_rate(fashion_mnist):
    (images, labels), _ = fashion_mnist
    steps = RateEachStep()
    history = run_recipe("healthy", images, labels, training_images=400, epochs=3,
                         learning_rate=0.01, warmup_steps=4, schedule="step", listeners=[steps])
    assert steps.rates[:5] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01])
    assert history.learning_rate == pytest.approx([0.01, 0.01, 0.001])  # step: /10 at epoch 3
    assert "warmup steps 4; schedule step" in history.info["settings"]
    plateau = run_recipe("healthy", images, labels, training_images=300, epochs=2,
                         schedule="plateau")
    assert len(plateau.learning_rate) == 2


def test_bad_warmup_and_schedule_are_refused(fashion_mnist):
    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="schedule must be one of constant, step, cosine, plateau"):
        run_recipe("healthy", images, labels, schedule="linear")
    with pytest.raises(ValueError, match="warmup_steps must be an integer of at least 0"):
        run_recipe("healthy", images, labels, warmup_steps=-5)
    with pytest.raises(ValueError, match="learning_rate_spikes and a schedule"):
        run_recipe("spiky", images, labels, schedule="cosine")
