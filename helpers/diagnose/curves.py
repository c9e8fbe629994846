"""Robust numbers about one loss curve: its noise, smoothed values, end level, recent fall, range.

Used by ``helpers.diagnose.rules``; plain lists of finite floats in, floats out, no imports from
helpers. "Robust" means a single odd epoch (a spike, a lucky low value, an exploded first epoch)
moves none of these numbers much.
"""

import math
import statistics

MAD_TO_SIGMA = 1.4826  # median absolute deviation x 1.4826 = standard deviation, for Gaussian noise
SECOND_DIFFERENCE_VARIANCE = 6  # v[i+1] - 2 v[i] + v[i-1] of independent noise has variance 6 sigma^2
SPIKE_RATIO = 0.25  # an epoch >= 25% above both neighbours (the last: its one) is a spike candidate
OUTLIER_RATIO = 3.0  # epoch 1 is an outlier if it is over 3x the largest later value...
OUTLIER_RANGE_MULTIPLE = 10.0  # ...and lies over 10 later ranges above the largest later value


def spike_candidates(values):
    """Return the 0-based epochs at least SPIKE_RATIO above both neighbours (the last: its one)."""
    found = []
    for index in range(1, len(values)):
        neighbours = [values[index - 1]] + ([values[index + 1]] if index + 1 < len(values) else [])
        if values[index] >= (1 + SPIKE_RATIO) * max(neighbours) > 0:
            found.append(index)
    return found


def noise(values):
    """Return the epoch-to-epoch noise of a curve: a robust standard deviation (0 for a smooth one).

    Taken from second differences (which cancel a smooth trend) after the first epoch, with the
    median absolute deviation and without the spike candidates: spikes are not noise, and a
    fast first fall is not either.
    """
    candidates = set(spike_candidates(values))
    rest = [value for index, value in enumerate(values) if index and index not in candidates]
    differences = [abs(rest[i + 1] - 2 * rest[i] + rest[i - 1]) for i in range(1, len(rest) - 1)]
    if not differences:
        return 0.0
    return MAD_TO_SIGMA * statistics.median(differences) / math.sqrt(SECOND_DIFFERENCE_VARIANCE)


def running_median(values, width=3):
    """Return the curve smoothed by a running median; the first and last epochs stay as they are."""
    half = width // 2
    return [statistics.median(values[i - half:i + half + 1]) if half <= i < len(values) - half
            else values[i] for i in range(len(values))]


def end_window(epochs, fraction, minimum):
    """Return how many last epochs make up "the end" of a run: a fraction of it, within bounds."""
    return max(1, min(max(minimum, round(fraction * epochs)), epochs // 2))


def end_level(values, window):
    """Return the median of the last ``window`` values: where the curve ends, ignoring one odd epoch."""
    return statistics.median(values[-window:])


def fitted_fall(values):
    """Return how much a straight line fitted (least squares) to ``values`` falls from first to last."""
    count = len(values)
    if count < 2:
        return 0.0
    mean_x, mean_y = (count - 1) / 2, sum(values) / count
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
             / sum((x - mean_x) ** 2 for x in range(count)))
    return -slope * (count - 1)


def fitted_fall_error(values):
    """Return the standard error of ``fitted_fall(values)``, from the line's own residuals."""
    count = len(values)
    if count < 3:
        return math.inf
    mean_x, mean_y = (count - 1) / 2, sum(values) / count
    spread = sum((x - mean_x) ** 2 for x in range(count))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread
    residuals = [y - mean_y - slope * (x - mean_x) for x, y in enumerate(values)]
    sigma = math.sqrt(sum(r * r for r in residuals) / (count - 2))
    return sigma * (count - 1) / math.sqrt(spread)


def first_epoch_is_outlier(values):
    """Return True if epoch 1 lies far above everything after it (an explosion, a cold start)."""
    if len(values) < 3:
        return False
    rest = values[1:]
    top, spread = max(rest), max(rest) - min(rest)
    return values[0] > OUTLIER_RATIO * top and values[0] - top > OUTLIER_RANGE_MULTIPLE * spread


def without_outlier_start(values):
    """Return the curve with an outlier epoch 1 replaced by epoch 2's value (else unchanged)."""
    return [values[1], *values[1:]] if first_epoch_is_outlier(values) else list(values)


def robust_range(values):
    """Return the curve's range after a running median, so a single spike does not set it."""
    smoothed = running_median(values)
    return max(smoothed) - min(smoothed)
