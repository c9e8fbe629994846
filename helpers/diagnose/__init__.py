"""Name the pattern in a pair of loss curves, show the numbers that decided it, and suggest cures.

Introduced in ``03_reading_loss_curves.ipynb``. ``diagnose(history)`` takes anything
``as_history`` accepts (a Keras ``History``, its dict, a saved run, a training log file or
folder, a DataFrame). The rules live in ``helpers/diagnose/rules.py``, each threshold a named
constant with a comment; they compare every change with the curve's own epoch-to-epoch noise and
use medians and smoothed values, not single epochs (``helpers/diagnose/curves.py``).
``python -m helpers.diagnose LOG`` runs it from the command line (``__main__.py``).

How the primary pattern is chosen: every rule is checked, and the primary pattern is the first
one found in ``PATTERNS`` order, most serious first (a broken run before a generalization
problem, before a noisy one, before a cosmetic one, before "train longer"), except between the
patterns of a ``RIVALS`` pair, where the main story is the bigger effect, each measured as a
fraction of the loss's level (``rules.Finding``): overfitting against spikes by how far each
lifts the validation loss, per epoch on average, a spike's lift counting twice (the run climbs
back from a worse place after it; repeated big spikes outweigh a validation loss that only
stopped improving, a sustained rise outweighs small spikes), and validation below training
against "still falling" by the gap against the fall over the run's last part. A single spike is
an event, not the story of a run: it never wins against overfitting, and it comes after a
validation loss at least ``SPIKE_BELOW_VALIDATION_GAP`` below training. A finding marked minor
(isolated spikes in a long run) is never primary: it is listed after the others, and the primary
is then the next finding, or ``healthy``. ``Diagnosis.patterns`` and ``evidence`` list every
pattern found, primary first.
"""

import math
from dataclasses import dataclass, field

from helpers.diagnose.curves import OUTLIER_RATIO, first_epoch_is_outlier, without_outlier_start
from helpers.diagnose.rules import (
    CHECKS,
    MIN_EPOCHS,
    check_diverged,
    check_frozen_accuracy,
    healthy_evidence,
)
from helpers.diagnose.rules import (
    still_falling as still_falling,  # re-exported: the one definition the notebooks check with
)
from helpers.history import as_history

# Most serious first: the primary pattern is the first one found in this order.
PATTERNS = ("too_short", "diverged", "overfitting", "underfitting", "spiky", "val_below_train",
            "not_converged", "healthy")

# Patterns whose sizes can be weighed against each other: when one of a group would be primary,
# the one with the larger effect is (each effect is a fraction of the loss's level).
RIVALS = (("overfitting", "spiky"), ("val_below_train", "not_converged"))

# A finding that rests on one event (a single spike) is not the story of a run when a pattern that
# lasts is found: it never wins against its rival (overfitting), and it comes after validation
# below training when validation ends at least SPIKE_BELOW_VALIDATION_GAP (40%) below training
# (a gap that large is what the eye sees first; notebook 06's spiky recipe, whose clear spike
# stands out against a 25% gap, stays spiky).
SINGLE_EVENT = 1
SPIKE_BELOW_VALIDATION_GAP = 0.40

EXPLANATIONS = {
    "too_short": f"Too short to tell: a pattern needs at least {MIN_EPOCHS} epochs of both curves.",
    "diverged": "The loss blew up (NaN, infinity or a several-fold rise that did not come back): "
                "training broke down.",
    "overfitting": "Training loss keeps falling while validation loss rises or stops improving: "
                   "the model memorizes its training data instead of learning what carries over "
                   "to new data.",
    "underfitting": "Both losses stay high: the model cannot (yet) fit even its training data.",
    "spiky": "The loss jumps up for an epoch and comes back: steps too large, or noisy data.",
    "val_below_train": "Validation loss is below training loss. Common causes: regularization "
                       "that acts only in training (dropout, augmentation, batch norm), an "
                       "easier validation set (or one that leaks training data), and the "
                       "half-epoch shift (the training loss is an average over the epoch).",
    "not_converged": "Both losses are still clearly falling at the last epoch: training stopped "
                     "too early.",
    "healthy": "Both losses fell and the validation loss did not turn up: healthy training.",
}

