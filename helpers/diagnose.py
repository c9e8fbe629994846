"""Name the pattern in a pair of loss curves, show the numbers that decided it, and suggest cures.

Introduced in ``03_reading_loss_curves.ipynb``. ``diagnose(history)`` takes anything
``as_history`` accepts. Every threshold below is relative (a fraction of a loss, never an absolute
loss value), so the rules work for any loss scale.
"""

import math
from dataclasses import dataclass, field

from helpers.history import as_history

MIN_EPOCHS = 3  # fewer epochs than this: "too short to tell", not a guess
DIVERGENCE_RATIO = 3.0  # a loss that ends above 3x its first-epoch value has diverged...
DIVERGENCE_BASELINE_RATIO = 10.0  # ...and so has one that ever exceeds 10x the baseline loss
OVERFITTING_RISE = 0.10  # validation loss stays >= 10% above its minimum for the last 2 epochs...
OVERFITTING_TRAINING_FALL = 0.05  # ...while training loss fell >= 5% after that minimum
UNDERFITTING_FALL = 0.25  # both losses fell < 25% from epoch 1 to their lowest: "both stay high"
UNDERFITTING_BASELINE_FRACTION = 0.35  # or the best validation loss is still above 35% of the
#   baseline loss (a model that learned nothing: ln 10 for 10 classes), when that is known
SPIKE_RATIO = 0.25  # an epoch whose loss is >= 25% above its neighbours is a spike...
SPIKE_RANGE_FRACTION = 0.10  # ...if the jump is also >= 10% of the curve's whole range
VALIDATION_BELOW_MARGIN = 0.05  # validation < training by >= 5%, on average over the last half
CONVERGENCE_WINDOW = 3  # the last epochs looked at for "still falling fast"
NOT_CONVERGED_FALL = 0.03  # both losses still fall >= 3% per epoch there: more epochs would help

# Most serious first: the primary pattern is the first one found in this order.
PATTERNS = ("too_short", "diverged", "overfitting", "underfitting", "spiky", "val_below_train",
            "not_converged", "healthy")

EXPLANATIONS = {
    "too_short": "Too short to tell: a pattern needs at least 3 epochs of both curves.",
    "diverged": "The loss blew up (NaN, infinity or a several-fold rise): training broke down.",
    "overfitting": "Training loss keeps falling while validation loss rises: the model memorizes "
                   "its training images instead of learning what carries over to new ones.",
    "underfitting": "Both losses stay high: the model cannot (yet) fit even its training data.",
    "spiky": "The loss jumps up for an epoch and comes back: steps too large, or noisy data.",
    "val_below_train": "Validation loss is below training loss: dropout makes training harder "
                       "than evaluation, and the training loss is an average over a moving model.",
    "not_converged": "Both losses are still falling fast at the last epoch: training stopped "
                     "too early.",
    "healthy": "Both losses fell and the validation loss did not turn up: healthy training.",
}

ADVICE = {
    "too_short": "Train for at least 3 epochs, then diagnose again.",
    "diverged": "Lower the learning rate about 10x, clip gradients, check the weight "
                "initialization, stop on NaN with keras.callbacks.TerminateOnNaN "
                "(06_spikes_and_divergence).",
    "overfitting": "Add dropout or L2 regularization, augment the data, use more data, or stop "
                   "early with restore_best_weights=True (04_overfitting).",
    "underfitting": "Use a bigger model, a higher learning rate, less regularization or more "
                    "epochs (05_underfitting).",
    "spiky": "Lower the learning rate or add a schedule (ReduceLROnPlateau), use bigger batches, "
             "clip gradients, check the labels for noise (06_spikes_and_divergence).",
    "val_below_train": "Usually fine when small. Make sure the validation set does not overlap "
                       "the training set and is not easier than it (07_val_below_train).",
    "not_converged": "Train for more epochs, or raise the learning rate a little "
                     "(08_factors).",
    "healthy": "Nothing to fix. Keep the epoch with the lowest validation loss (early stopping "
               "with restore_best_weights=True).",
}


