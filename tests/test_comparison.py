import math

import numpy as np
import pytest

from helpers import comparison
from helpers.comparison import compare

SEEDS_USED = (2, 3, 4, 5)  # the numbers of seeds notebooks compare with (04: 3 in both modes)


def t_upper_tail(t, degrees):
    """P(T > t) for Student's t with ``degrees`` degrees of freedom, integrated numerically.

    With x = sqrt(degrees) tan(theta) the density becomes a constant times cos(theta)^(degrees-1)
    on a finite interval (no scipy here).
    """
    theta = np.linspace(math.atan(t / math.sqrt(degrees)), math.pi / 2, 200_001)
    constant = math.exp(math.lgamma((degrees + 1) / 2) - math.lgamma(degrees / 2)) / math.sqrt(math.pi)
    return constant * float(np.trapezoid(np.cos(theta) ** (degrees - 1), theta))


def test_the_tail_integral_is_right_where_it_is_known():
    assert t_upper_tail(0.0, 5) == pytest.approx(0.5, abs=1e-9)
    assert t_upper_tail(1.0, 1) == pytest.approx(0.25, abs=1e-9)  # Cauchy: 1/2 - atan(1)/pi


@pytest.mark.parametrize("degrees", sorted(comparison.T_QUANTILE_95))
def test_the_t_table_gives_at_most_five_percent_under_normal_noise(degrees):
    rate = t_upper_tail(comparison.T_QUANTILE_95[degrees], degrees)
    print(f"{degrees + 1} seeds: exact false-positive rate under normal noise {rate:.4f}")
    assert 0.0495 < rate <= comparison.FALSE_POSITIVE_RATE


def false_positive_rate(seeds, trials, noise):
    """Run compare() on settings with no effect at all; return how often it says lower, higher.

    The exact rate under normal noise is the t table's (the test above); this checks that
    compare() applies it, and that heavier tails (Laplace) do not push it up, within 3 Monte
    Carlo standard errors."""
    rng = np.random.default_rng(seeds)
    shared = rng.normal(size=(trials, seeds))  # what a seed does to both settings (pairing)
    own = noise(rng, (trials, 2, seeds))
    lower = higher = 0
    for trial in range(trials):
        baseline = dict(enumerate(1.0 + shared[trial] + own[trial, 0]))
        setting = dict(enumerate(1.0 + shared[trial] + own[trial, 1]))
        result = compare(setting, baseline)
        lower += result.lower
        higher += result.higher
    return lower / trials, higher / trials


@pytest.mark.parametrize("seeds", SEEDS_USED)
@pytest.mark.parametrize("noise_name", ["normal", "laplace"])
def test_a_setting_with_no_effect_is_called_lower_at_most_five_percent_of_the_time(seeds, noise_name):
    noise = {"normal": lambda rng, shape: rng.normal(size=shape),
             "laplace": lambda rng, shape: rng.laplace(size=shape)}[noise_name]
    trials = 50_000
    lower, higher = false_positive_rate(seeds, trials, noise)
    error = math.sqrt(0.05 * 0.95 / trials)  # Monte Carlo standard error of a 5% rate
    print(f"{seeds} seeds, {noise_name} noise: called lower {lower:.4f}, higher {higher:.4f} "
          f"of {trials:,} no-effect comparisons (Monte Carlo error {error:.4f})")
    assert lower <= comparison.FALSE_POSITIVE_RATE + 3 * error
    assert higher <= comparison.FALSE_POSITIVE_RATE + 3 * error


def test_the_old_range_rule_fails_this_test():
    """The rule it replaces: one run beats the mean of n seeds by more than their range."""
    rng = np.random.default_rng(0)
    for seeds, expected in ((2, 0.226), (3, 0.121)):
        problem, cure = rng.normal(size=(200_000, seeds)), rng.normal(size=200_000)
        rate = np.mean(problem.mean(1) - cure > problem.max(1) - problem.min(1))
        print(f"old rule, {seeds} seeds: a no-effect cure passes {rate:.3f} of the time")
        assert abs(rate - expected) < 0.005 and rate > comparison.FALSE_POSITIVE_RATE


def test_a_clear_effect_is_found_and_reported_with_its_numbers():
    baseline = {42: 0.62, 1: 0.60, 2: 0.63}
    setting = {42: 0.55, 1: 0.54, 2: 0.57}
    result = compare(setting, baseline, setting="2x data", baseline="problem")
    assert result.lower and not result.higher and result.verdict == "lower"
    assert result.differences == pytest.approx((-0.07, -0.06, -0.06))
    assert result.difference == pytest.approx(-0.19 / 3)
    assert result.threshold == pytest.approx(2.920 * result.noise)
    assert str(result).startswith("value: 2x data 0.553, problem 0.617 (means over seeds [42, 1, 2])")
    assert str(result).endswith(": lower")


def test_a_difference_within_the_noise_is_no_difference_shown():
    result = compare({1: 0.60, 2: 0.70}, {1: 0.65, 2: 0.64})
    assert not result.lower and not result.higher and result.verdict == "no difference shown"


def test_histories_are_measured_with_the_measure_given():
    runs = {1: {"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.7]},
            2: {"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.5, 0.8]}}
    assert comparison.best_val_loss(runs[1]) == 0.6 and comparison.final_val_loss(runs[2]) == 0.8
    assert comparison.rise_after_best(runs[2]) == pytest.approx(0.6)
    result = compare(runs, runs, comparison.best_val_loss)
    assert result.measure == "best validation loss" and result.difference == 0
    assert result.verdict == "no difference shown"


def test_unpaired_or_unusable_inputs_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="same seeds"):
        compare({1: 0.5, 2: 0.6}, {1: 0.5, 3: 0.6})
    with pytest.raises(ValueError, match="from 2 to"):
        compare({1: 0.5}, {1: 0.6})
    with pytest.raises(ValueError, match=r"setting_runs\[2\] gives nan"):
        compare({1: 0.5, 2: float("nan")}, {1: 0.5, 2: 0.6})
    with pytest.raises(ValueError, match="or pass measure="):
        compare({1: {"val_loss": [1.0]}, 2: 0.6}, {1: 0.5, 2: 0.6})
    with pytest.raises(ValueError, match="measure must be a function"):
        compare({1: 0.5, 2: 0.6}, {1: 0.5, 2: 0.6}, measure="best")


def test_the_comparison_table_ranks_by_the_measure_and_gives_each_verdict():
    def run(best, final):
        return {"loss": [1.0, 0.5, 0.4, 0.3], "val_loss": [1.0, best, (best + final) / 2, final]}

    settings = {"problem": {1: run(0.62, 0.9), 2: run(0.60, 0.95), 3: run(0.63, 0.92)},
                "more data": {1: run(0.55, 0.6), 2: run(0.54, 0.58), 3: run(0.57, 0.6)},
                "noise": {1: run(0.65, 0.7), 2: run(0.58, 0.6), 3: run(0.61, 0.7)},
                "one seed": {1: run(0.5, 0.5)}}
    lines = comparison.comparison_table(settings, "problem").splitlines()
    assert lines[0].split()[:4] == ["run", "best", "validation", "loss"]
    names = [line.split("  ")[0].strip() for line in lines[2:]]
    assert names == ["one seed", "more data", "noise", "problem"]
    assert lines[3].endswith("lower") and lines[4].endswith("no difference shown")
    assert lines[2].endswith("-") and lines[5].endswith("-")
    with pytest.raises(ValueError, match="baseline must be one of"):
        comparison.comparison_table(settings, "nothing")
