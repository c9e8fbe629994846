"""Alt text: figures say in words what their curves do, and a kernel shows that text with them."""

import base64
import math

import matplotlib.pyplot as plt
import pytest

from helpers.alt_text import (
    describe_figure,
    describe_history,
    describe_values,
    enable_alt_text,
    set_description,
)
from helpers.plots import compare_runs, plot_gallery, plot_history

OVERFITTING = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.2], "val_loss": [1.1, 0.7, 0.65, 0.7, 0.8, 0.9]}


def test_describe_values_says_where_a_curve_starts_ends_and_turns():
    assert describe_values([1, 2, 3], [1.0, 0.5, 0.25]) == (
        "falls from 1 at epoch 1 to 0.25 at epoch 3")
    assert describe_values([1, 2, 3, 4], [1.1, 0.65, 0.8, 0.9]) == (
        "falls from 1.1 at epoch 1 to its lowest, 0.65 at epoch 2, then rises to 0.9 at epoch 4")
    assert describe_values([1, 2, 3], [0.5, 2.0, 0.6]).startswith("rises from 0.5")
    assert "to its highest, 2 at epoch 2, then falls" in describe_values([1, 2, 3], [0.5, 2.0, 0.6])
    assert describe_values([1, 2], [0.5, 0.501]).startswith("stays near 0.5")
    assert describe_values([1e-4, 1e-2], [2.3, 1.0], "Learning rate") == (
        "falls from 2.3 at learning rate 0.0001 to 1 at learning rate 0.01")


def test_describe_values_names_where_a_curve_breaks():
    assert describe_values([1, 2, 3], [1.0, 5.0, math.nan]).endswith("it becomes nan at epoch 3")
    assert describe_values([1, 2], [math.inf, math.nan]) == (
        "has no finite value (it is inf from epoch 1)")
    assert describe_values([], []) == "has no points"


def test_describe_history_adds_what_diagnose_says():
    text = describe_history(OVERFITTING, name="wide")
    assert text.startswith("wide: 6 epochs; training loss falls from 1 at epoch 1 to 0.2")
    assert "to its lowest, 0.65 at epoch 3, then rises" in text and "diagnose(): overfitting." in text
    assert "diagnose()" not in describe_history({"loss": [1.0, 0.5, 0.4]})
    with pytest.raises(ValueError, match="'loss' or 'val_loss'"):
        describe_history({"accuracy": [0.5, 0.6]})


def test_plot_history_figure_carries_the_diagnosis_and_its_markers():
    figure, _ = plot_history(OVERFITTING, early_stopping_patience=2)
    text = describe_figure(figure)
    assert text.startswith("Training vs Validation: Loss: Loss against Epochs. 6 epochs;")
    assert "diagnose(): overfitting" in text
    assert "Marked: Best validation loss (epoch 3); Early stopping, patience 2 (epoch 5)." in text


def test_gallery_and_comparison_describe_every_run():
    diverged = {"loss": [1.0, 5.0, math.nan], "val_loss": [1.0, 9.0, math.inf]}
    figure, _, _ = plot_gallery({"over": OVERFITTING, "broken": diverged})
    text = describe_figure(figure)
    assert text.startswith("2 panels. over [overfitting]:")
    assert "broken [diverged]" in text and "diagnose(): diverged" in text
    figure, _ = compare_runs({"a": OVERFITTING, "b": diverged})
    text = describe_figure(figure)
    assert "a: 6 epochs" in text and "b: 3 epochs" in text


def test_a_plain_pyplot_figure_is_described_from_what_it_draws():
    figure = plt.figure()
    plt.plot([1, 2, 3], [0.9, 0.5, 0.4], label="Training Loss")
    plt.plot([1, 2, 3], [0.8, 0.6, 0.7], label="Validation Loss")
    plt.title("Loss")
    plt.xlabel("Epochs")
    plt.ylabel("Loss")
    assert describe_figure(figure) == (
        "Loss: Loss against Epochs. Training Loss falls from 0.9 at epoch 1 to 0.4 at epoch 3; "
        "Validation Loss falls from 0.8 at epoch 1 to its lowest, 0.6 at epoch 2, then rises to 0.7 at "
            "epoch 3.")