@dataclass
class Diagnosis:
    """What ``diagnose`` found: the primary pattern, all patterns, their evidence, and advice.

    ``markers`` holds 1-based epochs to draw on a plot: ``overfitting_start``, ``spikes`` (of the
    validation loss), ``training_spikes``, ``diverged_at``.
    """

    pattern: str
    patterns: list
    evidence: list
    explanation: str
    advice: str
    markers: dict = field(default_factory=dict)

    def __str__(self):
        others = [p for p in self.patterns if p != self.pattern]
        lines = [f"Diagnosis: {self.pattern}" + (f" (also: {', '.join(others)})" if others else ""),
                 self.explanation]
        lines += [f"  - {item}" for item in self.evidence]
        lines.append(f"Advice: {self.advice}")
        return "\n".join(lines)


def _relative_fall(start, end):
    return (start - end) / abs(start) if start else 0.0


def _first_non_finite(values):
    return next((epoch for epoch, value in enumerate(values, 1) if not math.isfinite(value)), None)


def _check_diverged(loss, val_loss, markers, baseline_loss=None):
    for name, values in (("training", loss), ("validation", val_loss)):
        epoch = _first_non_finite(values)
        if epoch is not None:
            markers["diverged_at"] = epoch
            return f"{name} loss became {values[epoch - 1]} at epoch {epoch}"
    for name, values in (("training", loss), ("validation", val_loss)):
        peak = max(range(len(values)), key=values.__getitem__)
        if baseline_loss and values[peak] > DIVERGENCE_BASELINE_RATIO * baseline_loss:
            markers["diverged_at"] = peak + 1
            return (f"{name} loss exploded to {values[peak]:.3g} at epoch {peak + 1}, "
                    f"{values[peak] / baseline_loss:.0f}x the {baseline_loss:.3g} of a model "
                    f"that learned nothing")
        if len(values) > 1 and values[0] > 0 and values[-1] > DIVERGENCE_RATIO * values[0]:
            markers["diverged_at"] = next(epoch for epoch, value in enumerate(values, 1)
                                          if value > DIVERGENCE_RATIO * values[0])
            return (f"{name} loss grew from {values[0]:.3g} at epoch 1 to {values[-1]:.3g} at "
                    f"epoch {len(values)}, {values[-1] / values[0]:.1f}x, and did not come back")
    return None


def _check_overfitting(loss, val_loss, markers, baseline_loss=None):
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    if len(val_loss) - best - 1 < 2:
        return None
    rise = min(val_loss[-2:]) / val_loss[best] - 1 if val_loss[best] > 0 else 0.0
    training_fall = _relative_fall(loss[best], loss[-1])
    if rise >= OVERFITTING_RISE and training_fall >= OVERFITTING_TRAINING_FALL:
        markers["overfitting_start"] = best + 1
        return (f"validation loss minimum at epoch {best + 1}, {val_loss[best]:.3g}, rose "
                f"{val_loss[-1] / val_loss[best] - 1:.0%} by epoch {len(val_loss)} while "
                f"training loss fell {training_fall:.0%}")
    return None


def _check_underfitting(loss, val_loss, markers, baseline_loss=None):
    training_fall = _relative_fall(loss[0], min(loss))
    validation_fall = _relative_fall(val_loss[0], min(val_loss))
    if training_fall < UNDERFITTING_FALL and validation_fall < UNDERFITTING_FALL:
        return (f"training loss fell only {training_fall:.0%} (from {loss[0]:.3g} to "
                f"{min(loss):.3g}) and validation loss only {validation_fall:.0%} (to "
                f"{min(val_loss):.3g})")
    if baseline_loss and min(val_loss) > UNDERFITTING_BASELINE_FRACTION * baseline_loss:
        return (f"the best validation loss, {min(val_loss):.3g}, is still "
                f"{min(val_loss) / baseline_loss:.0%} of the {baseline_loss:.3g} of a model that "
                f"learned nothing (underfitting above {UNDERFITTING_BASELINE_FRACTION:.0%})")
    return None


def _spikes(values):
    # The range condition keeps jitter of a loss near zero (0.06 -> 0.08) from counting as a spike.
    curve_range = max(values) - min(values)
    found = []
    for index in range(1, len(values)):
        neighbours = [values[index - 1]] + ([values[index + 1]] if index + 1 < len(values) else [])
        jump = values[index] - max(neighbours)
        if (values[index] >= (1 + SPIKE_RATIO) * max(neighbours) > 0
                and jump >= SPIKE_RANGE_FRACTION * curve_range):
            found.append(index)
    return found


