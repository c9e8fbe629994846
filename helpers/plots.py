"""Loss and accuracy curves: one run with ``plot_history``, several with ``compare_runs``.

Introduced in ``02_train_the_cnn.ipynb``. Public functions take anything ``as_history`` accepts
(converted once, on the way in), number epochs from 1 as people count them, draw into ``ax=``
(or ``figure=``) when given, and return the figure and axes for further drawing. ``to_png``
renders a figure for the live plot and the training lab. Every figure drawn here carries alt text
(``helpers.alt_text``): in a notebook, importing this module turns it on for every figure shown.
"""

import io
import math

import matplotlib.pyplot as plt

from helpers import checks
from helpers.alt_text import describe_history, set_description
from helpers.data import CLASS_NAMES
from helpers.diagnose import diagnose
from helpers.history import as_history, lowest_epoch, smooth, stopping_epoch
from helpers.summary import seed_band

TRAIN_STYLE = dict(linestyle="-", marker="o", markersize=3)
VALIDATION_STYLE = dict(linestyle="--", marker="s", markersize=3)
CLEAN_STYLE = dict(linestyle=":", marker="o", markersize=3)
PNG_DPI = 80  # live plots and the lab: small enough to redraw every epoch


def to_png(figure, dpi=PNG_DPI):
    """Return ``figure`` rendered as PNG bytes (for an image widget or a display update)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _new_axis(ax, size):
    """Return (figure, axis): ``ax`` and its figure when given, else a new pyplot figure."""
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(figsize=size)


def _panels(history):
    """Return the (metric, label) pairs to draw: loss always, accuracy when recorded."""
    panels = [("loss", "Loss")]
    if "accuracy" in history or "val_accuracy" in history:
        panels.append(("accuracy", "Accuracy"))
    return panels


def _label_epoch_axis(axis, ylabel):
    """Label an axis whose x is whole epochs: 'Epochs', integer ticks, a light grid."""
    axis.set_xlabel("Epochs")
    axis.set_ylabel(ylabel)
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.grid(alpha=0.3)


def _require_loss(history, name="history"):
    if "loss" not in history and "val_loss" not in history:
        raise ValueError(f"{name} has no 'loss' or 'val_loss' to plot; it has {history.keys()}")
    if history.epochs == 0:
        raise ValueError(f"{name} has no epochs to plot")


def plot_history(history, title="Training vs Validation", mark_best=True, diagnosis=None,
                 figure=None, ax=None, shift_training=False, log_scale=False, smoothing=0.0,
                 early_stopping_patience=None, clean_loss=False):
    """Draw training and validation loss (and accuracy, if present) side by side; return (fig, axes).

    Options (``03_reading_loss_curves`` shows each): ``diagnosis=diagnose(history)`` marks what
    decided it (overfitting start, spikes, divergence) and names the pattern in the title;
    ``shift_training`` draws the training curve half an epoch earlier, where its average belongs;
    ``log_scale`` uses a logarithmic loss axis; ``smoothing`` (0 to below 1) draws a moving
    average over the raw curve; ``early_stopping_patience`` marks where EarlyStopping would stop;
    ``clean_loss`` adds the training loss measured like validation (``CleanTrainingLoss``).
    ``ax`` draws the loss panel alone into that axis; ``figure`` redraws into a figure.
    """
    history = as_history(history)
    _require_loss(history)
    if clean_loss and "clean_loss" not in history:
        raise ValueError("clean_loss=True needs 'clean_loss' in the history: train with "
                         "callbacks=[CleanTrainingLoss(images, labels)]")
    panels = _panels(history) if ax is None else [("loss", "Loss")]
    if ax is not None:
        figure, axes = ax.figure, [ax]
    else:
        if figure is None:
            figure = plt.figure(figsize=(5.5 * len(panels), 4))
        else:
            figure.clear()
        axes = list(figure.subplots(1, len(panels), squeeze=False)[0])
    epochs = history.epoch_numbers
    training_epochs = [epoch - 0.5 for epoch in epochs] if shift_training else epochs
    best = None
    if mark_best and "val_loss" in history and any(map(math.isfinite, history["val_loss"])):
        best = lowest_epoch(history["val_loss"])
    stop = None
    if early_stopping_patience is not None and "val_loss" in history:
        stop = stopping_epoch(history["val_loss"], early_stopping_patience)
    for axis, (metric, label) in zip(axes, panels):
        curves = [(metric, training_epochs, "Training", TRAIN_STYLE, ""),
                  (f"clean_{metric}", epochs, "Training", CLEAN_STYLE,
                   ", measured clean (epoch end, no dropout)"),
                  (f"val_{metric}", epochs, "Validation", VALIDATION_STYLE, "")]
        for key, x, name, style, note in curves:
            if key not in history or (key.startswith("clean_") and not clean_loss):
                continue
            suffix = note or (" (plotted at epoch - 0.5)"
                              if name == "Training" and shift_training else "")
            if smoothing:
                raw = axis.plot(x, history[key], alpha=0.3, **style)[0]
                axis.plot(x, smooth(history[key], smoothing), color=raw.get_color(),
                          linestyle=style["linestyle"], label=f"{name} {label.lower()}, smoothed")
            else:
                axis.plot(x, history[key], label=f"{name} {label.lower()}{suffix}", **style)
        if best is not None:
            axis.axvline(best, color="grey", linestyle=":", linewidth=1,
                         label=f"Best validation loss (epoch {best})")
        if stop is not None:
            axis.axvline(stop, color="purple", linestyle="-.", linewidth=1,
                         label=f"Early stopping, patience {early_stopping_patience} "
                               f"(epoch {stop})")
        axis.set_title(f"{title}: {label}")
        _label_epoch_axis(axis, label)
        axis.legend(fontsize="small")
    if log_scale:
        axes[0].set_yscale("log")
        axes[0].set_ylabel("Loss (log scale)")
    if best is not None:
        axes[0].plot([best], [history["val_loss"][best - 1]], marker="*", markersize=14,
                     color="gold", markeredgecolor="black", zorder=5)
    if diagnosis is not None:
        _mark_diagnosis(axes[0], history, diagnosis)
    shifted = " The training loss is drawn half an epoch earlier (at epoch - 0.5)." if shift_training else ""
    set_description(axes[0], describe_history(history) + shifted)
    figure.tight_layout()
    return figure, axes


def plot_batch_losses(history, smoothing=0.9, title="Per-batch vs per-epoch training loss",
                      ax=None):
    """Draw the loss of every training batch against fractional epochs, with the epoch averages."""
    history = as_history(history)
    if not history.batch_loss or not history.batches_per_epoch:
        raise ValueError("history has no per-batch losses: train with record_batches=True")
    figure, axis = _new_axis(ax, (9, 4))
    steps = [(index + 1) / history.batches_per_epoch for index in range(len(history.batch_loss))]
    axis.plot(steps, history.batch_loss, color="tab:blue", alpha=0.3, linewidth=0.8,
              label="Loss of each batch")
    axis.plot(steps, smooth(history.batch_loss, smoothing), color="tab:blue",
              label=f"Batch losses, smoothed ({smoothing})")
    if "loss" in history:
        axis.plot([epoch - 0.5 for epoch in history.epoch_numbers], history["loss"], "o",
                  color="black", label="Reported epoch loss (at epoch - 0.5)")
    axis.set_title(title)
    _label_epoch_axis(axis, "Loss")
    axis.legend(fontsize="small")
    figure.tight_layout()
    return figure, axis


def mark_diagnosis(axis, history, diagnosis):
    """Draw a Diagnosis' markers on a loss axis and put its pattern in the title."""
    _mark_diagnosis(axis, as_history(history), diagnosis)


