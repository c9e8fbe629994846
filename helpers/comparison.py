"""Whether one setting beats another beyond seed noise: a paired, one-sided t-test at 5%.

Introduced in ``04_overfitting.ipynb``. Both settings are trained on the same seeds (the same
images, starting weights where the model is the same, and shuffling order), so each seed gives
one paired difference. ``compare(setting_runs, baseline_runs, best_val_loss)`` returns a
``Comparison``: the mean difference, its noise (the standard error of the paired differences),
the threshold it must pass and the verdict. A setting is called ``lower`` (or ``higher``) only
when the mean difference is more than ``t * noise`` below (above) zero, with ``t`` Student's
one-sided 95% quantile for ``n - 1`` degrees of freedom: under no effect at all, a claim of
"lower" is then wrong at most 5% of the time (``tests/test_comparison.py`` simulates it for every
number of seeds the notebooks use). The old rule, "a difference larger than the range of 2-3
seeds", let a change with no effect through 23% (2 seeds) and 12% (3 seeds) of the time.
"""

import math
import numbers
from dataclasses import dataclass

from helpers import checks
from helpers.history import as_history, kept_epochs
from helpers.summary import format_table

FALSE_POSITIVE_RATE = 0.05  # the one-sided rate at which a setting with no effect is called better
# Student's t, one-sided 95% quantile, by degrees of freedom (seeds - 1), rounded up to 3 decimals
# (so the rate stays at or below 5%; rounding down, as printed tables do, gives up to 5.002%);
# tests/test_comparison.py integrates the t density to check each one.
T_QUANTILE_95 = {1: 6.314, 2: 2.920, 3: 2.354, 4: 2.132, 5: 2.016, 6: 1.944, 7: 1.895,
                 8: 1.860, 9: 1.834, 10: 1.813, 11: 1.796, 12: 1.783, 13: 1.771, 14: 1.762,
                 15: 1.754, 16: 1.746, 17: 1.740, 18: 1.735, 19: 1.730}

__all__ = ["FALSE_POSITIVE_RATE", "T_QUANTILE_95", "Comparison", "compare", "best_val_loss",
           "final_val_loss", "rise_after_best", "RULE", "comparison_table"]

RULE = ("A setting is called lower (or higher) than another only when, trained on the same seeds, "
        "the mean of its paired differences is beyond t times their standard error (a one-sided "
        "t-test): a change with no effect is called lower at most 5% of the time.")


def best_val_loss(history):
    """Return the lowest finite validation loss of a run: the checkpoint you would keep."""
    values = [value for value in as_history(history)["val_loss"] if math.isfinite(value)]
    if not values:
        raise ValueError("history['val_loss'] has no finite value")
    return min(values)


def final_val_loss(history):
    """Return the validation loss of a run's last epoch."""
    return as_history(history)["val_loss"][-1]


def rise_after_best(history):
    """Return how far the final validation loss lies above the lowest, as a fraction of the lowest."""
    return final_val_loss(history) / best_val_loss(history) - 1


MEASURE_NAMES = {best_val_loss: "best validation loss", final_val_loss: "final validation loss",
                 rise_after_best: "rise after the best epoch", None: "value"}


def _mean(values):
    return sum(values) / len(values)


