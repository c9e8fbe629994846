"""Named recipes that make each loss-curve pattern happen on purpose, on the real Fashion-MNIST.

Introduced in ``12_pattern_gallery.ipynb`` and used by the pathology notebooks (``04_...``).
A recipe is plain data: the data size, the epochs, the ``build_cnn`` options and the optimizer
settings that produce a pattern; ``run_recipe`` trains it (optionally with changes: the cures).
Every recipe was checked to give its pattern with seed 42 in quick and full mode.
"""

from dataclasses import MISSING, asdict, dataclass, field, fields, replace

from helpers import checks
from helpers.data import add_label_noise, reduce_classes, split_train_validation, stratified_subset
from helpers.debugging import SCHEDULES, LinearWarmup, schedule_callbacks
from helpers.mode import pick
from helpers.models import build_cnn, compile_cnn
from helpers.reused_runs import describe_origin, load_run, reuse_enabled, run_key, store_run
from helpers.training import DEFAULT_SEED, runs_directory, set_seed, train

import keras


@dataclass(frozen=True)
class Recipe:
    """How to induce one pattern: its name (the pattern), data size, epochs, model, optimizer.

    Sizes are stored once, for the current mode (presets resolve them with ``pick`` where they
    are defined). ``model`` holds ``build_cnn`` options; changes to it merge (see
    ``run_recipe``). ``learning_rate_spikes`` lists 1-based epochs trained at ``spike_factor``
    times the learning rate (a schedule gone wrong); ``clipnorm`` clips each variable's gradient,
    ``global_clipnorm`` the whole gradient; ``label_noise`` is the fraction of training labels
    replaced by a wrong class (validation labels stay clean unless ``noisy_validation``);
    ``terminate_on_nan`` stops a run at a NaN loss. ``rare_classes`` keeps only
    ``rare_fraction`` of those classes' training images (class imbalance; validation stays
    balanced); ``scale_inputs=False`` feeds raw pixel values 0-255. ``optimizer`` is one of
    ``models.OPTIMIZERS``. ``warmup_steps`` raises the rate linearly over the first steps
    (``debugging.LinearWarmup``); ``schedule`` is one of ``debugging.SCHEDULES`` (notebook 14).
    """

    name: str
    training_images: int
    epochs: int
    batch_size: int = 64
    model: dict = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 0.001
    learning_rate_spikes: tuple = ()
    spike_factor: float = 30.0
    clipnorm: float | None = None
    global_clipnorm: float | None = None
    label_noise: float = 0.0
    noisy_validation: bool = False
    terminate_on_nan: bool = False
    rare_classes: tuple = ()
    rare_fraction: float = 1.0
    scale_inputs: bool = True
    warmup_steps: int = 0
    schedule: str = "constant"

    def describe(self):
        """Return what this recipe trains, in words: sizes, model, and every non-default setting."""
        changed = [f"{item.name.replace('_', ' ')} {getattr(self, item.name)}"
                   for item in fields(self)
                   if item.default is not MISSING and item.name != "batch_size"
                   and getattr(self, item.name) != item.default]
        model = ", ".join(f"{key} {value}" for key, value in self.model.items())
        return (f"{self.training_images:,} images (80% to train), {self.epochs} epochs, batch "
                f"{self.batch_size}; model: {model or 'the seed CNN'}"
                + "".join(f"; {item}" for item in changed))


HEALTHY = Recipe("healthy", training_images=pick(full=7_000, quick=4_000),
                 epochs=pick(full=12, quick=10), model={"dropout": 0.25})
OVERFITTING = Recipe("overfitting", training_images=pick(full=2_000, quick=1_000),
                     epochs=pick(full=28, quick=20), batch_size=32,
                     model={"dropout": 0.0, "dense_units": 512})
UNDERFITTING = Recipe("underfitting", training_images=pick(full=7_000, quick=4_000),
                      epochs=pick(full=12, quick=10),
                      model={"conv_blocks": 0, "dense_units": 4, "dropout": 0.0})
SPIKY = Recipe("spiky", training_images=pick(full=10_000, quick=4_000),
               epochs=pick(full=12, quick=10), learning_rate_spikes=(4, 8))
