"""The training lab's picture: its runs overlaid on an axis that stays readable, and its runs table.

Introduced in ``11_training_lab.ipynb`` (through ``TrainingLab``). A run whose loss blows up
(the ``huge`` initializer reaches 1e11) would stretch a shared axis until every other run is a flat
line at 0, so ``draw_runs`` keeps the axis on the values that are not off the scale and says in
the legend which runs left it; ``runs_table`` lists every run, colour by colour, with its verdict.
"""

import html
import math

from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.plots import compare_runs

OFF_SCALE_LOSS = 10 * math.log(10)  # ten times the loss of a uniform guess over Fashion-MNIST's 10 classes
FIGURE_SIZE = (9, 3.8)
LEGEND_FONT_SIZE = 11
TITLE = "Loss: training (solid), validation (dashed)"


def readable_number(value, digits=3):
    """Format a loss for people: ``0.512``; ``6.63e+11`` when huge; ``NaN`` or ``inf``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"


def loss_values(history):
    """Every training and validation loss of ``history`` (NaN and inf included)."""
    return [value for key in ("loss", "val_loss") if key in history for value in history[key]]


def is_off_scale(history):
    """True when a loss of ``history`` is NaN, infinite or above ``OFF_SCALE_LOSS``."""
    return any(not math.isfinite(value) or value > OFF_SCALE_LOSS for value in loss_values(history))


def best_validation_loss(history):
    """The lowest finite validation loss of ``history``, or NaN when there is none."""
    finite = [value for value in history["val_loss"] if math.isfinite(value)] \
        if "val_loss" in history else []
    return min(finite, default=math.nan)


def keep_axis_on_scale(axis, histories):
    """Limit ``axis`` to the losses within the scale; a log axis when every loss is off it."""
    histories = list(histories)
    if not any(is_off_scale(history) for history in histories):
        return
    in_scale = [value for history in histories for value in loss_values(history)
                if math.isfinite(value) and value <= OFF_SCALE_LOSS]
    if in_scale:
        axis.set_ylim(0, 1.1 * max(in_scale))
    else:
        axis.set_yscale("log")


def draw_runs(runs, labels):
    """Draw ``runs`` ({name: History}) with legend ``labels`` ({name: short label}); return (figure, colours).

    Runs with no epoch yet are left out; ``colours`` maps each drawn run's name to its colour
    (like '#1f77b4', for the runs table).
    When a run is off the scale, the axis keeps to the losses that are not.
    """
    figure = Figure(figsize=FIGURE_SIZE)
    axis = figure.subplots()
    drawn = {name: history for name, history in runs.items() if history.epochs}
    colours = {}
    if drawn:
        compare_runs(drawn, title=TITLE, ax=axis)
        colours = {line.get_label().rsplit(": ", 1)[0]: to_hex(line.get_color())
                   for line in axis.get_lines()}
        keep_axis_on_scale(axis, drawn.values())
        handles = [Line2D([], [], color=colours[name], linewidth=2, label=labels[name])
                   for name in drawn]
        axis.legend(handles=handles, fontsize=LEGEND_FONT_SIZE, loc="upper left",
                    bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure, colours


def runs_table(rows):
    """Return an HTML table of runs; ``rows`` are dicts with name, colour, verdict, best, epochs, seconds."""
    header = ("<tr><th></th><th style='text-align:left'>run</th><th>verdict</th>"
              "<th>best validation loss</th><th>epochs</th><th>time</th></tr>")
    body = "".join(
        f"<tr class='lab-run'><td style='color:{row['colour']};font-size:1.3em'>&#9644;</td>"
        f"<td>{html.escape(row['name'])}</td><td>{html.escape(row['verdict'])}</td>"
        f"<td style='text-align:right'>{readable_number(row['best'])}</td>"
        f"<td style='text-align:right'>{html.escape(str(row['epochs']))}</td>"
        f"<td style='text-align:right'>{row['seconds']:.0f} s</td></tr>"
        for row in rows)
    style = "border-spacing:14px 2px;margin-left:-14px"
    return f"<table style='{style}'>{header}{body}</table>" if rows else ""
