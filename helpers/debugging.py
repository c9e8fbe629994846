"""Tools for debugging a training run: per-step gradient norms and update ratios, warm-up, checks.

Introduced in ``13_debugging_a_training_run.ipynb``. ``watch_steps(model)`` gives a model whose
train step also measures the global gradient norm and each layer's update-to-weight ratio;
a ``StepWatcher`` listener copies them after every batch. They are kept as plain lists on the
watcher, not in the run's ``History``: Keras' logs do not contain them (the ``History`` holds
what Keras logs, per epoch, and the per-batch losses recovered from it), and only a watched
model can measure them.
"""

import math

import numpy as np

from helpers import checks
from helpers.history import smooth
from helpers.training import VALIDATION_BATCH_SIZE, check_examples, make_dataset

import keras
import tensorflow as tf

SCHEDULES = ("constant", "step", "cosine", "plateau")
STEP_DECAY_FACTOR = 0.1  # "step": the rate is divided by 10 ...
STEP_DECAY_AT = 2 / 3  # ... once, after two thirds of the epochs
PLATEAU_FACTOR, PLATEAU_PATIENCE = 0.2, 1  # "plateau": ReduceLROnPlateau on val_loss
EPSILON = 1e-7  # Keras clips probabilities to [1e-7, 1 - 1e-7] in its cross-entropy
PERIODIC = 0.4  # periodicity above this: the batches come in the same order every epoch


class _StepStatistics:
    """The variables a watched train step writes (a plain object: Keras does not track it)."""

    def __init__(self, layer_names):
        self.layer_names = layer_names
        self.gradient_norm = tf.Variable(0.0, trainable=False)
        self.update_ratios = tf.Variable(tf.zeros(len(layer_names)), trainable=False)


class WatchedModel(keras.Model):
    """A functional model whose train step also records the gradient norm and update ratios.

    The global gradient norm is measured before any clipping; the update-to-weight ratio of a
    layer is ``|weights after - weights before| / |weights before|`` for its kernel. Build one
    with ``watch_steps(model)``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kernels = [(layer, variable) for layer in self.layers
                   for variable in layer.trainable_variables if variable.name == "kernel"]
        self._kernels = [variable for _, variable in kernels]
        # Keras numbers layer names per session (conv2d_7); number them by position instead.
        self.step_statistics = _StepStatistics(
            [f"{index} {type(layer).__name__}" for index, (layer, _) in enumerate(kernels, 1)])

    def train_step(self, data):
        """Keras' train step (sample weights not supported), plus the two measurements."""
        x, y = data[0], data[1]
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        before = [tf.identity(kernel) for kernel in self._kernels]
        self.optimizer.apply(gradients, variables)
        statistics = self.step_statistics
        statistics.gradient_norm.assign(tf.linalg.global_norm(gradients))
        statistics.update_ratios.assign(tf.stack([
            tf.norm(kernel - old) / tf.norm(old) for kernel, old in zip(self._kernels, before)]))
        batch = tf.shape(x)[0]
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=batch)  # weighted, as Keras does
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}


def watch_steps(model):
    """Return ``model`` (same layers, same weights) as a ``WatchedModel``, not yet compiled."""
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise ValueError(f"model must be a built keras.Model with inputs (build_cnn() is), got "
                         f"{type(model).__name__}")
    return WatchedModel(model.inputs, model.outputs, name=f"watched_{model.name}")


def current_learning_rate(optimizer):
    """Return the optimizer's learning rate now, as a float (schedules are evaluated)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class StepWatcher:
    """A ``Recorder`` listener: after every batch, the step's gradient norm, update ratios, rate.

    Pass it to ``train(..., listeners=[watcher])`` with a model from ``watch_steps``.
    ``gradient_norms`` and ``learning_rates`` are lists with one number per step;
    ``update_ratios`` maps each layer's name to its list.
    """

    def __init__(self):
        self.gradient_norms, self.learning_rates, self.update_ratios = [], [], {}

    def on_train_begin(self, recorder):
        """Start empty lists; refuse a model that does not measure its steps."""
        statistics = getattr(recorder.model, "step_statistics", None)
        if statistics is None:
            raise ValueError("model must come from watch_steps(model) for a StepWatcher")
        self.gradient_norms, self.learning_rates = [], []
        self.update_ratios = {name: [] for name in statistics.layer_names}

    def on_batch(self, recorder):
        """Copy the step's numbers from the watched model."""
        statistics = recorder.model.step_statistics
        self.gradient_norms.append(float(statistics.gradient_norm.numpy()))
        for name, ratio in zip(statistics.layer_names, statistics.update_ratios.numpy()):
            self.update_ratios[name].append(float(ratio))
        self.learning_rates.append(current_learning_rate(recorder.model.optimizer))


