"""Read a training log written by any common tool into plain per-epoch lists of numbers.

Introduced in ``03_reading_loss_curves.ipynb``; ``helpers.history.as_history`` calls it for paths
and DataFrames, so ``diagnose`` and ``plot_history`` take these logs directly. ``read_log(path)``
and ``read_dataframe(frame)`` return a plain dict ``{metric name: [one float per epoch]}``:

- a Keras ``CSVLogger`` file (one row per epoch; the ``epoch`` column is dropped);
- a JSON file: a Keras ``history.history`` dict dumped with ``json.dump``, or a list of one
  dict per epoch (this project's saved runs are read by ``helpers.history.load_history``);
- a PyTorch Lightning ``metrics.csv`` (``CSVLogger``): rows are grouped by their ``epoch``;
  training and validation values logged on separate rows of one epoch are joined; columns
  ending in ``_step`` and the ``step`` column are dropped; a column logged several times in one
  epoch is averaged over it (as Keras averages its batch losses);
- a pandas ``DataFrame`` with such columns (duck-typed: pandas is not needed here);
- a TensorBoard log folder: the one Keras' ``TensorBoard`` callback writes (``train/`` and
  ``validation/`` inside, tags ``epoch_loss``, ``epoch_accuracy``, ...), or any folder of event
  files whose scalar tags are metric names (mapped to epochs by an ``epoch`` tag if there is one,
  else one epoch per step). Read with the ``tensorboard`` package's ``event_accumulator``.

Column names understood, besides Keras' own (``loss``, ``val_loss``, ``accuracy``/``acc``,
``val_accuracy``/``val_acc``): see ``ALIASES``. Epochs lacking the training or validation loss
are dropped, and so are other columns that lack a value in some kept epoch or hold text. A file that cannot
be read gives a ``ValueError`` naming the file and the columns found.
"""

import csv
import json
import math
from pathlib import Path

# Other tools' names for Keras' four standard metrics, in order of preference: the first one
# present in a log is renamed to the Keras name, and the others of the same list are dropped.
ALIASES = {
    "loss": ("loss", "train_loss_epoch", "train_loss", "training_loss_epoch", "training_loss",
             "loss_epoch", "train/loss", "train_epoch_loss"),
    "val_loss": ("val_loss", "val_loss_epoch", "valid_loss", "validation_loss", "val/loss",
                 "valid/loss", "validation/loss", "eval_loss", "val_epoch_loss"),
    "accuracy": ("accuracy", "acc", "train_acc_epoch", "train_acc", "train_accuracy_epoch",
                 "train_accuracy", "training_accuracy", "train/acc", "train/accuracy"),
    "val_accuracy": ("val_accuracy", "val_acc", "val_acc_epoch", "val_accuracy_epoch", "valid_acc",
                     "valid_accuracy", "validation_accuracy", "validation_acc", "val/acc",
                     "val/accuracy"),
}
DROPPED_COLUMNS = ("epoch", "step", "")  # bookkeeping columns, never metrics
STEP_SUFFIX = "_step"  # Lightning's per-step columns (train_loss_step): not per-epoch numbers
MISSING_CELLS = ("", "NA", "None", "null")  # empty cells (CSVLogger writes "NA" for a missing key)
EVENT_FILE_PATTERN = "events.out.tfevents.*"  # TensorBoard event files
KERAS_EPOCH_TAG_PREFIX = "epoch_"  # Keras' TensorBoard callback names per-epoch scalars epoch_<metric>
VALIDATION_FOLDERS = ("validation", "val", "valid", "eval")  # Keras writes validation/ beside train/


def _number(cell, where):
    """Return a cell as a float, None when it is empty, or raise naming where it is."""
    if cell is None:
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    text = str(cell).strip()
    if text in MISSING_CELLS:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None


def _per_epoch(values):
    """Reduce one column's values within an epoch: their mean (NaN or infinity if one is)."""
    if not values:
        return None
    return next((value for value in values if not math.isfinite(value)), sum(values) / len(values))


