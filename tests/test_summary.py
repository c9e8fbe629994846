import math

import numpy as np
import pytest

from helpers.history import History
from helpers.summary import format_table, jitter, summarize, summary_table


def test_summarize_gives_the_best_epoch_gap_accuracy_and_time():
    history = History(metrics={"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.7],
                               "val_accuracy": [0.5, 0.8, 0.79]},
                      seconds_per_epoch=[2.0, 1.0, 1.5])
    summary = summarize(history)
    assert summary == {"best_val_loss": 0.6, "best_epoch": 2, "epochs": 3,
                       "final_gap": pytest.approx(0.4), "final_val_accuracy": 0.79,
                       "seconds": 4.5}
    with pytest.raises(ValueError, match="history has no 'val_loss' to summarize"):
        summarize({"loss": [1.0]})


def test_format_table_aligns_names_and_numbers():
    table = format_table({"baseline": {"best": 0.3123, "epoch": 12},
                          "a longer name": {"best": 1.5, "epoch": None}})
    lines = table.splitlines()
    assert lines[0].split() == ["run", "best", "epoch"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["baseline", "0.312", "12"]
    assert lines[3].endswith("1.500      -")
    assert len({len(line) for line in lines}) == 1
    with pytest.raises(ValueError, match="rows must be a non-empty dict"):
        format_table({})


def test_summary_table_has_one_row_per_run_with_its_diagnosis():
    overfit = {"loss": [1.0, 0.5, 0.3, 0.2, 0.1], "val_loss": [1.0, 0.6, 0.7, 0.8, 0.9]}
    fine = {"loss": [1.0, 0.6, 0.4, 0.35, 0.33], "val_loss": [0.9, 0.6, 0.45, 0.41, 0.40]}
    lines = summary_table({"overfit": overfit, "fine": fine}).splitlines()
    assert lines[0].split() == ["run", "best_val_loss", "best_epoch", "final_gap",
                                "final_val_accuracy", "diagnosis"]
    assert lines[2].split()[0] == "overfit" and lines[2].split()[-1] == "overfitting"
    assert lines[3].split()[:3] == ["fine", "0.400", "5"]
    with pytest.raises(ValueError, match="runs must be a non-empty dict"):
        summary_table({})


def test_jitter_ignores_a_straight_or_curving_trend_and_sees_back_and_forth():
    assert jitter([4.0, 3.0, 2.0, 1.0]) == pytest.approx(0.0)
    assert jitter([16.0, 9.0, 4.0, 1.0, 0.0]) == pytest.approx(0.0)  # a parabola: steady curvature
    # Second differences +2, -2: standard deviation 2, over sqrt(6) and the mean value 1.5.
    assert jitter([2.0, 1.0, 2.0, 1.0]) == pytest.approx(2 / math.sqrt(6) / 1.5)
    noise = [1.0 + 0.01 * value for value in np.random.default_rng(0).standard_normal(4000)]
    assert jitter(noise) == pytest.approx(0.01, rel=0.05)
    with pytest.raises(ValueError, match="at least 4"):
        jitter([1.0, 2.0, 3.0])
