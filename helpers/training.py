"""Seeding, the run recorder callback, and ``train``: Keras ``fit`` with a memory-light input pipeline.

Introduced in ``02_train_the_cnn.ipynb``. ``train`` keeps images uint8 until a batch is formed
(scaling to float32 happens per batch inside tf.data), records a ``History`` and writes it to disk
after every epoch, so a crash or a kernel restart loses at most the epoch in progress.
"""

import contextlib
import ctypes
import gc
import math
import os
import re
import time
from pathlib import Path

import numpy as np

from helpers import checks
from helpers.data import split_train_validation
from helpers.environment import repository_root
from helpers.history import History, save_history

import keras
import tensorflow as tf

DEFAULT_SEED = 42
RUNS_DIRECTORY_VARIABLE = "LCL_RUNS_DIR"
VALIDATION_BATCH_SIZE = 256  # fewer, larger inference batches: faster, yet ~100 MB less peak than 1024


def release_memory():
    """Free what earlier models left behind: Keras' global state, then unused heap pages."""
    # Measured: each model trained in one kernel kept about 20 MB; with this, about 10 MB. The
    # weights of models still referenced are untouched, and the next run's curves are the same.
    keras.backend.clear_session(free_memory=False)  # it would collect garbage too: 0.2 s more
    gc.collect()
    if not gc.get_freeze_count():
        # What exists at the first call (TensorFlow's and Keras' modules: ~350,000 objects) stays
        # for good; frozen, no collection walks it again: 0.02 s instead of 0.2 s per run.
        gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc only: return freed heap pages to the OS
    except (OSError, AttributeError):
        pass


def set_seed(seed=DEFAULT_SEED):
    """Free earlier runs' memory, seed Python, NumPy and Keras, and make ops deterministic."""
    checks.integer(seed, "seed", low=0)
    release_memory()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def runs_directory():
    """Return the folder under which runs are saved: ``$LCL_RUNS_DIR``, else the repository's ``runs/``.

    The repository is found from the working folder (``helpers.environment.repository_root``), so
    runs do not land in ``notebooks/runs/``, where JupyterLab's file browser would list them beside
    the notebooks. Outside a checkout (Colab) it is ``./runs``.
    """
    configured = os.environ.get(RUNS_DIRECTORY_VARIABLE)
    if configured:
        return Path(configured)
    root = repository_root()
    return Path("runs") if root is None else root / "runs"


def _current_learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return math.nan
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def batch_loss(running_mean, samples_seen, previous_running_mean, previous_samples_seen):
    """Return one batch's own loss from Keras' running means after and before it.

    Keras logs the mean loss over the epoch's samples so far, weighted by batch size, not each
    batch's loss; ``samples_seen`` counts the epoch's samples up to and including this batch.
    """
    samples = samples_seen - previous_samples_seen
    if samples <= 0:
        raise ValueError(f"samples_seen must exceed previous_samples_seen, got {samples_seen} "
                         f"and {previous_samples_seen}")
    return (samples_seen * running_mean - previous_samples_seen * previous_running_mean) / samples