def _mark_diagnosis(axis, history, diagnosis):
    markers = diagnosis.markers
    if "overfitting_start" in markers:
        axis.axvspan(markers["overfitting_start"], history.epochs, color="red", alpha=0.08,
                     label=f"Overfitting from epoch {markers['overfitting_start']}")
    for key, metric, label in (("spikes", "val_loss", "Spikes"),
                               ("training_spikes", "loss", "Training spikes")):
        if markers.get(key) and metric in history:
            epochs = markers[key]
            axis.plot(epochs, [history[metric][epoch - 1] for epoch in epochs], linestyle="none",
                      marker="x", markersize=10, color="red", label=label)
    if "diverged_at" in markers:
        axis.axvline(markers["diverged_at"], color="red", linewidth=2,
                     label=f"Diverged at epoch {markers['diverged_at']}")
    axis.set_title(f"{axis.get_title()} [{diagnosis.pattern}]")
    axis.legend()


def compare_runs(runs, metric="loss", title=None, ax=None):
    """Overlay several runs ({name: history}): one colour per run, training solid, validation dashed.

    A run with no epochs yet is skipped (the training lab draws a run that has just started).
    """
    checks.non_empty_dict(runs, "runs", "{name: history}")
    histories = {name: as_history(history) for name, history in runs.items()}
    for name, history in histories.items():
        if history.epochs and metric not in history and f"val_{metric}" not in history:
            raise ValueError(f"run {name!r} has no {metric!r} or 'val_{metric}' to plot")
    figure, axis = _new_axis(ax, (8, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (name, history) in enumerate(histories.items()):
        colour = colours[index % len(colours)]
        if metric in history:
            axis.plot(history.epoch_numbers, history[metric], color=colour,
                      label=f"{name}: training", **TRAIN_STYLE)
        if f"val_{metric}" in history:
            axis.plot(history.epoch_numbers, history[f"val_{metric}"], color=colour,
                      label=f"{name}: validation", **VALIDATION_STYLE)
    described = [describe_history(history, name) for name, history in histories.items()
                 if history.epochs and metric == "loss"]
    if described:
        set_description(axis, " ".join(described))
    label = metric.replace("_", " ").capitalize()
    axis.set_title(title or f"Training (solid) vs validation (dashed) {metric.replace('_', ' ')}")
    _label_epoch_axis(axis, label)
    if len(histories) > 3:  # many runs: the legend goes beside the plot, not over the curves
        if ax is None:
            figure.set_size_inches(11, 4.5)
        axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axis.legend(fontsize="small")
    figure.tight_layout()
    return figure, axis


def plot_examples(images, labels, count=10, class_names=CLASS_NAMES):
    """Show the first ``count`` images with their class names in one row; return (fig, axes)."""
    checks.same_length(images, labels)
    checks.integer(count, "count", 1, len(images))
    figure, axes = plt.subplots(1, count, figsize=(1.3 * count, 1.8))
    axes = list(axes) if count > 1 else [axes]
    for axis, image, label in zip(axes, images[:count], labels[:count]):
        axis.imshow(image.squeeze(), cmap="gray_r")
        axis.set_title(class_names[int(label)], fontsize=8)
        axis.axis("off")
    figure.tight_layout()
    return figure, axes


def plot_gallery(runs, columns=3):
    """Draw each run's loss curves in its own panel, titled with what ``diagnose()`` says.

    ``runs`` is ``{name: history}``; returns ``(figure, axes, diagnoses)`` where ``diagnoses``
    maps each name to its Diagnosis.
    """
    checks.non_empty_dict(runs, "runs", "{name: history}")
    checks.positive_integer(columns, "columns")
    histories = {name: as_history(history) for name, history in runs.items()}
    diagnoses = {name: diagnose(history) for name, history in histories.items()}
    rows = math.ceil(len(histories) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows),
                                squeeze=False)
    axes = list(axes.flat)
    for axis, (name, history) in zip(axes, histories.items()):
        verdict = diagnoses[name]
        axis.plot(history.epoch_numbers, history["loss"], label="training", **TRAIN_STYLE)
        axis.plot(history.epoch_numbers, history["val_loss"], label="validation",
                  **VALIDATION_STYLE)
        axis.set_title(name)
        _mark_diagnosis(axis, history, verdict)
        set_description(axis, describe_history(history))
        finite = [v for v in history["loss"] + history["val_loss"] if math.isfinite(v)]
        if finite and max(finite) > 20 * min(finite):
            axis.set_yscale("log")
        _label_epoch_axis(axis, "Loss")
        axis.legend(fontsize="x-small")
    for axis in axes[len(histories):]:
        axis.set_visible(False)
    figure.tight_layout()
    return figure, axes[:len(histories)], diagnoses


def plot_learning_rate_finder(result, title="Learning-rate range test", ax=None):
    """Draw loss against learning rate (log axis) from ``find_learning_rate``; mark the suggestion."""
    required = ("learning_rates", "losses", "smoothed_losses", "suggested_learning_rate")
    if not isinstance(result, dict) or any(key not in result for key in required):
        raise ValueError(f"result must be the dict find_learning_rate() returns, with {required}")
    rates = result["learning_rates"]
    finite = [value for value in result["smoothed_losses"] if math.isfinite(value)]
    if not finite:
        raise ValueError("result has no finite loss to plot")
    figure, axis = _new_axis(ax, (8, 4.5))
    axis.plot(rates, result["losses"], color="tab:blue", alpha=0.3, linewidth=0.8,
              label="Loss of each batch")
    axis.plot(rates, result["smoothed_losses"], color="tab:blue", label="Smoothed")
    suggested = result["suggested_learning_rate"]
    axis.axvline(suggested, color="tab:green", linestyle="--",
                 label=f"Suggested: {suggested:.1e}")
    if "lowest_loss_learning_rate" in result:
        axis.axvline(result["lowest_loss_learning_rate"], color="tab:red", linestyle=":",
                     label=f"Lowest loss: {result['lowest_loss_learning_rate']:.1e}")
    axis.set_xscale("log")
    axis.set_ylim(min(finite) * 0.9, min(max(finite), 4 * min(finite)) * 1.1)
    axis.set_xlabel("Learning rate (log scale)")
    axis.set_ylabel("Training loss")
    axis.set_title(title)
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize="small")
    figure.tight_layout()
    return figure, axis


