"""Argument checks shared by every helper: one wording for one mistake.

Each check raises ``ValueError`` naming the argument, what was expected and what was given, and
returns the value (so ``epochs = checks.integer(epochs, "epochs", low=1)`` reads as one step).
Nothing here imports TensorFlow.
"""

import numbers

import numpy as np


def _bounds(low, high, low_open, high_open):
    if low is not None and high is not None:
        start = f"above {low} and" if low_open else f"from {low} to"
        end = f"below {high}" if high_open else (f"at most {high}" if low_open else f"{high}")
        return f"{start} {end}"
    if low is not None:
        return f"above {low}" if low_open else f"of at least {low}"
    if high is not None:
        return f"below {high}" if high_open else f"of at most {high}"
    return ""


def number(value, name, low=None, high=None, low_open=False, high_open=False):
    """Check that ``value`` is a real number (not a bool) within the bounds; return it."""
    bounds = _bounds(low, high, low_open, high_open)
    expected = f"a number {bounds}".rstrip()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def integer(value, name, low=None, high=None):
    """Check that ``value`` is a whole number (int or NumPy integer, not a bool) within bounds."""
    expected = f"an integer {_bounds(low, high, False, False)}".rstrip()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def positive_integer(value, name):
    """Check that ``value`` is an integer of at least 1."""
    return integer(value, name, low=1)


def one_of(value, name, options):
    """Check that ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(str, options))}, got {value!r}")
    return value


def non_empty_dict(value, name, shape="{name: value}"):
    """Check that ``value`` is a non-empty dict (``shape`` says what it maps)."""
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{name} must be a non-empty dict {shape}, got {value!r}")
    return value


def array(value, name):
    """Check that ``value`` is a NumPy array."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(value).__name__}")
    return value


def same_length(images, labels, images_name="images", labels_name="labels"):
    """Check that there are as many labels as images."""
    if len(images) != len(labels):
        raise ValueError(f"{images_name} and {labels_name} must have the same length, got "
                         f"{len(images)} images and {len(labels)} labels")


def class_labels(labels, name, num_classes):
    """Check that ``labels`` is a 1-D integer array of class indices 0..num_classes-1."""
    array(labels, name)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer class indices, got shape "
                         f"{labels.shape} and dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from "
                         f"{labels.min()} to {labels.max()}")
    return labels


def images(value, name, input_shape):
    """Check images for a model with ``input_shape``: uint8 pixels or finite floats, channel optional."""
    array(value, name)
    expected = tuple(input_shape)
    allowed = (expected, expected[:-1]) if expected[-1] == 1 else (expected,)
    if value.shape[1:] not in allowed:
        raise ValueError(
            f"{name} must have shape (n, {', '.join(map(str, expected))})"
            + (f" or (n, {', '.join(map(str, expected[:-1]))})" if len(allowed) == 2 else "")
            + f", got {value.shape}")
    if value.dtype == np.uint8:
        return value
    if not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 pixels or floats in [0, 1], got {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return value


def labels(value, name, count, sparse=False):
    """Check training labels: ``count`` class indices (n,) or one-hot rows (n, classes), finite."""
    array(value, name)
    if len(value) != count:
        raise ValueError(f"x and y must have the same length: {count} images but {len(value)} "
                         f"labels in {name}")
    if value.ndim == 2 and sparse:
        raise ValueError(f"{name} is one-hot but the model was compiled for integer labels; "
                         f"pass integer labels or compile_cnn(model, sparse_labels=False)")
    if value.ndim not in (1, 2):
        raise ValueError(f"{name} must be class indices (n,) or one-hot rows (n, classes), "
                         f"got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return value
