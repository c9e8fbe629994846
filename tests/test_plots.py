import math

import numpy as np
import pytest

from helpers.plots import compare_runs, plot_examples, plot_history

HISTORY = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.7, 0.65, 0.8],
           "accuracy": [0.6, 0.75, 0.8, 0.85], "val_accuracy": [0.55, 0.7, 0.72, 0.7]}


def test_plot_history_draws_both_panels_from_epoch_one():
    figure, axes = plot_history(HISTORY, title="Test")
    assert len(axes) == 2
    loss_axis, accuracy_axis = axes
    lines = {line.get_label(): line for line in loss_axis.get_lines()}
    assert list(lines["Training loss"].get_xdata()) == [1, 2, 3, 4]
    assert list(lines["Validation loss"].get_ydata()) == HISTORY["val_loss"]
    assert "Best validation loss (epoch 3)" in lines
    assert loss_axis.get_xlabel() == "Epochs" and loss_axis.get_ylabel() == "Loss"
    assert "Test" in loss_axis.get_title()
    assert accuracy_axis.get_ylabel() == "Accuracy"


def test_plot_history_without_accuracy_or_validation():
    figure, axes = plot_history({"loss": [1.0, math.nan, 0.5]})
    assert len(axes) == 1
    assert [line.get_label() for line in axes[0].get_lines()] == ["Training loss"]


def test_plot_history_refuses_a_history_without_loss():
    with pytest.raises(ValueError, match="no 'loss'"):
        plot_history({"accuracy": [0.5]})


def test_compare_runs_one_colour_per_run_solid_and_dashed():
    other = {"loss": [0.9, 0.5], "val_loss": [0.95, 0.6]}
    figure, axis = compare_runs({"baseline": HISTORY, "other": other})
    lines = {line.get_label(): line for line in axis.get_lines()}
    assert set(lines) == {"baseline: training", "baseline: validation",
                          "other: training", "other: validation"}
    assert lines["baseline: training"].get_color() == lines["baseline: validation"].get_color()
    assert lines["baseline: training"].get_color() != lines["other: training"].get_color()
    assert lines["other: training"].get_linestyle() == "-"
    assert lines["other: validation"].get_linestyle() == "--"


def test_compare_runs_refuses_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_runs([HISTORY])
    with pytest.raises(ValueError, match="run 'x' has no 'accuracy'"):
        compare_runs({"x": {"loss": [1.0]}}, metric="accuracy")


def test_plot_examples_titles_images_with_class_names():
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    figure, axes = plot_examples(images, np.array([0, 9, 1, 2, 3]), count=3)
    assert [axis.get_title() for axis in axes] == ["T-shirt/top", "Ankle boot", "Trouser"]
    with pytest.raises(ValueError, match="count"):
        plot_examples(images, np.zeros(5, dtype=int), count=6)


def test_plot_history_marks_the_diagnosis():
    from helpers.diagnose import diagnose

    overfit = {"loss": [1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1],
               "val_loss": [1.0, 0.8, 0.7, 0.75, 0.85, 0.95, 1.05]}
    figure, axes = plot_history(overfit, diagnosis=diagnose(overfit))
    labels = [artist.get_label() for artist in axes[0].get_children()]
    assert "Overfitting from epoch 3" in labels
    assert axes[0].get_title().endswith("[overfitting]")
    spiky = {"loss": [1.0, 0.8, 0.7, 0.6, 0.5], "val_loss": [1.0, 0.8, 1.5, 0.6, 0.55]}
    figure, axes = plot_history(spiky, diagnosis=diagnose(spiky))
    spikes = next(line for line in axes[0].get_lines() if line.get_label() == "Spikes")
    assert list(spikes.get_xdata()) == [3] and list(spikes.get_ydata()) == [1.5]


def test_plot_history_views_shift_log_smoothing_and_early_stopping():
    figure, axes = plot_history(HISTORY, shift_training=True, log_scale=True,
                                early_stopping_patience=1)
    lines = {line.get_label(): line for line in axes[0].get_lines()}
    assert list(lines["Training loss (plotted at epoch - 0.5)"].get_xdata()) == [0.5, 1.5, 2.5, 3.5]
    assert axes[0].get_yscale() == "log"
    assert "Early stopping, patience 1 (epoch 4)" in lines
    from helpers.alt_text import describe_figure

    assert "The training loss is drawn half an epoch earlier (at epoch - 0.5)." in describe_figure(figure)
    figure, axes = plot_history(HISTORY, smoothing=0.5)
    assert "half an epoch earlier" not in describe_figure(figure)
    labels = [line.get_label() for line in axes[0].get_lines()]
    assert "Training loss, smoothed" in labels and "Validation loss, smoothed" in labels


def test_plot_batch_losses_needs_recorded_batches():
    from helpers.history import History
    from helpers.plots import plot_batch_losses

    history = History(metrics={"loss": [1.0, 0.5]}, batch_loss=[1.2, 0.8, 0.6, 0.4],
                      batches_per_epoch=2)
    figure, axis = plot_batch_losses(history)
    lines = {line.get_label(): line for line in axis.get_lines()}
    assert list(lines["Loss of each batch"].get_xdata()) == [0.5, 1.0, 1.5, 2.0]
    assert list(lines["Reported epoch loss (at epoch - 0.5)"].get_xdata()) == [0.5, 1.5]
    with pytest.raises(ValueError, match="record_batches=True"):
        plot_batch_losses({"loss": [1.0]})