def _check_spiky(loss, val_loss, markers, baseline_loss=None):
    descriptions = []
    for name, values, marker in (("validation", val_loss, "spikes"),
                                 ("training", loss, "training_spikes")):
        for index in _spikes(values):
            markers.setdefault(marker, []).append(index + 1)
            descriptions.append(f"{name} loss jumped to {values[index]:.3g} at epoch {index + 1}, "
                                f"{values[index] / values[index - 1] - 1:.0%} above epoch {index}")
    return "; ".join(descriptions) or None


def _check_val_below_train(loss, val_loss, markers, baseline_loss=None):
    half = max(2, len(loss) // 2)
    training, validation = sum(loss[-half:]) / half, sum(val_loss[-half:]) / half
    if validation <= (1 - VALIDATION_BELOW_MARGIN) * training:
        return (f"over the last {half} epochs validation loss averaged {validation:.3g}, "
                f"{1 - validation / training:.0%} below the training loss {training:.3g}")
    return None


def _check_not_converged(loss, val_loss, markers, baseline_loss=None):
    window = min(CONVERGENCE_WINDOW, len(loss) - 1)
    training_rate = 1 - (loss[-1] / loss[-1 - window]) ** (1 / window) if loss[-1 - window] else 0
    validation_rate = (1 - (val_loss[-1] / val_loss[-1 - window]) ** (1 / window)
                       if val_loss[-1 - window] else 0)
    if min(training_rate, validation_rate) >= NOT_CONVERGED_FALL:
        return (f"over the last {window} epochs training loss still fell {training_rate:.0%} and "
                f"validation loss {validation_rate:.0%} per epoch")
    return None


def _healthy_evidence(loss, val_loss):
    return (f"training loss fell {_relative_fall(loss[0], loss[-1]):.0%} to {loss[-1]:.3g}, "
            f"validation loss {_relative_fall(val_loss[0], val_loss[-1]):.0%} to "
            f"{val_loss[-1]:.3g}; lowest validation loss at epoch "
            f"{min(range(len(val_loss)), key=val_loss.__getitem__) + 1}")


_CHECKS = (("overfitting", _check_overfitting), ("underfitting", _check_underfitting),
           ("spiky", _check_spiky), ("val_below_train", _check_val_below_train),
           ("not_converged", _check_not_converged))


def diagnose(history, baseline_loss=None):
    """Return a Diagnosis naming the pattern of a history's training and validation loss.

    ``baseline_loss`` is the loss of a model that learned nothing (``ln 10`` for 10-class
    cross-entropy); it lets "both losses stay high" be recognised even when they fell a lot from
    a very high start. ``train`` stores it in the history, so it is rarely needed here.
    """
    history = as_history(history)
    if baseline_loss is None:
        baseline_loss = history.info.get("baseline_loss")
    if baseline_loss is not None and not baseline_loss > 0:
        raise ValueError(f"baseline_loss must be a number above 0, got {baseline_loss!r}")
    missing = [key for key in ("loss", "val_loss") if key not in history]
    if missing:
        raise ValueError(
            f"diagnose needs both 'loss' and 'val_loss' per epoch; the history lacks "
            f"{' and '.join(repr(key) for key in missing)} (train with validation data)"
        )
    loss, val_loss = history["loss"], history["val_loss"]
    markers, found = {}, []
    # Divergence is told even from one epoch: a NaN or an explosion needs no trend.
    divergence = _check_diverged(loss, val_loss, markers, baseline_loss)
    if divergence:
        found.append(("diverged", divergence))
    elif len(loss) < MIN_EPOCHS:
        found.append(("too_short", f"only {len(loss)} epoch(s) recorded"))
    else:
        for name, check in _CHECKS:
            evidence = check(loss, val_loss, markers, baseline_loss)
            if evidence:
                found.append((name, evidence))
        if not found:
            found.append(("healthy", _healthy_evidence(loss, val_loss)))
    primary = found[0][0]
    return Diagnosis(
        pattern=primary,
        patterns=[name for name, _ in found],
        evidence=[f"{name}: {evidence}" for name, evidence in found],
        explanation=EXPLANATIONS[primary],
        advice=ADVICE[primary],
        markers=markers,
    )