ADVICE = {
    "too_short": f"Train for at least {MIN_EPOCHS} epochs, then diagnose again.",
    "diverged": "Lower the learning rate about 10x, clip gradients, check the weight "
                "initialization and the input scaling, stop on NaN with "
                "keras.callbacks.TerminateOnNaN (06_spikes_and_divergence).",
    "overfitting": "Add dropout or L2 regularization, augment the data, use more data, or stop "
                   "early with restore_best_weights=True (04_overfitting).",
    "underfitting": "Use a bigger model, a higher learning rate, less regularization or more "
                    "epochs (05_underfitting).",
    "spiky": "Lower the learning rate or add a schedule (ReduceLROnPlateau), use bigger batches, "
             "clip gradients, check the labels for noise (06_spikes_and_divergence).",
    "val_below_train": "Usually fine when small. Make sure the validation set does not overlap "
                       "the training set and is drawn like it (07_val_below_train).",
    "not_converged": "Train for more epochs, or raise the learning rate a little "
                     "(08_learning_rate_and_batch_size).",
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

    def to_dict(self):
        """Return the diagnosis as plain JSON-ready data."""
        return {"pattern": self.pattern, "patterns": list(self.patterns),
                "evidence": list(self.evidence), "explanation": self.explanation,
                "advice": self.advice, "markers": dict(self.markers)}


def _outlier_note(loss, val_loss):
    """Return a note naming each curve whose epoch 1 is an outlier (the rules then skip it), or ''."""
    names = [f"{name} loss ({values[0]:.3g})" for name, values in
             (("training", loss), ("validation", val_loss)) if first_epoch_is_outlier(values)]
    return (f" [epoch 1 of the {' and the '.join(names)} is an outlier, over {OUTLIER_RATIO:g}x "
            f"every later epoch: read as epoch 2's value]") if names else ""


def _main_story_first(major):
    """Return the major [(pattern, Finding)] with the main story first.

    Within each group of RIVALS the finding with the largest effect (a fraction of the loss
    level, see ``rules.Finding``) comes first, when the group's first finding is primary; a
    single spike loses to its rival, and to a validation loss SPIKE_BELOW_VALIDATION_GAP below
    training.
    """
    if not major:
        return major
    for group in RIVALS:
        if major[0][0] in group:
            rivals = [item for item in major if item[0] in group]
            lasting = [item for item in rivals if item[1].events != SINGLE_EVENT] or rivals
            best = max(lasting, key=lambda item: item[1].effect)
            major = [best] + [item for item in major if item is not best]
            break
    if major[0][0] == "spiky" and major[0][1].events == SINGLE_EVENT:
        below = next((item for item in major if item[0] == "val_below_train"
                      and item[1].effect >= SPIKE_BELOW_VALIDATION_GAP), None)
        if below is not None:
            major = [below] + [item for item in major if item is not below]
    return major


def _infinite_start(loss, val_loss):
    """Return how many first epochs to leave out because a loss was +infinity there and every
    later epoch of both curves is finite (0 when that is not so).

    An infinite loss is an overflowed value (log 0 on a confidently wrong prediction, in the
    epoch's average); when finite values follow to the end, the weights were not broken. NaN is
    never left out: NaN weights do not recover.
    """
    values = list(loss) + list(val_loss)
    if any(math.isnan(value) for value in values):
        return 0
    last = max((epoch for curve in (loss, val_loss) for epoch, value in enumerate(curve, 1)
                if not math.isfinite(value)), default=0)
    return last if last and len(loss) - last >= MIN_EPOCHS else 0


def _findings(loss, val_loss, baseline_loss, val_accuracy=None):
    """Return [(pattern, evidence)] in PATTERNS order, major findings before minor ones."""
    skipped = _infinite_start(loss, val_loss)
    if skipped:
        found, markers = _findings(loss[skipped:], val_loss[skipped:], baseline_loss,
                                   val_accuracy[skipped:] if val_accuracy else None)
        markers = {key: ([epoch + skipped for epoch in value] if isinstance(value, list)
                         else value + skipped) for key, value in markers.items()}
        found[0] = (found[0][0], found[0][1] + f" [epochs 1-{skipped} left out: a loss was "
                    f"infinite there and finite in every later epoch, so training recovered; in "
                    f"this evidence epoch 1 means epoch {skipped + 1}]")
        return found, markers
    markers = {}
    divergence = check_diverged(loss, val_loss, markers, baseline_loss)
    if divergence:
        return [("diverged", divergence.evidence)], markers
    if len(loss) < MIN_EPOCHS:
        return [("too_short", f"only {len(loss)} epoch(s) recorded")], markers
    note = _outlier_note(loss, val_loss)
    loss, val_loss = without_outlier_start(loss), without_outlier_start(val_loss)
    found = [(name, finding) for name, check in CHECKS
             if (finding := check(loss, val_loss, markers, baseline_loss))]
    frozen = check_frozen_accuracy(val_accuracy) if val_accuracy else None
    if frozen and "underfitting" not in dict(found):
        found = sorted(found + [("underfitting", frozen)], key=lambda item: PATTERNS.index(item[0]))
    major = [(name, finding) for name, finding in found if not finding.minor]
    major = [(name, finding.evidence) for name, finding in _main_story_first(major)]
    minor = [(name, finding.evidence) for name, finding in found if finding.minor]
    if not major:
        major = [("healthy", healthy_evidence(loss, val_loss))]
    major[0] = (major[0][0], major[0][1] + note)
    return major + minor, markers


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
            f"{' and '.join(repr(key) for key in missing)} (train with validation data); it has "
            f"{', '.join(history.keys()) or 'no keys'}"
        )
    found, markers = _findings(history["loss"], history["val_loss"], baseline_loss,
                               history.metrics.get("val_accuracy"))
    primary = found[0][0]
    return Diagnosis(
        pattern=primary,
        patterns=[name for name, _ in found],
        evidence=[f"{name}: {evidence}" for name, evidence in found],
        explanation=EXPLANATIONS[primary],
        advice=ADVICE[primary],
        markers=markers,
    )