class LinearWarmup(keras.callbacks.Callback):
    """Raise the learning rate linearly from ``learning_rate / warmup_steps`` to ``learning_rate``.

    Over the first ``warmup_steps`` training steps; after them the rate is left alone (so an
    epoch schedule can take over). The Deep Learning Tuning Playbook's cure for early instability.
    """

    def __init__(self, learning_rate, warmup_steps):
        super().__init__()
        self.learning_rate = checks.number(learning_rate, "learning_rate", low=0, low_open=True)
        self.warmup_steps = checks.positive_integer(warmup_steps, "warmup_steps")
        self.step = 0

    def on_train_begin(self, logs=None):
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.step <= self.warmup_steps:
            fraction = min(1.0, (self.step + 1) / self.warmup_steps)
            self.model.optimizer.learning_rate.assign(self.learning_rate * fraction)
        self.step += 1


def scheduled_learning_rate(schedule, epoch, learning_rate, epochs):
    """Return the rate for 0-based ``epoch`` under "constant", "step" or "cosine" decay."""
    checks.one_of(schedule, "schedule", ("constant", "step", "cosine"))
    checks.positive_integer(epochs, "epochs")
    if schedule == "step":
        return learning_rate * (STEP_DECAY_FACTOR if epoch >= round(STEP_DECAY_AT * epochs) else 1.0)
    if schedule == "cosine":
        return learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return learning_rate


def schedule_callbacks(schedule, learning_rate, epochs):
    """Return the Keras callbacks for a schedule, one of ``SCHEDULES`` (none for "constant")."""
    checks.one_of(schedule, "schedule", SCHEDULES)
    checks.number(learning_rate, "learning_rate", low=0, low_open=True)
    checks.positive_integer(epochs, "epochs")
    if schedule == "constant":
        return []
    if schedule == "plateau":
        return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=PLATEAU_FACTOR,
                                                  patience=PLATEAU_PATIENCE)]
    return [keras.callbacks.LearningRateScheduler(
        lambda epoch: scheduled_learning_rate(schedule, epoch, learning_rate, epochs))]


def repeat_batch(images, labels, steps, reshuffle_labels=False, seed=0):
    """Return one batch repeated ``steps`` times, to train on it with ``shuffle=False``.

    Overfitting one batch is the first test of a new pipeline. ``reshuffle_labels=True``
    imitates a broken pipeline: the labels are shuffled against the images anew in every copy.
    """
    checks.same_length(images, labels)
    checks.positive_integer(steps, "steps")
    rng = np.random.default_rng(seed)
    copies = [rng.permutation(labels) if reshuffle_labels else labels for _ in range(steps)]
    return np.concatenate([images] * steps), np.concatenate(copies)


def sort_by_class(images, labels):
    """Return images and labels sorted by class (stable): the unshuffled data of a pipeline bug."""
    checks.same_length(images, labels)
    order = np.argsort(labels, kind="stable")
    return images[order], labels[order]


