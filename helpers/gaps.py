"""The gap between the validation and the training loss, always with its sign.

Introduced in ``02_train_the_cnn.ipynb``. A gap is validation minus training: positive when the
validation curve lies above. "Wider" and "narrower" compare the distance between the curves
(the absolute gap); a claim about it says which curve is above at both ends.
"""

from helpers import checks
from helpers.history import as_history

__all__ = ["gap", "describe_gap", "wider"]


def gap(history, epoch, training_key="loss"):
    """Return validation minus training loss at 1-based ``epoch`` (negative: validation below)."""
    history = as_history(history)
    checks.integer(epoch, "epoch", low=1, high=history.epochs)
    return history["val_loss"][epoch - 1] - history[training_key][epoch - 1]


def describe_gap(value):
    """Return a gap in words with its sign: "validation above training by 0.120"."""
    checks.number(value, "value")
    if value == 0:
        return "validation equal to training"
    return f"validation {'above' if value > 0 else 'below'} training by {abs(value):.3f}"


def wider(before, after):
    """Return True when the curves are further apart at ``after`` than at ``before`` (gaps)."""
    checks.number(before, "before")
    checks.number(after, "after")
    return abs(after) > abs(before)