class Recorder(keras.callbacks.Callback):
    """The one place a run is accumulated: a ``History`` filled while ``fit`` runs.

    Per epoch it records Keras' logs, the wall time and the learning rate (and saves the history
    to ``run_directory``); with ``record_batches=True`` also each training batch's own loss.
    ``batch_size`` and ``samples`` (per epoch) let it recover a short last batch exactly, and count
    ``images_seen`` (training images since the run began; None without ``batch_size``) beside
    ``steps_taken`` (batches since the run began). Readers subscribe as ``listeners``: objects
    with any of the methods ``on_train_begin``, ``on_batch`` and ``on_epoch``, each called with
    this recorder (the live plot, the training lab, the learning-rate range test and
    ``debugging.FixedSetLoss`` read the run this way).
    """

    def __init__(self, run_directory=None, record_batches=False, info=None, listeners=(),
                 batch_size=None, samples=None):
        super().__init__()
        self.run_directory = run_directory
        self.record_batches = record_batches
        self.info = info
        self.listeners = list(listeners)
        self.batch_size = batch_size
        self.samples = samples
        self.history = History(metrics={}, info=dict(info or {}))
        self._start_counting()

    def _start_counting(self):
        self.steps_taken = 0
        self.images_seen = 0 if self.batch_size is not None else None
        self._images_before_epoch, self._steps_before_epoch = self.images_seen, 0

    def needs_every_batch(self):
        """Return True when this recorder needs every batch: batch losses, or a batch listener."""
        return self.record_batches or any(hasattr(item, "on_batch") for item in self.listeners)

    def _notify(self, event):
        for listener in self.listeners:
            method = getattr(listener, event, None)
            if method is not None:
                method(self)

    def _samples_seen(self, batch):
        if self.batch_size is None:
            return batch + 1  # equal batches: counting batches is enough
        seen = (batch + 1) * self.batch_size
        return min(seen, self.samples) if self.samples is not None else seen

    def on_train_begin(self, logs=None):
        if self.needs_every_batch() and getattr(self.model, "steps_per_execution", 1) > 1:
            raise ValueError(
                f"this Recorder reads every batch (record_batches or a listener's on_batch), but "
                f"the model runs {self.model.steps_per_execution} batches per call "
                f"(steps_per_execution), so Keras reports only every {self.model.steps_per_execution}th: "
                f"train() handles that, or compile with steps_per_execution=1")
        self.history = History(metrics={}, info=dict(self.info or {}))
        self._start_counting()
        self._notify("on_train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()
        self._running_mean, self._samples, self._batches_seen = 0.0, 0, 0
        self._images_before_epoch, self._steps_before_epoch = self.images_seen, self.steps_taken

    def on_train_batch_end(self, batch, logs=None):
        # ``batch`` is the epoch's last batch done: with several steps per call, Keras reports
        # only the last of them, and past the end of the epoch when its last call is cut short.
        if self.batch_size is not None and self.samples is not None:
            batch = min(batch, math.ceil(self.samples / self.batch_size) - 1)
        self._batches_seen = batch + 1
        self.steps_taken = self._steps_before_epoch + batch + 1
        seen = self._samples_seen(batch)
        if self.batch_size is not None:
            self.images_seen = self._images_before_epoch + seen
        if self.record_batches and logs and "loss" in logs:
            mean = float(logs["loss"])
            self.history.batch_loss.append(batch_loss(mean, seen, self._running_mean,
                                                      self._samples))
            self._running_mean, self._samples = mean, seen
        self._notify("on_batch")

    def on_epoch_end(self, epoch, logs=None):
        self.history.append_epoch(logs or {}, seconds=time.perf_counter() - self._epoch_started,
                                  learning_rate=_current_learning_rate(self.model))
        if self.record_batches:
            self.history.batches_per_epoch = self._batches_seen
        if self.run_directory is not None:
            save_history(self.history, self.run_directory)
        self._notify("on_epoch")


class CleanTrainingLoss(keras.callbacks.Callback):
    """At each epoch end, add the loss on fixed training samples in inference mode to the logs.

    Keras' reported training loss is an average over the epoch's batches, with dropout on, while
    the weights change. This callback measures the training loss the way the validation loss is
    measured (once, at the end of the epoch, dropout off) as ``clean_loss`` and
    ``clean_accuracy``; put it before any callback that reads the logs.
    """

    def __init__(self, images, labels, batch_size=VALIDATION_BATCH_SIZE):
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = batch_size

    def on_train_begin(self, logs=None):
        check_examples(self.images, self.labels, self.model, "images", "labels")
        self._dataset = make_dataset(self.images, self.labels, self.batch_size,
                                     num_classes=one_hot_classes(self.labels, self.model))

    def on_epoch_end(self, epoch, logs=None):
        results = self.model.evaluate(self._dataset, verbose=0, return_dict=True)
        if logs is not None:
            logs["clean_loss"] = float(results["loss"])
            if "accuracy" in results:
                logs["clean_accuracy"] = float(results["accuracy"])


def new_run_directory(name):
    """Return a fresh folder for a run called ``name`` under ``runs_directory()``."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"run_name must be letters, digits, '_', '-' or '.', got {name!r}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    directory = runs_directory() / f"{name}-{stamp}"
    suffix = 1
    while directory.exists():
        suffix += 1
        directory = runs_directory() / f"{name}-{stamp}-{suffix}"
    return directory


def uses_sparse_labels(model):
    """Return True when ``model`` was compiled for integer labels (a sparse cross-entropy)."""
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else type(loss).__name__
    return "sparse" in name.lower()


def one_hot_classes(labels, model):
    """How many classes to one-hot encode integer ``labels`` into for ``model``; None: leave them."""
    if labels.ndim == 1 and not uses_sparse_labels(model):
        return int(model.output_shape[-1])
    return None


def check_examples(images, labels, model, images_name="x", labels_name="y"):
    """Check images and labels for ``model`` (shapes, dtypes, lengths, label encoding)."""
    checks.images(images, images_name, model.input_shape[1:])
    checks.labels(labels, labels_name, len(images), sparse=uses_sparse_labels(model))


def check_compiled(model):
    """Check that ``model`` is a compiled Keras model."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.compiled or getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled before training: compile_cnn(model) compiles "
                         "it (or call model.compile)")