def _rename(columns):
    """Return {column: Keras name} for the understood aliases, and the aliases to drop."""
    renamed, dropped = {}, set()
    for name, aliases in ALIASES.items():
        present = [alias for alias in aliases if alias in columns]
        if present:
            renamed[present[0]] = name
            dropped.update(present[1:])
    return renamed, dropped


def _from_rows(rows, columns, source):
    """Turn rows (dicts of cells, in file order) into {metric: per-epoch list}, or raise."""
    columns = [str(column) for column in columns]
    if "epoch" in columns:
        keys = [_number(row.get("epoch"), f"{source}, row {index + 1}, column 'epoch'")
                for index, row in enumerate(rows)]
        numbered = [(index, key) for index, key in enumerate(keys) if key is not None]
        for (_, before), (index, key) in zip(numbered, numbered[1:]):
            if key < before:
                raise ValueError(f"{source}: the epoch goes back from {before:g} to {key:g} at row "
                                 f"{index + 1}: the file holds several runs (e.g. a CSVLogger "
                                 f"with append=True); keep one run per file")
    else:
        keys = list(range(len(rows)))
    epochs = list(dict.fromkeys(key for key in keys if key is not None))
    renamed, aliases = _rename(columns)
    metrics = {}
    for column in columns:
        if column in DROPPED_COLUMNS or column.endswith(STEP_SUFFIX) or column in aliases:
            continue
        name = renamed.get(column, column)
        cells = {epoch: [] for epoch in epochs}
        try:
            for index, (key, row) in enumerate(zip(keys, rows)):
                value = _number(row.get(column), f"{source}, row {index + 1}, column {column!r}")
                if key is not None and value is not None:
                    cells[key].append(value)
        except ValueError as error:
            if name in ALIASES:  # a loss or accuracy that is not a number: say so
                raise ValueError(f"{error}; columns found: {', '.join(columns)}") from None
            continue  # another column of text (a name, a date): not a metric
        metrics[name] = [_per_epoch(cells[epoch]) for epoch in epochs]
    losses = [name for name in ("loss", "val_loss") if name in metrics]
    if not losses:
        raise ValueError(
            f"{source}: no training or validation loss column; columns found: "
            f"{', '.join(columns) or 'none'} (understood: "
            f"{', '.join(ALIASES['loss'] + ALIASES['val_loss'])})")
    kept = [index for index in range(len(epochs))
            if all(metrics[name][index] is not None for name in losses)]
    if not kept:
        raise ValueError(f"{source}: no epoch has a value for {' and '.join(losses)}; columns "
                         f"found: {', '.join(columns)}")
    return {name: [values[index] for index in kept] for name, values in metrics.items()
            if all(values[index] is not None for index in kept)}


def read_dataframe(frame, source="DataFrame"):
    """Return {metric: per-epoch list} from a pandas DataFrame of per-epoch (or Lightning) rows."""
    if not (hasattr(frame, "columns") and hasattr(frame, "to_dict")):
        raise ValueError(f"{source} must be a pandas DataFrame, got {type(frame).__name__}")
    rows = frame.to_dict(orient="records")
    epochs = [row.get("epoch") for row in rows]
    if "epoch" in frame.columns and len(set(epochs)) < len(epochs):
        # Several rows per epoch (Lightning): pandas reads empty cells as NaN; they are missing.
        rows = [{key: None if isinstance(value, float) and math.isnan(value) else value
                 for key, value in row.items()} for row in rows]
    return _from_rows(rows, list(frame.columns), source)


def _read_csv(path):
    text = path.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = next((d for d in (",", ";", "\t") if d in header), ",")
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    rows = list(reader)
    if not reader.fieldnames:
        raise ValueError(f"{path}: empty file, no header row with column names")
    return _from_rows(rows, reader.fieldnames, path)