def plot_summary(runs, reference=None, title="Best validation loss per run"):
    """Bar chart of each run's best validation loss beside all validation curves; return (fig, axes).

    ``runs`` is {name: history}; ``reference`` names the run drawn thick and marked on the bars
    (default: the first).
    """
    checks.non_empty_dict(runs, "runs", "{name: history}")
    histories = {name: as_history(history) for name, history in runs.items()}
    for name, history in histories.items():
        if "val_loss" not in history:
            raise ValueError(f"run {name!r} has no 'val_loss' to summarize")
    reference = next(iter(histories)) if reference is None else reference
    if reference not in histories:
        raise ValueError(f"reference must be one of the runs' names, got {reference!r}")
    best = {name: min((value for value in history["val_loss"] if math.isfinite(value)),
                      default=math.nan) for name, history in histories.items()}
    figure, (bars, curves) = plt.subplots(1, 2, figsize=(13, 0.35 * len(histories) + 2.5))
    names = list(histories)[::-1]  # first run on top
    colours = ["tab:orange" if name == reference else "tab:blue" for name in names]
    bars.barh(names, [best[name] for name in names], color=colours)
    bars.axvline(best[reference], color="tab:orange", linestyle="--", linewidth=1)
    for index, name in enumerate(names):
        bars.text(best[name], index, f" {best[name]:.3f}", va="center", fontsize="small")
    bars.set_xlabel("Best validation loss (lower is better)")
    bars.set_title(title)
    bars.grid(alpha=0.3, axis="x")
    for name, history in histories.items():
        highlight = name == reference
        curves.plot(history.epoch_numbers, history["val_loss"], color="tab:orange" if highlight
                    else None, linewidth=2.5 if highlight else 1, alpha=1 if highlight else 0.7,
                    label=name)
    finite = [value for value in best.values() if math.isfinite(value)]
    if finite:
        curves.set_ylim(min(finite) * 0.9, max(2 * best[reference], min(finite) * 2))
    curves.set_title("Validation loss per epoch")
    _label_epoch_axis(curves, "Validation loss")
    curves.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure, (bars, curves)


