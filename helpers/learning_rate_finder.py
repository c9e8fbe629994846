"""A learning-rate range test for Keras: the counterpart of fastai's ``lr_find``.

Introduced in ``08_factors.ipynb``. Train for a few hundred batches while the learning rate grows
exponentially from tiny to huge, record the loss after every batch, stop once the loss explodes
(4x its lowest value, or back above where it started), then put the weights and the optimizer
back as they were. The loss falls fastest a little below
the rate where it bottoms out; ``find_learning_rate`` suggests a tenth of that rate (Leslie
Smith's rule of thumb), a safe and fast choice.
"""

import math

import keras
import numpy as np

from helpers.history import smooth
from helpers.training import (
    DEFAULT_SEED,
    _check_images,
    _check_labels,
    _one_hot_classes,
    batch_loss,
    make_dataset,
    set_seed,
)

EXPLOSION_FACTOR = 4.0  # stop when the smoothed loss exceeds 4x its lowest value so far,
RECOVERED_FALL = 0.10  # or climbs back above its first value after falling >= 10% below it
SMOOTHING = 0.9  # exponential smoothing of the per-batch losses (fastai uses 0.98 over more steps)
SUGGESTION_DIVISOR = 10.0  # suggest the rate at the lowest smoothed loss, divided by 10


class _RangeTest(keras.callbacks.Callback):
    """Set the rate before every batch, record the batch's own loss, stop when it explodes."""

    def __init__(self, rates):
        super().__init__()
        self.rates = rates
        self.losses = []
        self._running_mean = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.rates[batch]

    def on_train_batch_end(self, batch, logs=None):
        mean = float(logs["loss"])
        loss = batch_loss(mean, batch, self._running_mean)
        self._running_mean = mean
        self.losses.append(loss)
        smoothed = smooth(self.losses, SMOOTHING)
        lowest, first, now = min(smoothed), smoothed[0], smoothed[-1]
        fell_then_climbed = lowest < (1 - RECOVERED_FALL) * first and now > first
        if not math.isfinite(loss) or now > EXPLOSION_FACTOR * lowest or fell_then_climbed:
            self.model.stop_training = True


def find_learning_rate(model, images, labels, start=1e-7, end=10.0, steps=200, batch_size=64,
                       seed=DEFAULT_SEED):
    """Run a learning-rate range test on a compiled ``model``; return its rates, losses and suggestion.

    Returns a dict: ``learning_rates`` and ``losses`` (one per batch trained), ``smoothed_losses``,
    ``suggested_learning_rate``, ``lowest_loss_learning_rate`` and ``stopped_early`` (the loss
    exploded before ``end``). The model's weights and optimizer state are restored afterwards.
    """
    if not isinstance(model, keras.Model) or not model.compiled:
        raise ValueError("model must be a compiled keras.Model (build_cnn() compiles it)")
    for value, name in ((start, "start"), (end, "end")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a learning rate above 0, got {value!r}")
    if not start < end:
        raise ValueError(f"start must be below end, got start={start} and end={end}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 10:
        raise ValueError(f"steps must be an integer of at least 10, got {steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    _check_images(images, "images", model)
    _check_labels(labels, "labels", len(images), model)
    if batch_size > len(images):
        raise ValueError(f"batch_size={batch_size} is larger than the {len(images)} images")

    rates = list(np.geomspace(start, end, steps))
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    saved_weights = model.get_weights()
    saved_optimizer = [variable.numpy() for variable in optimizer.variables]
    saved_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    set_seed(seed)
    dataset = make_dataset(images, labels, batch_size, shuffle=True, seed=seed,
                           num_classes=_one_hot_classes(labels, model)).repeat()
    test = _RangeTest(rates)
    try:
        model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[test], shuffle=False,
                  verbose=0)
    finally:
        model.set_weights(saved_weights)
        for variable, value in zip(optimizer.variables, saved_optimizer):
            variable.assign(value)
        optimizer.learning_rate = saved_rate

    losses = test.losses
    rates = [float(rate) for rate in rates[:len(losses)]]
    smoothed = smooth(losses, SMOOTHING)
    finite = [i for i, value in enumerate(smoothed) if math.isfinite(value)]
    lowest = min(finite, key=lambda i: smoothed[i]) if finite else 0
    return {
        "learning_rates": rates,
        "losses": [float(value) for value in losses],
        "smoothed_losses": [float(value) for value in smoothed],
        "lowest_loss_learning_rate": rates[lowest],
        "suggested_learning_rate": rates[lowest] / SUGGESTION_DIVISOR,
        "stopped_early": len(losses) < steps,
    }