DIVERGED = Recipe("diverged", training_images=pick(full=7_000, quick=4_000), epochs=5,
                  model={"initializer": "huge"}, optimizer="sgd", learning_rate=0.05,
                  terminate_on_nan=True)
VAL_BELOW_TRAIN = Recipe("val_below_train", training_images=pick(full=7_000, quick=4_000),
                         epochs=pick(full=12, quick=10), model={"dropout": 0.7})
RECIPES = {recipe.name: recipe for recipe in
           (HEALTHY, OVERFITTING, UNDERFITTING, SPIKY, DIVERGED, VAL_BELOW_TRAIN)}


def build_model(recipe):
    """Return the recipe's model, built and compiled (``build_cnn`` then ``compile_cnn``)."""
    return compile_cnn(build_cnn(**recipe.model), optimizer=recipe.optimizer,
                       learning_rate=recipe.learning_rate, clipnorm=recipe.clipnorm,
                       global_clipnorm=recipe.global_clipnorm)


def _callbacks(recipe):
    checks.integer(recipe.warmup_steps, "warmup_steps", low=0)
    checks.one_of(recipe.schedule, "schedule", SCHEDULES)
    if recipe.learning_rate_spikes and recipe.schedule != "constant":
        raise ValueError("learning_rate_spikes and a schedule both set the rate every epoch; "
                         f"use one, got spikes {recipe.learning_rate_spikes} and schedule "
                         f"{recipe.schedule!r}")
    callbacks = schedule_callbacks(recipe.schedule, recipe.learning_rate, recipe.epochs)
    if recipe.warmup_steps:
        callbacks.append(LinearWarmup(recipe.learning_rate, recipe.warmup_steps))
    if recipe.learning_rate_spikes:
        def schedule(epoch, learning_rate):
            spike = epoch + 1 in recipe.learning_rate_spikes
            return recipe.learning_rate * (recipe.spike_factor if spike else 1.0)

        callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
    if recipe.terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    return callbacks


def with_changes(recipe, **changes):
    """Return ``recipe`` (or a recipe name) with ``changes``; ``model`` changes merge into its model."""
    if isinstance(recipe, str):
        recipe = RECIPES[checks.one_of(recipe, "recipe", tuple(RECIPES))]
    unknown = set(changes) - set(Recipe.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown recipe field(s) {', '.join(sorted(unknown))}; "
                         f"fields are {', '.join(Recipe.__dataclass_fields__)}")
    if "model" in changes:
        changes["model"] = {**recipe.model, **changes["model"]}
    return replace(recipe, **changes)


def recipe_data(recipe, images, labels, data_seed=DEFAULT_SEED):
    """Return the recipe's ``(training, validation)`` pairs: subset, 80/20 split, noise, rare classes."""
    subset_images, subset_labels = stratified_subset(images, labels, recipe.training_images,
                                                     seed=data_seed)
    if recipe.label_noise and recipe.noisy_validation:
        subset_labels, _ = add_label_noise(subset_labels, recipe.label_noise, seed=data_seed)
    if not recipe.scale_inputs:
        subset_images = subset_images.astype("float32")  # float pixels 0-255: train() won't scale
    training, validation = split_train_validation(subset_images, subset_labels, 0.2)
    if recipe.label_noise and not recipe.noisy_validation:  # wrong labels to learn from only
        training = (training[0], add_label_noise(training[1], recipe.label_noise,
                                                 seed=data_seed)[0])
    if recipe.rare_classes:
        training = reduce_classes(*training, recipe.rare_classes, recipe.rare_fraction,
                                  seed=data_seed)
    return training, validation


def _recipe_key(recipe, seed, data_seed, training, validation):
    return run_key({"recipe": asdict(recipe), "seed": seed, "data_seed": data_seed},
                   *training, *validation)


def _prepare(recipe, images, labels, seed, data_seed, changes):
    """Return the changed recipe, its data seed (default: ``seed``), and its training and validation."""
    recipe = with_changes(recipe, **changes)
    data_seed = seed if data_seed is None else data_seed
    return (recipe, data_seed, *recipe_data(recipe, images, labels, data_seed))


