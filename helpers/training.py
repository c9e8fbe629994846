"""Seeding, the run recorder callback, and ``train``: Keras ``fit`` with a memory-light input pipeline.

Introduced in ``02_train_the_cnn.ipynb``. ``train`` keeps images uint8 until a batch is formed
(scaling to float32 happens per batch inside tf.data), records a ``History`` and writes it to disk
after every epoch, so a crash or a kernel restart loses at most the epoch in progress.
"""

import math
import os
import re
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from helpers.data import split_train_validation
from helpers.history import History, save_history

DEFAULT_SEED = 42
RUNS_DIRECTORY_VARIABLE = "LCL_RUNS_DIR"
VALIDATION_BATCH_SIZE = 256  # fewer, larger inference batches: faster, yet ~100 MB less peak than 1024


def set_seed(seed=DEFAULT_SEED):
    """Seed Python, NumPy and Keras, and make TensorFlow ops deterministic: same run, same curve."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def runs_directory():
    """Return the folder under which runs are saved ($LCL_RUNS_DIR, default ./runs)."""
    return Path(os.environ.get(RUNS_DIRECTORY_VARIABLE) or "runs")


def _current_learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return math.nan
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def batch_loss(running_mean, batch, previous_running_mean):
    """Return batch ``batch``'s (0-based) own loss from Keras' running means of the epoch after it
    and before it (Keras logs the mean over the epoch's batches so far, not each batch's loss)."""
    return (batch + 1) * running_mean - batch * previous_running_mean


class HistoryRecorder(keras.callbacks.Callback):
    """Record a ``History`` while ``fit`` runs and save it to ``run_directory`` after each epoch.

    Besides Keras' logs it records each epoch's wall time and learning rate, and with
    ``record_batches=True`` the loss of every training batch (Keras logs a running mean over the
    epoch; the recorder recovers each batch's own loss from it).
    """

    def __init__(self, run_directory=None, record_batches=False, info=None):
        super().__init__()
        self.run_directory = run_directory
        self.record_batches = record_batches
        self.info = info
        self.history = History(metrics={}, info=dict(info or {}))

    def on_train_begin(self, logs=None):
        self._logs = {}
        self._seconds, self._learning_rates, self._batch_losses = [], [], []
        self._batches_per_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()
        self._running_mean, self._batches_seen = 0.0, 0

    def on_train_batch_end(self, batch, logs=None):
        if not self.record_batches or not logs or "loss" not in logs:
            return
        mean = float(logs["loss"])
        self._batch_losses.append(batch_loss(mean, batch, self._running_mean))
        self._running_mean, self._batches_seen = mean, batch + 1

    def on_epoch_end(self, epoch, logs=None):
        self._seconds.append(time.perf_counter() - self._epoch_started)
        self._learning_rates.append(_current_learning_rate(self.model))
        if self.record_batches:
            self._batches_per_epoch = self._batches_seen
        for key, value in (logs or {}).items():
            if key not in ("learning_rate", "lr"):
                self._logs.setdefault(key, []).append(float(value))
        self.history = History(
            metrics={key: list(values) for key, values in self._logs.items()},
            seconds_per_epoch=list(self._seconds),
            learning_rate=list(self._learning_rates),
            batch_loss=list(self._batch_losses),
            batches_per_epoch=self._batches_per_epoch,
            info=dict(self.info or {}),
        )
        if self.run_directory is not None:
            save_history(self.history, self.run_directory)


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
        _check_images(self.images, "images", self.model)
        _check_labels(self.labels, "labels", len(self.images), self.model)
        self._dataset = make_dataset(self.images, self.labels, self.batch_size,
                                     num_classes=_one_hot_classes(self.labels, self.model))

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


def _check_positive_integer(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_images(images, name, model):
    if not isinstance(images, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(images).__name__}")
    expected = tuple(model.input_shape[1:])
    if images.shape[1:] not in (expected, expected[:-1] if expected[-1] == 1 else expected):
        raise ValueError(
            f"{name} must have shape (n, {', '.join(map(str, expected))}) or "
            f"(n, {', '.join(map(str, expected[:-1]))}), got {images.shape}"
        )
    if images.dtype == np.uint8:
        return
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 pixels or floats in [0, 1], got {images.dtype}")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} contains NaN or infinite values")


def _uses_sparse_labels(model):
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else type(loss).__name__
    return "sparse" in name.lower()


def _one_hot_classes(labels, model):
    """How many classes to one-hot encode integer ``labels`` into for ``model``; None: leave them."""
    if labels.ndim == 1 and not _uses_sparse_labels(model):
        return int(model.output_shape[-1])
    return None


def _check_labels(labels, name, count, model):
    if not isinstance(labels, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(labels).__name__}")
    if len(labels) != count:
        raise ValueError(
            f"x and y must have the same length: {count} images but {len(labels)} labels in {name}"
        )
    if labels.ndim == 2 and _uses_sparse_labels(model):
        raise ValueError(
            f"{name} is one-hot but the model was compiled for integer labels; "
            f"pass integer labels or build_cnn(sparse_labels=False)"
        )
    if labels.ndim not in (1, 2):
        raise ValueError(f"{name} must be class indices (n,) or one-hot rows (n, classes), "
                         f"got shape {labels.shape}")
    if not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinite values")


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
    return (
        indices.batch(batch_size)
        .map(lambda batch: prepare(tf.gather(images, batch), tf.gather(labels, batch)),
             num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


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
    seed=DEFAULT_SEED,
    verbose=2,
):
    """Train ``model`` with Keras ``fit`` and return the run's ``History`` (also saved per epoch).

    ``x`` may be uint8 images as loaded (kept uint8 until batching) or floats in [0, 1]; ``y``
    integer labels or one-hot rows (integer labels are one-hot encoded per batch when the model
    expects one-hot). ``validation_split`` takes the last fraction exactly as Keras does.
    ``run_name`` saves the history under ``runs_directory()``; ``verbose=2`` prints one line per
    epoch.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.compiled or getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled before training (build_cnn() compiles it)")
    _check_positive_integer(epochs, "epochs")
    _check_positive_integer(batch_size, "batch_size")
    _check_images(x, "x", model)
    _check_labels(y, "y", len(x), model)
    if validation_data is not None and validation_split is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    if validation_split is not None:
        (x, y), validation_data = split_train_validation(x, y, validation_split)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_validation, y_validation)")
        _check_images(validation_data[0], "validation_data[0]", model)
        _check_labels(validation_data[1], "validation_data[1]", len(validation_data[0]), model)
    if batch_size > len(x):
        raise ValueError(f"batch_size={batch_size} is larger than the {len(x)} training samples")

    training_data = make_dataset(x, y, batch_size, shuffle=True, seed=seed,
                                 num_classes=_one_hot_classes(y, model))
    validation = None
    if validation_data is not None:
        validation = make_dataset(*validation_data, VALIDATION_BATCH_SIZE,
                                  num_classes=_one_hot_classes(validation_data[1], model))
    run_directory = new_run_directory(run_name) if run_name is not None else None
    # Cross-entropy of a model that learned nothing (uniform over the classes): diagnose() uses it.
    classes = int(model.output_shape[-1])
    baseline_loss = math.log(classes) if "crossentropy" in str(model.loss).lower() else None
    recorder = HistoryRecorder(
        run_directory,
        record_batches=record_batches,
        info={"run_name": run_name, "epochs": epochs, "batch_size": batch_size,
              "training_samples": len(x), "seed": seed,
              "run_directory": str(run_directory) if run_directory else None,
              "baseline_loss": baseline_loss},
    )
    model.fit(
        training_data,
        epochs=epochs,
        validation_data=validation,
        callbacks=[*callbacks, recorder],  # the recorder last: it sees what others add to logs
        shuffle=False,  # the pipeline shuffles, seeded
        verbose=verbose,
    )
    if run_directory is not None and verbose:
        print(f"History saved to {run_directory}")
    return recorder.history
