"""Named recipes that make each loss-curve pattern happen on purpose, on the real Fashion-MNIST.

Introduced in ``11_pattern_gallery.ipynb`` and used by the pathology notebooks (``04_...``).
A recipe is plain data: the data size, the epochs, the ``build_cnn`` options and the optimizer
settings that produce a pattern; ``run_recipe`` trains it (optionally with changes: the cures).
Every recipe was checked to give its pattern with seed 42 in quick and full mode.
"""

from dataclasses import dataclass, field, replace

import keras

from helpers.data import add_label_noise, reduce_classes, split_train_validation, stratified_subset
from helpers.mode import pick
from helpers.models import build_cnn
from helpers.training import DEFAULT_SEED, set_seed, train


@dataclass(frozen=True)
class Recipe:
    """How to induce one pattern: sizes for full and quick mode, model options, training options.

    ``learning_rate_spikes`` lists 1-based epochs trained at ``spike_factor`` times the learning
    rate (a schedule gone wrong); ``clipnorm`` clips each gradient's norm; ``label_noise`` is the
    fraction of labels replaced by a wrong class; ``terminate_on_nan`` stops a run at a NaN loss.
    ``rare_classes`` keeps only ``rare_fraction`` of those classes' training images (class
    imbalance; validation stays balanced); ``scale_inputs=False`` feeds raw pixel values 0-255.
    ``optimizer`` is one of ``OPTIMIZERS``.
    """

    name: str
    pattern: str
    how: str
    training_images: int
    quick_training_images: int
    epochs: int
    quick_epochs: int
    batch_size: int = 64
    model: dict = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 0.001
    learning_rate_spikes: tuple = ()
    spike_factor: float = 30.0
    clipnorm: float | None = None
    label_noise: float = 0.0
    terminate_on_nan: bool = False
    rare_classes: tuple = ()
    rare_fraction: float = 1.0
    scale_inputs: bool = True

    def sizes(self):
        """Return ``(training_images, epochs)`` for the current mode."""
        return (pick(full=self.training_images, quick=self.quick_training_images),
                pick(full=self.epochs, quick=self.quick_epochs))


HEALTHY = Recipe(
    "healthy", "healthy", "the seed CNN with lighter dropout (0.25) on 10,000 images",
    training_images=10_000, quick_training_images=4_000, epochs=12, quick_epochs=10,
    model={"dropout": 0.25},
)
OVERFITTING = Recipe(
    "overfitting", "overfitting",
    "few images (2,000), no dropout, a wide dense layer (512 units), many epochs (30)",
    training_images=2_000, quick_training_images=1_000, epochs=30, quick_epochs=20,
    batch_size=32, model={"dropout": 0.0, "dense_units": 512},
)
UNDERFITTING = Recipe(
    "underfitting", "underfitting",
    "far too small a model: no convolutions and a dense layer of 4 units",
    training_images=10_000, quick_training_images=4_000, epochs=12, quick_epochs=10,
    model={"conv_blocks": 0, "dense_units": 4, "dropout": 0.0},
)
SPIKY = Recipe(
    "spiky", "spiky",
    "the seed CNN with a schedule gone wrong: epochs 4 and 8 run at 30x the learning rate",
    training_images=10_000, quick_training_images=4_000, epochs=12, quick_epochs=10,
    learning_rate_spikes=(4, 8),
)
DIVERGED = Recipe(
    "diverged", "diverged",
    "a bad initialization: weights drawn with standard deviation 100, plain SGD at rate 0.05",
    training_images=10_000, quick_training_images=4_000, epochs=5, quick_epochs=5,
    model={"initializer": "huge"}, optimizer="sgd", learning_rate=0.05, terminate_on_nan=True,
)
VAL_BELOW_TRAIN = Recipe(
    "val_below_train", "val_below_train", "the seed CNN with heavy dropout (0.7)",
    training_images=10_000, quick_training_images=4_000, epochs=12, quick_epochs=10,
    model={"dropout": 0.7},
)
RECIPES = {recipe.name: recipe for recipe in
           (HEALTHY, OVERFITTING, UNDERFITTING, SPIKY, DIVERGED, VAL_BELOW_TRAIN)}