def run_recipe(recipe, images, labels, seed=DEFAULT_SEED, callbacks=(), listeners=(), verbose=0,
               record_batches=False, data_seed=None, reuse=True, **changes):
    """Train ``recipe`` (with ``changes`` to its fields, e.g. a cure) and return the History.

    ``images`` and ``labels`` are the full training set as loaded; the recipe takes its seeded,
    stratified subset and validates on the last 20% of it, as ``validation_split=0.2`` does.
    ``model={...}`` changes only the ``build_cnn`` options named, keeping the recipe's others.
    ``data_seed`` (default: ``seed``) draws the subset and the label noise; ``seed`` the weights
    and the shuffling. A run without ``callbacks`` or ``listeners`` that this machine already
    trained with identical settings, seed, data and versions is loaded instead of trained again
    (``reused_runs``; it prints where from), unless ``record_batches`` asks for batch losses the
    stored run did not record; ``reuse=False`` trains it anyway.
    """
    recipe, data_seed, training, validation = _prepare(recipe, images, labels, seed, data_seed,
                                                       changes)
    reusable = reuse and reuse_enabled() and not callbacks and not listeners
    if reusable:
        key = _recipe_key(recipe, seed, data_seed, training, validation)
        stored = load_run(key, runs_directory())
        if stored is not None and (stored.batch_loss or not record_batches):
            print(f"Reused, not retrained: run '{recipe.name}' with these settings, seed and data "
                  f"was {describe_origin(stored)} on this machine ({stored.info['reused_from']}).")
            return _with_batches(stored, record_batches)
    set_seed(seed)
    history = train(build_model(recipe), *training, epochs=recipe.epochs,
                    validation_data=validation, batch_size=recipe.batch_size, seed=seed,
                    callbacks=[*_callbacks(recipe), *callbacks], listeners=listeners,
                    verbose=verbose, record_batches=record_batches)
    history.info.update(recipe=recipe.name, settings=recipe.describe())
    if reusable:
        store_run(key, history, runs_directory())
    return _with_batches(history, record_batches)


def remember_run(history, recipe, images, labels, seed=DEFAULT_SEED, data_seed=None, **changes):
    """Store ``history``, a run of ``recipe`` written out step by step, as ``run_recipe`` would.

    For a notebook that trains a recipe's run itself (its data, model and ``fit`` shown), so that
    ``run_recipe`` with the same recipe, changes and seeds loads it instead of training it again.
    The run must be exactly what ``run_recipe`` trains (a unit test checks 04's way of writing it).
    Returns ``history``; with reuse off (``LCL_REUSE_RUNS=0``) it stores nothing.
    """
    if reuse_enabled():
        recipe, data_seed, training, validation = _prepare(recipe, images, labels, seed,
                                                           data_seed, changes)
        history.info.update(recipe=recipe.name, settings=recipe.describe())
        store_run(_recipe_key(recipe, seed, data_seed, training, validation), history,
                  runs_directory())
    return history


def _with_batches(history, record_batches):
    """Return ``history`` without its per-batch losses unless they were asked for."""
    if not record_batches:
        history.batch_loss, history.batches_per_epoch = [], None
    return history


def run_sweep(recipe, images, labels, variants, seed=DEFAULT_SEED, **common_changes):
    """Run ``recipe`` once per variant and return ``{name: History}`` in the variants' order.

    ``variants`` maps a run's name to its changes, e.g. ``{"1e-4": {"learning_rate": 1e-4}}``;
    ``common_changes`` apply to every run. Same data, same seed: only the variant differs.
    """
    checks.non_empty_dict(variants, "variants", "{run name: {field: value}}")
    runs = {}
    for name, changes in variants.items():
        if not isinstance(changes, dict):
            raise ValueError(f"variants[{name!r}] must be a dict of recipe changes, got {changes!r}")
        runs[name] = run_recipe(recipe, images, labels, seed=seed, **{**common_changes, **changes})
    return runs


def run_seeds(recipe, images, labels, seeds, **changes):
    """Run ``recipe`` once per seed (same data subset, different starting weights and shuffles).

    Returns ``{seed: History}``. The subset is drawn with the first seed for every run, so the
    spread between the runs is the training's own seed noise, not a change of data.
    """
    seeds = tuple(seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be at least two different seeds, got {seeds!r}")
    for seed in seeds:
        checks.integer(seed, "seed", low=0)
    return {seed: run_recipe(recipe, images, labels, seed=seed, data_seed=seeds[0], **changes)
            for seed in seeds}