def make_dataset(images, labels, batch_size, shuffle=False, seed=DEFAULT_SEED, num_classes=None):
    """Return a batched tf.data pipeline that scales uint8 images to float32 one batch at a time."""
    scale = images.dtype == np.uint8
    add_channel = images.ndim == 3

    def prepare(batch_images, batch_labels):
        batch_images = tf.cast(batch_images, tf.float32)
        if scale:
            batch_images = batch_images / 255.0
        if add_channel:
            batch_images = batch_images[..., tf.newaxis]
        if num_classes is not None:
            batch_labels = tf.one_hot(tf.cast(batch_labels, tf.int32), num_classes)
        return batch_images, batch_labels

    # Shuffle and batch sample indices, then gather each batch from the arrays: a shuffle buffer
    # of images would hold a second copy of the training set.
    images, labels = tf.constant(images), tf.constant(labels)
    indices = tf.data.Dataset.range(len(images))
    if shuffle:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    # tf.data's autotuning competes with training for a laptop's few cores: measured on 2 cores,
    # epochs took 0.7 or 1.4 s at random with it and a steady 0.8 s without (same batches).
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        indices.batch(batch_size)
        .map(lambda batch: prepare(tf.gather(images, batch), tf.gather(labels, batch)),
             num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
    )


BATCH_METHODS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def reads_each_batch(callback):
    """Return True when a Keras ``callback`` acts on training batches (it overrides a batch method)."""
    return any(getattr(type(callback), name, None) is not getattr(keras.callbacks.Callback, name)
               for name in BATCH_METHODS)


@contextlib.contextmanager
def one_step_per_call(model, needed=True):
    """Within this block, have ``model`` run one batch per compiled call (when ``needed``).

    Keras calls batch callbacks once per call: with ``steps_per_execution`` above 1 they would
    see only every few batches. The model's own setting comes back afterwards.
    """
    steps = getattr(model, "steps_per_execution", 1)
    if not needed or steps == 1:
        yield model
        return
    model.steps_per_execution = 1
    model.train_function = model.test_function = model.predict_function = None  # as compile() does
    try:
        yield model
    finally:
        model.steps_per_execution = steps
        model.train_function = model.test_function = model.predict_function = None


def build_training_state(model, images, labels):
    """Create the optimizer's and the compiled metrics' variables before ``fit`` (from two examples).

    Keras' TensorFlow backend creates them while tracing the first training step, and a function
    that creates variables is traced twice; created beforehand, it is traced once (about 0.5 s of
    every run's first epoch on a 2-core CPU). The weights, the batches and the curves are unchanged.
    """
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    sample_images, sample_labels = next(iter(make_dataset(
        images[:2], labels[:2], 2, num_classes=one_hot_classes(labels, model))))
    model.compute_metrics(sample_images, sample_labels, model(sample_images, training=False))
    model.reset_metrics()