def test_plot_gallery_titles_each_panel_with_its_diagnosis():
    from helpers.plots import plot_gallery

    overfit = {"loss": [1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1],
               "val_loss": [1.0, 0.8, 0.7, 0.75, 0.85, 0.95, 1.05]}
    healthy = {"loss": [1.0, 0.7, 0.5, 0.45, 0.43, 0.42, 0.42],
               "val_loss": [1.0, 0.72, 0.55, 0.5, 0.48, 0.47, 0.47]}
    figure, axes, diagnoses = plot_gallery({"a": overfit, "b": healthy, "c": overfit}, columns=2)
    assert [axis.get_title() for axis in axes] == ["a [overfitting]", "b [healthy]",
                                                   "c [overfitting]"]
    assert diagnoses["b"].pattern == "healthy"
    assert len(figure.axes) == 4 and not figure.axes[3].get_visible()
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_gallery({})


def test_learning_rate_finder_plot_uses_a_log_axis_and_marks_the_suggestion():
    from helpers.plots import plot_learning_rate_finder

    rates = list(np.geomspace(1e-6, 1.0, 50))
    losses = [2.3 - 1.5 * math.exp(-((math.log10(r) + 2) ** 2)) for r in rates]
    result = {"learning_rates": rates, "losses": losses, "smoothed_losses": losses,
              "suggested_learning_rate": 1e-3, "lowest_loss_learning_rate": 1e-2}
    figure, axis = plot_learning_rate_finder(result)
    assert axis.get_xscale() == "log"
    assert any("Suggested: 1.0e-03" in text.get_text() for text in axis.get_legend().get_texts())
    with pytest.raises(ValueError, match="result must be the dict find_learning_rate"):
        plot_learning_rate_finder({"losses": losses})


def test_plot_summary_draws_one_bar_per_run_and_highlights_the_reference():
    from helpers.plots import plot_summary

    runs = {"baseline": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]},
            "worse": {"loss": [1.0, 0.9], "val_loss": [1.2, 0.95]},
            "diverged": {"loss": [1.0, math.nan], "val_loss": [1.3, math.nan]}}
    figure, (bars, curves) = plot_summary(runs)
    widths = [patch.get_width() for patch in bars.patches]
    assert widths == pytest.approx([1.3, 0.95, 0.6])  # first run on top, so last bar
    assert [label.get_text() for label in bars.get_yticklabels()] == ["diverged", "worse", "baseline"]
    assert len(curves.get_lines()) == 3 and curves.get_lines()[0].get_linewidth() == 2.5
    with pytest.raises(ValueError, match="reference must be one of"):
        plot_summary(runs, reference="nope")
    with pytest.raises(ValueError, match="run 'x' has no 'val_loss'"):
        plot_summary({"x": {"loss": [1.0]}})


def test_plots_draw_into_a_given_axis_without_pyplot():
    from matplotlib.figure import Figure

    from helpers.plots import plot_batch_losses, to_png

    figure = Figure()
    left, right = figure.subplots(1, 2)
    drawn_figure, axis = compare_runs({"a": HISTORY}, ax=left)
    assert drawn_figure is figure and axis is left and len(left.get_lines()) == 2
    _, axes = plot_history(HISTORY, ax=right)
    assert axes == [right] and len(figure.axes) == 2  # the loss panel alone, no accuracy panel
    recorded = {"loss": [1.0, 0.8], "metrics": None}
    del recorded["metrics"]
    with pytest.raises(ValueError, match="record_batches=True"):
        plot_batch_losses(recorded, ax=left)
    assert to_png(figure).startswith(b"\x89PNG")


def test_plot_history_can_add_the_clean_training_loss():
    history = {**HISTORY, "clean_loss": [0.9, 0.5, 0.35, 0.25]}
    _, axes = plot_history(history, clean_loss=True)
    labels = [line.get_label() for line in axes[0].get_lines()]
    assert "Training loss, measured clean (epoch end, no dropout)" in labels
    _, axes = plot_history(history)
    assert not any("clean" in line.get_label() for line in axes[0].get_lines())
    with pytest.raises(ValueError, match="CleanTrainingLoss"):
        plot_history(HISTORY, clean_loss=True)


def test_compare_per_step_puts_each_epoch_at_the_steps_taken_so_far():
    from helpers.history import History
    from helpers.plots import compare_per_step
    small = History(metrics={"val_loss": [1.0, 0.8]},
                    info={"training_samples": 100, "batch_size": 8})  # 13 steps per epoch
    large = History(metrics={"val_loss": [1.2, 1.1]},
                    info={"training_samples": 100, "batch_size": 64})  # 2 steps per epoch
    figure, axis = compare_per_step({"batch 8": small, "batch 64": large})
    first, second = axis.get_lines()
    assert list(first.get_xdata()) == [13, 26] and list(second.get_xdata()) == [2, 4]
    assert axis.get_xscale() == "log" and "13 steps per epoch" in first.get_label()
    with pytest.raises(ValueError, match="training_samples"):
        compare_per_step({"no info": History(metrics={"val_loss": [1.0]})})
    with pytest.raises(ValueError, match="no 'loss'"):
        compare_per_step({"batch 8": small}, key="loss")
