"""Tables of runs: one run's key numbers, and one table for many runs with their diagnoses.

Introduced in ``04_overfitting.ipynb``; every notebook that compares runs prints its table with
``summary_table(runs)``.
"""

from helpers import checks
from helpers.diagnose import diagnose
from helpers.history import as_history, kept_epochs, lowest_epoch

SUMMARY_COLUMNS = ("best_val_loss", "best_epoch", "final_gap", "final_val_accuracy", "diagnosis")


def summarize(history):
    """Return one run's key numbers as a dict: best validation loss and epoch, final gap, accuracy, time."""
    history = as_history(history)
    for key in ("loss", "val_loss"):
        if key not in history:
            raise ValueError(f"history has no {key!r} to summarize; it has {history.keys()}")
    best = lowest_epoch(history["val_loss"], "history['val_loss']")
    return {
        "best_val_loss": history["val_loss"][best - 1],
        "best_epoch": best,
        "epochs": history.epochs,
        "final_gap": history["val_loss"][-1] - history["loss"][-1],
        "final_val_accuracy": history["val_accuracy"][-1] if "val_accuracy" in history else None,
        "seconds": sum(history.seconds_per_epoch) if history.seconds_per_epoch else None,
    }


def format_table(rows, columns=None):
    """Return ``rows`` (a dict {name: dict of numbers}) as an aligned plain-text table."""
    checks.non_empty_dict(rows, "rows", "{row name: {column: value}}")
    columns = columns or list(next(iter(rows.values())))

    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    table = [["run", *columns]] + [[name, *(cell(row.get(column)) for column in columns)]
                                   for name, row in rows.items()]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(text.ljust(width) if i == 0 else text.rjust(width)
                       for i, (text, width) in enumerate(zip(line, widths))) for line in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def summary_table(runs, columns=SUMMARY_COLUMNS):
    """Return a text table of ``runs`` ({name: history}): key numbers and ``diagnose``'s pattern,
    of the kept epochs of an early-stopped run (``kept_epochs``)."""
    checks.non_empty_dict(runs, "runs", "{name: history}")
    rows = {}
    for name, history in runs.items():
        history = kept_epochs(history)  # an early-stopped run is the model it keeps
        rows[name] = {**summarize(history), "diagnosis": diagnose(history).pattern}
    return format_table(rows, list(columns))


def seed_spread(runs, measure):
    """Return the range of ``measure(history)`` over runs of one setting (several seeds): the seed
    noise a difference in that number must beat. ``runs`` is ``{seed: history}``."""
    checks.non_empty_dict(runs, "runs", "{seed: history}")
    if not callable(measure):
        raise ValueError(f"measure must be a function of one history, got {measure!r}")
    values = [measure(as_history(history)) for history in runs.values()]
    return max(values) - min(values)


def jitter(values):
    """Return how much ``values`` jump from one to the next apart from their trend, over their mean.

    The trend (a straight or gently curving fall) cancels in the second differences
    ``v[i+1] - 2 v[i] + v[i-1]``; for independent noise of standard deviation s their standard
    deviation is s * sqrt(6), so this returns that estimate of s divided by the mean value.
    """
    values = [float(value) for value in values]
    if len(values) < 4:
        raise ValueError(f"values must hold at least 4 numbers, got {len(values)}")
    second = [after - 2 * middle + before
              for before, middle, after in zip(values, values[1:], values[2:])]
    mean_second = sum(second) / len(second)
    spread = (sum((value - mean_second) ** 2 for value in second) / len(second)) ** 0.5
    return spread / 6 ** 0.5 / (sum(values) / len(values))


def seed_band(runs, key="val_loss"):
    """Return the per-epoch mean, min and max of ``key`` over runs of one setting (several seeds).

    ``runs`` is ``{seed: history}`` (``run_seeds`` returns one); the result is plain data:
    ``{"epochs", "mean", "min", "max", "best_spread"}``, where ``best_spread`` is the range of
    the runs' lowest ``key``: the seed noise an ordering must beat.
    """
    checks.non_empty_dict(runs, "runs", "{seed: history}")
    series = [as_history(history)[key] for history in runs.values()]
    epochs = min(len(values) for values in series)
    columns = list(zip(*(values[:epochs] for values in series)))
    return {"epochs": list(range(1, epochs + 1)),
            "mean": [sum(column) / len(column) for column in columns],
            "min": [min(column) for column in columns],
            "max": [max(column) for column in columns],
            "best_spread": seed_spread(runs, lambda history: min(history[key]))}