OPTIMIZERS = {
    "sgd": lambda **options: keras.optimizers.SGD(**options),
    "momentum": lambda **options: keras.optimizers.SGD(momentum=0.9, **options),
    "rmsprop": lambda **options: keras.optimizers.RMSprop(**options),
    "adam": lambda **options: keras.optimizers.Adam(**options),
    "adamw": lambda **options: keras.optimizers.AdamW(**options),
}


def make_optimizer(name, learning_rate, clipnorm=None):
    """Return a fresh Keras optimizer by name (one of ``OPTIMIZERS``)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not learning_rate > 0:
        raise ValueError(f"learning_rate must be a number above 0, got {learning_rate!r}")
    return OPTIMIZERS[name](learning_rate=learning_rate, clipnorm=clipnorm)


def _model(recipe):
    model = build_cnn(compile=False, **recipe.model)
    optimizer = make_optimizer(recipe.optimizer, recipe.learning_rate, recipe.clipnorm)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _callbacks(recipe):
    callbacks = []
    if recipe.learning_rate_spikes:
        def schedule(epoch, learning_rate):
            spike = epoch + 1 in recipe.learning_rate_spikes
            return recipe.learning_rate * (recipe.spike_factor if spike else 1.0)

        callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
    if recipe.terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    return callbacks


def run_recipe(recipe, images, labels, seed=DEFAULT_SEED, callbacks=(), verbose=0,
               record_batches=False, **changes):
    """Train ``recipe`` (with ``changes`` to its fields, e.g. a cure) and return the History.

    ``images`` and ``labels`` are the full training set as loaded; the recipe takes its seeded,
    stratified subset and validates on the last 20% of it, as ``validation_split=0.2`` does.
    """
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {recipe!r}")
        recipe = RECIPES[recipe]
    unknown = set(changes) - set(Recipe.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown recipe field(s) {', '.join(sorted(unknown))}; "
                         f"fields are {', '.join(Recipe.__dataclass_fields__)}")
    recipe = replace(recipe, **changes)
    count, epochs = recipe.sizes()
    subset_images, subset_labels = stratified_subset(images, labels, count, seed=seed)
    if recipe.label_noise:
        subset_labels, _ = add_label_noise(subset_labels, recipe.label_noise, seed=seed)
    if not recipe.scale_inputs:
        subset_images = subset_images.astype("float32")  # float pixels 0-255: train() won't scale
    training, validation = split_train_validation(subset_images, subset_labels, 0.2)
    if recipe.rare_classes:
        training = reduce_classes(*training, recipe.rare_classes, recipe.rare_fraction, seed=seed)
    set_seed(seed)
    history = train(_model(recipe), *training, epochs=epochs, validation_data=validation,
                    batch_size=recipe.batch_size, seed=seed,
                    callbacks=[*_callbacks(recipe), *callbacks], verbose=verbose,
                    record_batches=record_batches)
    history.info.update(recipe=recipe.name, how=recipe.how)
    return history



def run_sweep(recipe, images, labels, variants, seed=DEFAULT_SEED, **common_changes):
    """Run ``recipe`` once per variant and return ``{name: History}`` in the variants' order.

    ``variants`` maps a run's name to its changes, e.g. ``{"1e-4": {"learning_rate": 1e-4}}``;
    ``common_changes`` apply to every run. Same data, same seed: only the variant differs.
    """
    if not isinstance(variants, dict) or not variants:
        raise ValueError("variants must be a non-empty dict {run name: {field: value}}")
    runs = {}
    for name, changes in variants.items():
        if not isinstance(changes, dict):
            raise ValueError(f"variants[{name!r}] must be a dict of recipe changes, got {changes!r}")
        runs[name] = run_recipe(recipe, images, labels, seed=seed, **{**common_changes, **changes})
    return runs
