"""One plain record of a training run, taken by every plot, diagnosis and homework check.

Introduced in ``02_train_the_cnn.ipynb``. ``as_history`` turns a Keras ``History``, its
``.history`` dict, a saved run or a ``History`` into a ``History`` with normalized key names,
so 'acc' and 'accuracy' (and 'lr' and 'learning_rate') mean the same thing everywhere.
"""

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers import checks

# Older Keras and tf.keras used these names; everything here uses the names on the right.
KEY_ALIASES = {
    "acc": "accuracy",
    "val_acc": "val_accuracy",
    "lr": "learning_rate",
}
HISTORY_FILE_NAME = "history.json"


def normalize_key(key):
    """Return the normalized name of a history key ('acc' -> 'accuracy', 'lr' -> 'learning_rate')."""
    if not isinstance(key, str):
        raise ValueError(f"history keys must be strings, got {key!r}")
    return KEY_ALIASES.get(key, key)


def _as_float_list(values, key):
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError) as error:
        raise ValueError(f"history[{key!r}] must be a list of numbers, got {values!r}") from error


@dataclass
class History:
    """Per-epoch lists of loss, val_loss and metrics, plus timings and learning rates.

    ``metrics`` maps normalized names ('loss', 'val_loss', 'accuracy', 'val_accuracy', ...) to one
    number per epoch. ``seconds_per_epoch`` and ``learning_rate`` have one entry per epoch when
    recorded; ``batch_loss`` has one entry per training batch when asked for; ``info`` holds
    free-form facts about the run (model, seed, mode).
    """

    metrics: dict
    seconds_per_epoch: list = field(default_factory=list)
    learning_rate: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)
    batches_per_epoch: int | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.metrics, dict):
            raise ValueError(f"metrics must be a dict of per-epoch lists, got {self.metrics!r}")
        metrics = {}
        for key, values in self.metrics.items():
            name = normalize_key(key)
            if name in metrics:
                raise ValueError(f"history has both {key!r} and another key meaning {name!r}")
            metrics[name] = _as_float_list(values, key)
        if "learning_rate" in metrics and not self.learning_rate:
            self.learning_rate = metrics.pop("learning_rate")
        else:
            metrics.pop("learning_rate", None)
        self.metrics = metrics
        self.seconds_per_epoch = _as_float_list(self.seconds_per_epoch, "seconds_per_epoch")
        self.learning_rate = _as_float_list(self.learning_rate, "learning_rate")
        self.batch_loss = _as_float_list(self.batch_loss, "batch_loss")
        lengths = {key: len(values) for key, values in self.metrics.items()}
        for name in ("seconds_per_epoch", "learning_rate"):
            if getattr(self, name):
                lengths[name] = len(getattr(self, name))
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "every per-epoch list in a history must have the same length, got "
                + ", ".join(f"{key}: {length}" for key, length in lengths.items())
            )

    @property
    def epochs(self):
        """Number of epochs recorded."""
        return len(next(iter(self.metrics.values()), []))

    @property
    def epoch_numbers(self):
        """Epoch numbers as people count them: 1, 2, ..., epochs."""
        return list(range(1, self.epochs + 1))

    def __getitem__(self, key):
        name = normalize_key(key)
        if name == "learning_rate":
            return self.learning_rate
        if name not in self.metrics:
            raise KeyError(
                f"history has no {key!r}; it has {', '.join(sorted(self.metrics)) or 'no keys'}"
            )
        return self.metrics[name]

    def __contains__(self, key):
        return normalize_key(key) in self.metrics

    def keys(self):
        """Names of the per-epoch metrics, normalized."""
        return list(self.metrics)

    def append_epoch(self, logs, seconds=None, learning_rate=None):
        """Add one epoch: Keras' ``logs`` dict (learning-rate keys go to ``learning_rate``)."""
        for key, value in logs.items():
            name = normalize_key(key)
            if name != "learning_rate":
                self.metrics.setdefault(name, []).append(float(value))
        if seconds is not None:
            self.seconds_per_epoch.append(float(seconds))
        if learning_rate is not None:
            self.learning_rate.append(float(learning_rate))

    def to_dict(self):
        """Return the record as plain JSON-ready data."""
        return asdict(self)


PENALTY_FREE_KEYS = {"loss": "cross_entropy", "val_loss": "val_cross_entropy"}