def plot_band(runs, key="val_loss", label=None, ax=None, color=None):
    """Draw several seeds of one setting as a band (min to max) around their mean; return (fig, axis).

    ``runs`` is ``{seed: history}`` (``recipes.run_seeds`` returns one).
    """
    band = seed_band(runs, key)
    figure, axis = _new_axis(ax, (8, 4.5))
    name = label or key.replace("_", " ")
    line = axis.plot(band["epochs"], band["mean"], color=color,
                     label=f"{name}: mean of {len(runs)} seeds")[0]
    axis.fill_between(band["epochs"], band["min"], band["max"], color=line.get_color(), alpha=0.2,
                      label=f"{name}: range over seeds")
    _label_epoch_axis(axis, key.replace("_", " ").capitalize())
    axis.legend(fontsize="small")
    return figure, axis


def steps_per_epoch(history):
    """Return how many steps (batches) one epoch of ``history`` took, from its recorded info."""
    info = as_history(history).info
    samples, batch_size = info.get("training_samples"), info.get("batch_size")
    if not samples or not batch_size:
        raise ValueError("history.info must hold 'training_samples' and 'batch_size' (train() "
                         f"records both), got {sorted(info)}")
    return math.ceil(samples / batch_size)


def compare_per_step(runs, key="val_loss", title=None, ax=None):
    """Overlay ``key`` of several runs ({name: history}) against the steps taken, not the epochs:
    for runs whose epochs hold different numbers of steps (batch sizes, data sizes)."""
    checks.non_empty_dict(runs, "runs", "{name: history}")
    histories = {name: as_history(history) for name, history in runs.items()}
    figure, axis = _new_axis(ax, (8, 4.5))
    for name, history in histories.items():
        if key not in history:
            raise ValueError(f"run {name!r} has no {key!r} to plot")
        per_epoch = steps_per_epoch(history)
        axis.plot([epoch * per_epoch for epoch in history.epoch_numbers], history[key],
                  marker=".", label=f"{name} ({per_epoch} steps per epoch)")
    if key in ("loss", "val_loss"):
        set_description(axis, " ".join(describe_history(history, name)
                                       for name, history in histories.items()))
    axis.set_xscale("log")
    axis.set_xlabel("Steps (batches) taken, log scale")
    name = {"loss": "Training loss", "val_loss": "Validation loss"}.get(
        key, key.replace("_", " ").capitalize())
    axis.set_ylabel(name)
    axis.set_title(title or f"{name} per step")
    axis.legend(fontsize="small")
    figure.tight_layout()
    return figure, axis
