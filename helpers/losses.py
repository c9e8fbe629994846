"""The seed's loss functions written out in NumPy, so students can see every step.

Introduced in ``01_loss_definitions.ipynb``. Each function returns one loss per sample (the mean
over the last axis, as ``keras.losses`` does); the training or validation loss of the seed is
their average, ``1/N * sum_i L(y_i, y_hat_i)``: ``average_loss``.
"""

import numpy as np

from helpers import checks

EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON]


def _as_array(values, name):
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def _as_arrays(y_true, y_pred):
    y_true, y_pred = _as_array(y_true, "y_true"), _as_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} "
                         f"and {y_pred.shape}")
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis: punishes large errors quadratically."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return np.mean((y_pred - y_true) ** 2, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis: every unit of error costs the same."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: squared (like MSE) for errors up to ``delta``, linear (like MAE) beyond it."""
    checks.number(delta, "delta", low=0, low_open=True)
    y_true, y_pred = _as_arrays(y_true, y_pred)
    error = np.abs(y_pred - y_true)
    quadratic = 0.5 * error**2
    linear = delta * error - 0.5 * delta**2
    return np.mean(np.where(error <= delta, quadratic, linear), axis=-1)


def _log_probabilities(y_pred, from_logits):
    if from_logits:
        shifted = y_pred - np.max(y_pred, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    if np.any(y_pred < 0):
        raise ValueError("y_pred must be probabilities (>= 0); pass from_logits=True for scores")
    # Like Keras: renormalize each row, then clip so that log(0) never happens.
    probabilities = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    return np.log(np.clip(probabilities, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Cross-entropy for one-hot (or soft) targets: ``-sum_k y_k log p_k`` for each sample."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return -np.sum(y_true * _log_probabilities(y_pred, from_logits), axis=-1)


def sparse_categorical_crossentropy(labels, y_pred, from_logits=False):
    """Cross-entropy for integer labels: ``-log p_label`` for each sample."""
    labels = np.asarray(labels)
    y_pred = _as_array(y_pred, "y_pred")
    if labels.shape != y_pred.shape[:-1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers of shape {y_pred.shape[:-1]}, got "
                         f"{labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
        raise ValueError(f"labels must lie in 0..{y_pred.shape[-1] - 1}")
    log_probabilities = _log_probabilities(y_pred, from_logits)
    return -np.take_along_axis(log_probabilities, labels[..., np.newaxis], axis=-1)[..., 0]


def average_loss(per_sample_losses):
    """Return ``1/N * sum_i L_i``: the training or validation loss from per-sample losses."""
    losses = np.asarray(per_sample_losses, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("per_sample_losses is empty: a loss needs at least one sample")
    return float(np.mean(losses))


def fit_line(x, y, loss="mse", delta=1.0, iterations=200):
    """Fit ``y ~ slope * x + intercept`` by minimizing the mean ``loss`` ('mse', 'mae' or 'huber').

    Uses iteratively reweighted least squares: each point's weight is how much that loss lets a
    residual of its size pull on the line (1 for MSE; 1/|r| for MAE; 1, then delta/|r|, for Huber).
    Returns ``(slope, intercept)``.
    """
    x, y = _as_arrays(x, y)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"x and y must be 1-D with at least 2 points, got shape {x.shape}")
    checks.one_of(loss, "loss", ("mse", "mae", "huber"))
    checks.number(delta, "delta", low=0, low_open=True)
    design = np.column_stack([x, np.ones_like(x)])
    weights = np.ones_like(x)
    for _ in range(1 if loss == "mse" else iterations):
        root = np.sqrt(weights)
        coefficients = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
        residuals = np.abs(y - design @ coefficients)
        if loss == "mae":
            weights = 1.0 / np.maximum(residuals, 1e-8)
        elif loss == "huber":
            weights = np.where(residuals <= delta, 1.0, delta / np.maximum(residuals, 1e-12))
    return float(coefficients[0]), float(coefficients[1])