def is_saved_run(path):
    """Return True if ``path`` is a JSON file in this project's saved-run format (a 'metrics' dict)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("metrics"), dict)


def _read_json(path):
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("history"), dict):
        data = data["history"]  # {"history": {...}, "params": ...}, as some scripts save it
    if isinstance(data, dict) and all(isinstance(values, list) for values in data.values()):
        lengths = {len(values) for values in data.values()}
        if len(lengths) > 1:
            raise ValueError(f"{path}: the lists have different lengths: "
                             + ", ".join(f"{key} {len(values)}" for key, values in data.items()))
        count = lengths.pop() if lengths else 0
        rows = [{key: values[index] for key, values in data.items()} for index in range(count)]
        return _from_rows(rows, list(data), path)
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        columns = list(dict.fromkeys(key for row in data for key in row))
        return _from_rows(data, columns, path)
    raise ValueError(f"{path}: expected a dict of per-epoch lists or a list of per-epoch dicts, "
                     f"got {type(data).__name__}")


def _event_scalars(folder):
    """Return {tag: [(step, value)]} of the scalar summaries in one folder of event files."""
    try:
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.util import tensor_util
    except ImportError:
        raise ValueError(f"{folder}: reading a TensorBoard log needs the tensorboard package "
                         f"(pip install tensorboard)") from None
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars = {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
               for tag in tags.get("scalars", [])}
    for tag in tags.get("tensors", []):  # tf.summary (TF 2) writes scalars as 0-d tensors
        values = [(event.step, tensor_util.make_ndarray(event.tensor_proto))
                  for event in accumulator.Tensors(tag)]
        if values and all(value.size == 1 and value.dtype.kind in "fiu" for _, value in values):
            scalars[tag] = [(step, float(value.reshape(-1)[0])) for step, value in values]
    return scalars


def _rows_from_scalars(scalars, prefix=""):
    """Turn {tag: [(step, value)]} into per-step rows; Keras' epoch_<metric> tags become <metric>."""
    keras_tags = {tag: tag[len(KERAS_EPOCH_TAG_PREFIX):] for tag in scalars
                  if tag.startswith(KERAS_EPOCH_TAG_PREFIX)}
    if keras_tags:  # Keras: the step is the epoch; batch- and evaluation-level tags are dropped
        return [{"epoch": step, prefix + name: value}
                for tag, name in keras_tags.items() for step, value in scalars[tag]]
    epoch_of_step = {step: value for step, value in scalars.get("epoch", [])}
    rows = []
    for tag, events in scalars.items():
        if tag == "epoch":
            continue
        for step, value in events:
            epoch = epoch_of_step.get(step, step if not epoch_of_step else None)
            rows.append({"epoch": epoch, prefix + tag: value})
    return rows


def _read_tensorboard(path):
    folders = [path] if any(path.glob(EVENT_FILE_PATTERN)) else []
    folders += sorted(folder for folder in path.iterdir()
                      if folder.is_dir() and any(folder.glob(EVENT_FILE_PATTERN)))
    if not folders:
        raise ValueError(f"{path} is a folder without TensorBoard event files "
                         f"({EVENT_FILE_PATTERN}) or a saved run (history.json)")
    rows = []
    for folder in folders:
        prefix = "val_" if folder != path and folder.name.lower() in VALIDATION_FOLDERS else ""
        rows += _rows_from_scalars(_event_scalars(folder), prefix)
    rows = [row for row in rows if row["epoch"] is not None]
    rows.sort(key=lambda row: row["epoch"])
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return _from_rows(rows, columns, f"{path} (TensorBoard tags: "
                      f"{', '.join(column for column in columns if column != 'epoch') or 'none'})")


def read_log(path):
    """Return {metric: per-epoch list} from a training log file or TensorBoard folder (see module doc)."""
    path = Path(path)
    if path.is_dir():
        return _read_tensorboard(path)
    if not path.is_file():
        raise FileNotFoundError(f"no training log at {path}")
    if path.suffix.lower() == ".json":
        return _read_json(path)
    try:
        return _read_csv(path)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text file (expected a CSV or JSON training log, or a "
                         f"TensorBoard folder)") from None