def without_penalty(history):
    """Return the run with ``loss``/``val_loss`` taken from its cross-entropy without L1/L2 penalties.

    Keras adds weight penalties to both losses, so a regularized run's losses are not comparable
    with an unregularized run's; ``compile_cnn`` records the plain cross-entropy of such a model
    as ``cross_entropy``. The penalized losses are kept as ``penalized_loss`` and
    ``val_penalized_loss``. A run without that metric (no penalty) is returned unchanged.
    """
    history = as_history(history)
    if not all(key in history for key in PENALTY_FREE_KEYS.values()):
        return history
    metrics = {key: values for key, values in history.metrics.items()
               if key not in PENALTY_FREE_KEYS.values()}
    for plain, penalty_free in PENALTY_FREE_KEYS.items():
        metrics[plain.replace("loss", "penalized_loss")] = history.metrics[plain]
        metrics[plain] = history.metrics[penalty_free]
    return History(metrics=metrics, seconds_per_epoch=history.seconds_per_epoch,
                   learning_rate=history.learning_rate, batch_loss=[],
                   info={**history.info, "loss_without_penalty": True})


def as_history(source):
    """Return a History from a History, a Keras History, its ``.history`` dict, a saved run path,
    a training log (file or TensorBoard folder, see ``helpers.logs``) or a pandas DataFrame."""
    from helpers import logs  # readers of training logs (CSV, JSON, TensorBoard, DataFrame)

    if isinstance(source, History):
        return source
    if isinstance(source, (str, os.PathLike)):
        if (Path(source) / HISTORY_FILE_NAME).is_file() or logs.is_saved_run(source):
            return load_history(source)
        return History(metrics=logs.read_log(source))
    if hasattr(source, "columns") and hasattr(source, "to_dict"):
        return History(metrics=logs.read_dataframe(source))
    if hasattr(source, "history") and isinstance(source.history, dict):
        planned = getattr(source, "params", None) or {}
        return History(metrics=dict(source.history),
                       info={"epochs": planned["epochs"]} if planned.get("epochs") else {})
    if isinstance(source, dict):
        if "metrics" in source and isinstance(source["metrics"], dict):
            return History(**source)
        return History(metrics=dict(source))
    raise ValueError(
        f"history must be a helpers History, a Keras History, its .history dict, a path to a "
        f"saved run or a training log, or a pandas DataFrame, got {type(source).__name__}"
    )


def save_history(history, path):
    """Write a history to ``path`` (a .json file or a run directory), atomically."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / HISTORY_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    # NaN and infinity are kept (diverged runs have them); Python's json reads them back.
    temporary.write_text(json.dumps(as_history(history).to_dict(), indent=1))
    os.replace(temporary, path)
    return path


def load_history(path):
    """Read a history saved by ``save_history`` or written by ``train`` (file or run directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / HISTORY_FILE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no saved history at {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a valid history file: {error}") from error
    return as_history(data)


def lowest_epoch(values, name="values"):
    """Return the 1-based position of the lowest finite number in ``values``."""
    finite = [(value, epoch) for epoch, value in enumerate(values, 1) if math.isfinite(value)]
    if not finite:
        raise ValueError(f"{name} has no finite value")
    return min(finite)[1]


def best_epoch(history, key="val_loss"):
    """Return the 1-based epoch with the lowest finite ``key`` (validation loss by default)."""
    return lowest_epoch(as_history(history)[key], f"history[{key!r}]")


def kept_epochs(history):
    """Return the epochs whose model a run keeps: all of them, or, for a run that stopped before its
    planned epochs (early stopping with ``restore_best_weights=True``), those up to its lowest
    validation loss. A run ``train`` made without a callback that restores the best weights
    (``TerminateOnNaN``, early stopping without restoring) keeps all its epochs."""
    history = as_history(history)
    planned = history.info.get("epochs")
    if history.info.get("restores_best_weights") is False:  # train() says: its last weights stay
        return history
    if not planned or history.epochs >= planned or "val_loss" not in history:
        return history
    kept = best_epoch(history)
    return History(metrics={key: values[:kept] for key, values in history.metrics.items()},
                   seconds_per_epoch=history.seconds_per_epoch[:kept],
                   learning_rate=history.learning_rate[:kept],
                   info={**history.info, "kept_epochs": kept})


def smooth(values, weight=0.6):
    """Exponential moving average with bias correction (TensorBoard's smoothing); NaN passes through."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be from 0 (no smoothing) to below 1, got {weight}")
    smoothed, average, steps = [], 0.0, 0
    for value in values:
        value = float(value)
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        steps += 1
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight**steps))
    return smoothed


def early_stopping_epoch(history, patience, key="val_loss", min_delta=0.0):
    """Return the 1-based epoch at which Keras' EarlyStopping(patience) would stop, or None."""
    return stopping_epoch(as_history(history)[key], patience, min_delta)


def stopping_epoch(values, patience, min_delta=0.0):
    """Return the 1-based epoch at which EarlyStopping(patience) stops on ``values``, or None."""
    checks.positive_integer(patience, "patience")
    best, wait = math.inf, 0
    for epoch, value in enumerate(values, 1):
        if value < best - min_delta:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch
    return None