def train(
    model,
    x,
    y,
    epochs,
    batch_size=64,
    validation_data=None,
    validation_split=None,
    run_name=None,
    record_batches=False,
    callbacks=(),
    listeners=(),
    seed=DEFAULT_SEED,
    verbose=2,
    shuffle=True,
):
    """Train ``model`` with Keras ``fit`` and return the run's ``History`` (also saved per epoch).

    ``x`` may be uint8 images as loaded (kept uint8 until batching) or floats in [0, 1]; ``y``
    integer labels or one-hot rows (integer labels are one-hot encoded per batch when the model
    expects one-hot). ``validation_split`` takes the last fraction exactly as Keras does.
    ``run_name`` saves the history under ``runs_directory()``; ``verbose=2`` prints one line per
    epoch. ``listeners`` read the run as it is recorded (``LiveLossPlot``; see ``Recorder``).
    ``shuffle=False`` feeds the batches in the arrays' order every epoch (notebook 14 shows why
    that is a bug with sorted data).
    """
    check_compiled(model)
    checks.positive_integer(epochs, "epochs")
    checks.positive_integer(batch_size, "batch_size")
    check_examples(x, y, model)
    if validation_data is not None and validation_split is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    if validation_split is not None:
        (x, y), validation_data = split_train_validation(x, y, validation_split)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_validation, y_validation)")
        check_examples(*validation_data, model, "validation_data[0]", "validation_data[1]")
    if batch_size > len(x):
        raise ValueError(f"batch_size={batch_size} is larger than the {len(x)} training samples")

    training_data = make_dataset(x, y, batch_size, shuffle=shuffle, seed=seed,
                                 num_classes=one_hot_classes(y, model))
    validation = None
    if validation_data is not None:
        validation = make_dataset(*validation_data, VALIDATION_BATCH_SIZE,
                                  num_classes=one_hot_classes(validation_data[1], model))
    run_directory = new_run_directory(run_name) if run_name is not None else None
    # Cross-entropy of a model that learned nothing (uniform over the classes): diagnose() uses it.
    classes = int(model.output_shape[-1])
    baseline_loss = math.log(classes) if "crossentropy" in str(model.loss).lower() else None
    recorder = Recorder(
        run_directory,
        record_batches=record_batches,
        listeners=listeners,
        batch_size=batch_size,
        samples=len(x),
        info={"run_name": run_name, "epochs": epochs, "batch_size": batch_size,
              "training_samples": len(x), "seed": seed,
              "run_directory": str(run_directory) if run_directory else None,
              "baseline_loss": baseline_loss,
              # kept_epochs reads this: only such a run keeps the weights of its best epoch
              "restores_best_weights": any(
                  getattr(callback, "restore_best_weights", False) for callback in callbacks)},
    )
    build_training_state(model, x, y)
    every_batch = recorder.needs_every_batch() or any(map(reads_each_batch, callbacks))
    with one_step_per_call(model, needed=every_batch):
        model.fit(
            training_data,
            epochs=epochs,
            validation_data=validation,
            callbacks=[*callbacks, recorder],  # the recorder last: it sees what others add to logs
            shuffle=False,  # the pipeline shuffles (or not), seeded
            verbose=verbose,
        )
    if run_directory is not None and verbose:
        print(f"History saved to {run_directory}")
    return recorder.history


def evaluate_loss(model, x, y):
    """Return ``model``'s loss on ``(x, y)``, fed as ``train`` feeds its validation data."""
    check_compiled(model)
    check_examples(x, y, model)
    data = make_dataset(x, y, VALIDATION_BATCH_SIZE, num_classes=one_hot_classes(y, model))
    results = model.evaluate(data, verbose=0)
    return float(results[0] if isinstance(results, (list, tuple)) else results)
