"""A learning-rate range test for Keras: the counterpart of fastai's ``lr_find``.

Introduced in ``08_learning_rate_and_batch_size.ipynb``. Train for a few hundred batches while
the learning rate grows exponentially from tiny to huge, record the loss after every batch, stop
once the loss explodes (4x its lowest value, or back above where it started), then put the
weights and the optimizer back as they were. The loss falls fastest a little below
the rate where it bottoms out; ``find_learning_rate`` suggests a tenth of that rate (fastai's
rule of thumb; Smith reads a range off the curve instead), a safe and fast choice.
"""

import math

import numpy as np

from helpers import checks
from helpers.history import smooth
from helpers.training import (
    DEFAULT_SEED,
    Recorder,
    check_compiled,
    check_examples,
    make_dataset,
    one_hot_classes,
    one_step_per_call,
    set_seed,
)

import keras

EXPLOSION_FACTOR = 4.0  # stop when the smoothed loss exceeds 4x its lowest value so far,
RECOVERED_FALL = 0.10  # or climbs back above its first value after falling >= 10% below it
SMOOTHING = 0.9  # exponential smoothing of the per-batch losses (fastai uses 0.98 over more steps)
SUGGESTION_DIVISOR = 10.0  # suggest the rate at the lowest smoothed loss, divided by 10


class RateSweep(keras.callbacks.Callback):
    """Set the rate before every batch; as a listener of the Recorder, stop when the loss explodes.

    It records nothing itself: the batch losses are the Recorder's.
    """

    def __init__(self, rates):
        super().__init__()
        self.rates = rates

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.rates[batch]

    def on_batch(self, recorder):
        """Stop training once the smoothed loss explodes or climbs back above where it started."""
        losses = recorder.history.batch_loss
        smoothed = smooth(losses, SMOOTHING)
        lowest, first, now = min(smoothed), smoothed[0], smoothed[-1]
        fell_then_climbed = lowest < (1 - RECOVERED_FALL) * first and now > first
        if not math.isfinite(losses[-1]) or now > EXPLOSION_FACTOR * lowest or fell_then_climbed:
            recorder.model.stop_training = True


def find_learning_rate(model, images, labels, start=1e-7, end=10.0, steps=200, batch_size=64,
                       seed=DEFAULT_SEED):
    """Run a learning-rate range test on a compiled ``model``; return its rates, losses and suggestion.

    Returns a dict: ``learning_rates`` and ``losses`` (one per batch trained), ``smoothed_losses``,
    ``suggested_learning_rate``, ``lowest_loss_learning_rate`` and ``stopped_early`` (the loss
    exploded before ``end``). The model's weights and optimizer state are restored afterwards.
    """
    check_compiled(model)
    checks.number(start, "start", low=0, low_open=True)
    checks.number(end, "end", low=0, low_open=True)
    if not start < end:
        raise ValueError(f"start must be below end, got start={start} and end={end}")
    checks.integer(steps, "steps", low=10)
    checks.positive_integer(batch_size, "batch_size")
    check_examples(images, labels, model, "images", "labels")
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
                           num_classes=one_hot_classes(labels, model)).repeat()
    sweep = RateSweep(rates)
    recorder = Recorder(record_batches=True, listeners=[sweep])
    try:
        with one_step_per_call(model):  # the sweep sets the rate before every batch
            model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[sweep, recorder],
                      shuffle=False, verbose=0)
    finally:
        model.set_weights(saved_weights)
        for variable, value in zip(optimizer.variables, saved_optimizer):
            variable.assign(value)
        optimizer.learning_rate = saved_rate

    losses = recorder.history.batch_loss
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