def test_a_log_axis_is_named_once():
    figure = plt.figure()
    plt.plot([1, 2], [0.9, 0.4])
    plt.yscale("log")
    plt.xlabel("Epochs")
    plt.ylabel("Loss")
    assert describe_figure(figure).startswith("Loss (log scale) against Epochs.")
    plt.ylabel("Loss (log scale)")
    assert describe_figure(figure).startswith("Loss (log scale) against Epochs.")


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="matplotlib Figure"):
        describe_figure("figure.png")
    with pytest.raises(ValueError, match="non-empty string"):
        set_description(plt.figure().add_subplot(), " ")


@pytest.fixture
def ipython_shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_a_kernel_shows_every_figure_with_its_alt_text(ipython_shell):
    from IPython.core.pylabtools import select_figure_formats

    assert enable_alt_text()
    # What the inline backend does when it starts (after helpers.plots may have been imported):
    # it resets the figure printers of every format and registers its PNG printer.
    select_figure_formats(ipython_shell, {"png"})
    figure, _ = plot_history(OVERFITTING)
    data, metadata = ipython_shell.display_formatter.format(figure)
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert metadata["image/png"]["alt"] == describe_figure(figure) == data["text/plain"]


def test_importing_helpers_in_a_kernel_gives_a_plain_pyplot_figure_its_alt_text(ipython_shell):
    import importlib

    from IPython.core.pylabtools import select_figure_formats

    import helpers

    importlib.reload(helpers)  # as a notebook's first `from helpers... import` does in a kernel
    select_figure_formats(ipython_shell, {"png"})
    figure = plt.figure()
    plt.plot([1, 2, 3], [0.9, 0.5, 0.4])
    plt.xlabel("Steps")
    plt.ylabel("Gradient norm")
    _, metadata = ipython_shell.display_formatter.format(figure)
    assert metadata["image/png"]["alt"] == describe_figure(figure)
    assert metadata["image/png"]["alt"].startswith("Gradient norm against Steps.")


def test_enable_alt_text_outside_a_kernel_does_nothing():
    assert enable_alt_text() is False


def test_the_live_plot_shows_its_image_with_alt_text(monkeypatch):
    import IPython.display

    from helpers.history import History
    from helpers.live import LiveLossPlot

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda image, **kwargs: shown.append(image))
    plot = LiveLossPlot(in_notebook=True)
    plot.on_train_begin(None)

    class Recorder:
        history = History(metrics=OVERFITTING)

    plot.on_epoch(Recorder())
    assert "diagnose(): overfitting" in shown[0].metadata["alt"]


def test_a_v_a_u_a_rise_and_a_fall_are_described_by_their_shape():
    from helpers.alt_text import describe_values

    errors = [-3, -2, -1, 0, 1, 2, 3]
    v_shape = describe_values(errors, [abs(e) for e in errors], x_name="error")
    u_shape = describe_values(errors, [e * e for e in errors], x_name="error")
    assert v_shape == ("falls from 3 at error -3 to its lowest, 0 at error 0, then rises to 3 at "
                       "error 3")
    assert u_shape.startswith("falls from 9 at error -3 to its lowest, 0 at error 0, then rises")
    assert "stays near" not in v_shape + u_shape
    assert describe_values([1, 2, 3, 4], [0.5, 0.6, 0.8, 1.0]) == "rises from 0.5 at epoch 1 to 1 at epoch 4"
    assert describe_values([1, 2, 3, 4], [1.0, 0.7, 0.5, 0.45]) == (
        "falls from 1 at epoch 1 to 0.45 at epoch 4")
    assert describe_values([1, 2, 3], [2.0, 2.01, 2.0]).startswith("stays near 2")
    hill = describe_values([1, 2, 3, 4, 5], [0.1, 0.5, 0.9, 0.5, 0.1])
    assert hill == "rises from 0.1 at epoch 1 to its highest, 0.9 at epoch 3, then falls to 0.1 at epoch 5"