@dataclass(frozen=True)
class Comparison:
    """One measured number of two settings over the same seeds, and what the 5% rule says of it."""

    measure: str
    setting: str
    baseline: str
    seeds: tuple
    setting_values: tuple
    baseline_values: tuple

    @property
    def differences(self):
        """Return setting minus baseline, seed by seed."""
        return tuple(a - b for a, b in zip(self.setting_values, self.baseline_values))

    @property
    def difference(self):
        """Return the mean paired difference (setting minus baseline)."""
        return sum(self.differences) / len(self.differences)

    @property
    def noise(self):
        """Return the standard error of the mean paired difference."""
        values, mean = self.differences, self.difference
        variance = sum((value - mean) ** 2 for value in values) / (len(values) - 1)
        return math.sqrt(variance / len(values))

    @property
    def threshold(self):
        """Return how far from zero the mean difference must lie to count: t times its noise."""
        return T_QUANTILE_95[len(self.seeds) - 1] * self.noise

    @property
    def lower(self):
        """Return True when the setting's number is lower than the baseline's by the 5% rule."""
        return self.difference < 0 and -self.difference > self.threshold

    @property
    def higher(self):
        """Return True when the setting's number is higher than the baseline's by the 5% rule."""
        return self.difference > 0 and self.difference > self.threshold

    @property
    def verdict(self):
        """Return "lower", "higher" or "no difference shown"."""
        return "lower" if self.lower else "higher" if self.higher else "no difference shown"

    def __str__(self):
        return (f"{self.measure}: {self.setting} {_mean(self.setting_values):.3f}, {self.baseline} "
                f"{_mean(self.baseline_values):.3f} (means over seeds {list(self.seeds)}); "
                f"difference {self.difference:+.3f}, noise {self.noise:.3f}, must pass "
                f"{self.threshold:.3f}: {self.verdict}")


def _values(runs, measure, name):
    checks.non_empty_dict(runs, name, "{seed: history or number}")
    values = {}
    for seed, run in runs.items():
        value = run if measure is None else measure(run)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name}[{seed!r}] gives {value!r}; the comparison needs a finite "
                             f"number per seed" + ("" if measure else " (or pass measure=)"))
        values[seed] = float(value)
    return values


def compare(setting_runs, baseline_runs, measure=None, *, name=None, setting="setting",
            baseline="baseline"):
    """Compare ``measure`` of two settings run on the same seeds ({seed: history}) by the 5% rule."""
    if measure is not None and not callable(measure):
        raise ValueError(f"measure must be a function of one history (e.g. best_val_loss) or None "
                         f"for numbers, got {measure!r}")
    ours = _values(setting_runs, measure, "setting_runs")
    theirs = _values(baseline_runs, measure, "baseline_runs")
    if set(ours) != set(theirs):
        raise ValueError(f"setting_runs and baseline_runs must have the same seeds (a paired "
                         f"comparison), got {sorted(ours)} and {sorted(theirs)}")
    if len(ours) - 1 not in T_QUANTILE_95:
        raise ValueError(f"the comparison needs from 2 to {max(T_QUANTILE_95) + 1} seeds, got "
                         f"{len(ours)}")
    seeds = tuple(ours)
    measure_name = name or MEASURE_NAMES.get(measure, getattr(measure, "__name__", "value"))
    return Comparison(measure_name, setting, baseline, seeds, tuple(ours[s] for s in seeds),
                      tuple(theirs[s] for s in seeds))


def comparison_table(settings, baseline, measure=best_val_loss, beside=final_val_loss):
    """Return a text table ranking ``settings`` ({name: {seed: history}}) by ``measure``.

    ``baseline`` names the row every other row is compared with by the 5% rule. Each row gives
    the mean of ``measure`` over the seeds (the kept epochs of an early-stopped run), the mean of
    ``beside`` and the verdict; a row with one seed has no verdict.
    """
    checks.non_empty_dict(settings, "settings", "{name: {seed: history}}")
    if baseline not in settings:
        raise ValueError(f"baseline must be one of the settings' names {list(settings)}, got "
                         f"{baseline!r}")
    name, beside_name = MEASURE_NAMES.get(measure, "value"), MEASURE_NAMES.get(beside, "beside")
    rows = {}
    for setting, runs in settings.items():
        runs = {seed: kept_epochs(run) for seed, run in runs.items()}
        verdict = "-"
        if setting != baseline and len(runs) > 1:
            verdict = compare(runs, {seed: settings[baseline][seed] for seed in runs}, measure).verdict
        rows[setting] = {f"{name} (mean)": _mean([measure(run) for run in runs.values()]),
                         f"{beside_name} (mean)": _mean([beside(run) for run in runs.values()]),
                         "seeds": len(runs), f"vs {baseline}": verdict}
    rows = dict(sorted(rows.items(), key=lambda item: item[1][f"{name} (mean)"]))
    return format_table(rows)