def periodicity(batch_losses, batches_per_epoch):
    """Return how alike the per-batch loss is to itself one epoch later: a correlation, -1 to 1.

    The log of the loss less its moving average over one epoch (the trend) is correlated with
    itself one epoch later; the first epoch is left out. Near 0 (or below) when the batches come
    in a new random order every epoch; high when they come in the same order every epoch
    (unshuffled data, for instance sorted by class).
    """
    checks.integer(batches_per_epoch, "batches_per_epoch", low=2)
    values = np.asarray(batch_losses, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("batch_losses must be finite numbers (the run diverged?)")
    if len(values) < 4 * batches_per_epoch:
        raise ValueError(f"batch_losses must cover at least 4 epochs of {batches_per_epoch} "
                         f"batches, got {len(values)} values")
    logs = np.log(np.maximum(values[batches_per_epoch:], 1e-12))
    half = batches_per_epoch // 2
    trend = np.convolve(logs, np.ones(2 * half + 1) / (2 * half + 1), mode="valid")
    residual = logs[half:len(logs) - half] - trend
    return float(np.corrcoef(residual[:-batches_per_epoch], residual[batches_per_epoch:])[0, 1])


def longest_rise(values):
    """Return the longest run of consecutive epochs in which the value went up."""
    longest = current = 0
    for previous, value in zip(values, values[1:]):
        current = current + 1 if value > previous else 0
        longest = max(longest, current)
    return longest


def first_jump(values, factor=3.0, window=20):
    """Return the first step (counted from 1) above ``factor`` times the median of the ``window`` before.

    None when no step is. The same rule for the loss and the gradient norm says which one
    left its usual range first.
    """
    checks.number(factor, "factor", low=1, low_open=True)
    checks.positive_integer(window, "window")
    values = np.asarray(values, dtype=float)
    for step in range(window, len(values)):
        if values[step] > factor * np.median(values[step - window:step]):
            return step + 1
    return None


def exponential_moving_average(values, weight, bias_correction=True):
    """Smooth ``values`` like TensorBoard; without ``bias_correction`` it starts near 0."""
    if bias_correction:
        return smooth(values, weight)
    checks.number(weight, "weight", 0, 1, high_open=True)
    smoothed, average = [], 0.0
    for value in values:
        average = weight * average + (1 - weight) * float(value)
        smoothed.append(average)
    return smoothed


def centred_moving_average(values, window):
    """Mean over a window centred on each point (it uses later points); shorter at the ends."""
    checks.integer(window, "window", low=1)
    if window % 2 == 0:
        raise ValueError(f"window must be odd, so it can be centred, got {window}")
    values, half = np.asarray(values, dtype=float), window // 2
    return [float(values[max(0, i - half):i + half + 1].mean()) for i in range(len(values))]


def lag(reference, delayed, max_lag):
    """Return the shift in steps (0..max_lag) that best lines ``delayed`` up with ``reference``."""
    checks.integer(max_lag, "max_lag", low=0)
    reference, delayed = np.asarray(reference, dtype=float), np.asarray(delayed, dtype=float)
    if len(reference) != len(delayed) or len(reference) <= 2 * max_lag:
        raise ValueError(f"reference and delayed must have the same length, above 2 * max_lag "
                         f"= {2 * max_lag}, got {len(reference)} and {len(delayed)}")
    errors = [np.mean((delayed[shift:] - reference[:len(reference) - shift]) ** 2)
              for shift in range(max_lag + 1)]
    return int(np.argmin(errors))


def per_image_losses(model, images, labels):
    """Return the cross-entropy of each image under ``model`` (inference mode), as an array.

    Their mean is what ``model.evaluate`` reports; means over parts of it are the losses a
    smaller validation set would report.
    """
    check_examples(images, labels, model, "images", "labels")
    probabilities = model.predict(make_dataset(images, labels, VALIDATION_BATCH_SIZE), verbose=0)
    correct = probabilities[np.arange(len(labels)), np.asarray(labels, dtype=int)]
    return -np.log(np.clip(correct, EPSILON, 1.0))


def batch_mean_spread(per_image, batch_size):
    """Return the spread (standard deviation / mean) of ``per_image`` losses averaged over
    consecutive batches of ``batch_size`` (a last partial batch is left out).

    For a model that does not change, this is the scatter of per-batch losses that comes from
    measuring on a batch alone: it shrinks like ``1 / sqrt(batch_size)``.
    """
    per_image = np.asarray(per_image, dtype=float)
    checks.positive_integer(batch_size, "batch_size")
    batches = len(per_image) // batch_size
    if per_image.ndim != 1 or batches < 2:
        raise ValueError(f"per_image must be a list of at least 2 * batch_size = {2 * batch_size} "
                         f"losses, got shape {per_image.shape}")
    means = per_image[:batches * batch_size].reshape(batches, batch_size).mean(axis=1)
    return float(means.std() / means.mean())


class FixedSetLoss:
    """A ``Recorder`` listener: the loss on fixed images every ``every_images`` training images.

    Pass it to ``train(..., listeners=[probe])``. The images never change, and the model is
    measured in inference mode (no dropout), so the changes between measurements are the
    training's own noise, not the noise of measuring on a different batch. ``images_seen``,
    ``steps`` (batches trained so far, a short last batch of an epoch counting as one) and
    ``losses`` are lists with one number per measurement.
    """

    def __init__(self, images, labels, every_images):
        checks.positive_integer(every_images, "every_images")
        self.images, self.labels, self.every_images = images, labels, every_images
        self.images_seen, self.steps, self.losses = [], [], []

    def on_train_begin(self, recorder):
        """Start empty lists; check the images against the model."""
        check_examples(self.images, self.labels, recorder.model, "images", "labels")
        if recorder.images_seen is None:
            raise ValueError("FixedSetLoss needs a Recorder that knows its batch_size (train() "
                             "makes one)")
        self.images_seen, self.steps, self.losses = [], [], []
        self._previous_seen = 0  # images seen up to the batch before

    def on_batch(self, recorder):
        """After every ``every_images`` training images, measure the loss on the fixed images."""
        seen = recorder.images_seen
        if seen // self.every_images > self._previous_seen // self.every_images:
            self.images_seen.append(seen)
            self.steps.append(recorder.steps_taken)
            self.losses.append(float(per_image_losses(recorder.model, self.images,
                                                      self.labels).mean()))
        self._previous_seen = seen
