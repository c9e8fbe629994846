import math
import re

import pytest
from matplotlib.colors import to_hex

from helpers.history import History
from helpers.lab_figure import (
    OFF_SCALE_LOSS,
    best_validation_loss,
    draw_runs,
    is_off_scale,
    readable_number,
    runs_table,
)

SANE = History(metrics={"loss": [1.2, 0.7, 0.55], "val_loss": [0.9, 0.65, 0.6]})
HUGE = History(metrics={"loss": [3.1e12, 6.6e11, 6.7e11], "val_loss": [6.627e11, 6.6e11, 7e11]})
NAN = History(metrics={"loss": [2.3, math.nan], "val_loss": [2.2, math.nan]})


@pytest.mark.parametrize("value, text", [
    (662744858624.0, "6.63e+11"), (0.51234, "0.512"), (2.302585, "2.303"), (0.0, "0.000"),
    (1.5e-5, "1.50e-05"), (math.nan, "NaN"), (math.inf, "inf"), (12345.6, "1.23e+04"),
])
def test_readable_number_keeps_losses_short(value, text):
    assert readable_number(value) == text


def test_a_run_is_off_the_scale_when_its_loss_blows_up_or_is_not_a_number():
    assert not is_off_scale(SANE)
    assert is_off_scale(HUGE) and is_off_scale(NAN)
    assert not is_off_scale(History(metrics={"loss": [OFF_SCALE_LOSS], "val_loss": [1.0]}))
    assert best_validation_loss(NAN) == 2.2 and math.isnan(best_validation_loss(
        History(metrics={"loss": [math.nan], "val_loss": [math.nan]})))


def test_a_diverged_run_leaves_the_axis_on_the_sane_runs_and_is_named_in_the_legend():
    figure, colours = draw_runs({"run 1: defaults": SANE, "run 2: initializer huge": HUGE},
                                {"run 1: defaults": "run 1 (healthy)",
                                 "run 2: initializer huge": "run 2 (diverged, off the scale)"})
    axis = figure.axes[0]
    bottom, top = axis.get_ylim()
    assert bottom == 0 and 1.2 <= top <= 1.1 * 1.2 + 1e-9
    assert axis.get_yscale() == "linear"
    assert [text.get_text() for text in axis.get_legend().get_texts()] == [
        "run 1 (healthy)", "run 2 (diverged, off the scale)"]
    assert set(colours) == {"run 1: defaults", "run 2: initializer huge"}
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in colours.values()), colours
    assert colours["run 1: defaults"] != colours["run 2: initializer huge"]
    handles = axis.get_legend().legend_handles
    assert [to_hex(handle.get_color()) for handle in handles] == list(colours.values())


def test_only_runs_off_the_scale_get_a_log_axis_and_sane_runs_keep_matplotlib_limits():
    figure, _ = draw_runs({"run 1: initializer huge": HUGE}, {"run 1: initializer huge": "run 1"})
    assert figure.axes[0].get_yscale() == "log"
    figure, _ = draw_runs({"run 1": SANE}, {"run 1": "run 1"})
    bottom, top = figure.axes[0].get_ylim()
    assert bottom > 0.4 and 1.2 < top < 1.4  # autoscaled around 0.55 .. 1.2, not forced to 0


def test_the_legend_font_is_readable():
    figure, _ = draw_runs({"run 1": SANE}, {"run 1": "run 1 (healthy)"})
    (text,) = figure.axes[0].get_legend().get_texts()
    assert text.get_fontsize() >= 10


def test_runs_without_an_epoch_are_not_drawn():
    figure, colours = draw_runs({"run 1": History(metrics={})}, {"run 1": "run 1 (training)"})
    assert colours == {} and figure.axes[0].get_legend() is None


def test_runs_table_has_one_row_per_run_with_readable_numbers():
    rows = [{"name": "run 1: defaults", "colour": "#1f77b4", "verdict": "healthy", "best": 0.51234,
             "epochs": 10, "seconds": 8.2},
            {"name": "run 2: <huge>", "colour": "#ff7f0e", "verdict": "diverged",
             "best": 662744858624.0, "epochs": "2 of 10", "seconds": 1.0}]
    table = runs_table(rows)
    assert table.count("<tr class='lab-run'>") == 2
    assert "0.512" in table and "6.63e+11" in table and "662744858624" not in table
    assert "run 2: &lt;huge&gt;" in table and "2 of 10" in table
    assert runs_table([]) == ""
