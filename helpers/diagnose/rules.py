"""The rules behind ``diagnose()``: one check per pattern, each returning the numbers that decided it.

Every threshold is relative (a fraction of a loss, of a curve's range, or a multiple of the
curve's own epoch-to-epoch noise), never an absolute loss value, so the rules work for any loss
and any scale. A check returns a ``Finding`` (its evidence as text) or None. Checks after
``check_diverged`` see finite values only.
"""

import math
from dataclasses import dataclass

from helpers.diagnose.curves import (
    end_level,
    end_window,
    fitted_fall,
    fitted_fall_error,
    noise,
    robust_range,
    running_median,
    spike_candidates,
)

MIN_EPOCHS = 3  # fewer epochs than this: "too short to tell", not a guess
NOISE_MULTIPLE = 2.0  # a change counts only if it is at least 2x the curve's epoch-to-epoch noise
END_FRACTION = 0.1  # "the end of a run" is its last 10% of epochs (its median is the end value)...
END_MIN_EPOCHS = 3  # ...and at least 3 epochs (at most half the run)
DIVERGENCE_RATIO = 3.0  # a loss that rises above 3x its running minimum and stays there: diverged
DIVERGENCE_BASELINE_RATIO = 10.0  # so has one that ever exceeds 10x the baseline loss
DIVERGENCE_CLIMB = 1.0  # a rise that leaves the minimum for good is a breakdown only if it climbs
#   back above the curve's typical (median) level before it
#   (0.012 -> 0.06 in a run whose loss sat around 0.2 is a memorizing model's tail wobbling near
#   zero, not training breaking down; the median, not the first value, which can be huge)
OVERFITTING_RISE = 0.05  # validation loss ends >= 5% above its (smoothed) minimum (a floor for
#   a rise that matters; on a noisy curve the noise condition below asks for more)...
OVERFITTING_RANGE_FRACTION = 0.10  # ...a rise of at least 10% of the curve's range...
OVERFITTING_TRAINING_FALL = 0.05  # ...while training loss fell >= 5% after that minimum
PLATEAU_FRACTION = 0.25  # or: validation loss has not improved for the last 25% of the run...
PLATEAU_MIN_EPOCHS = 8  # ...and for at least 8 epochs (PLATEAU_MIN_EPOCHS_BIG_FALL when the
#   training loss at least halved meanwhile: the stronger the effect, the less time it takes
#   to be sure of it)...
PLATEAU_MIN_EPOCHS_BIG_FALL = 5
PLATEAU_BIG_FALL = 0.50
PLATEAU_TOLERANCE = 0.03  # ...("not improved": fell less than 3% of its level, or than its noise)...
PLATEAU_RELATIVE_GAIN = 0.10  # ...or than a tenth of the training loss's relative fall meanwhile
#   (0.135 -> 0.130 while training fell 0.10 -> 0.04 is no real gain)...
PLATEAU_TRAINING_FALL = 0.20  # ...while training loss fell >= 20% more, to clearly below the
#   validation loss (by UNDERFITTING_GAP): plateau overfitting
UNDERFITTING_VALIDATION_FALL = 0.10  # validation loss fell < 10% from its start to its minimum...
UNDERFITTING_FALL = 0.20  # ...and training loss < 20%: both stay where they started
UNDERFITTING_BASELINE_FRACTION = 0.35  # or both best losses are still above 35% of the baseline
#   loss (a model that learned nothing: ln 10 for 10 classes), when that is known...
UNDERFITTING_GAP = 0.10  # ...and the training loss ends less than 10% below the validation loss:
#   a model that fits its training data clearly better than new data is not underfitting...
UNDERFITTING_NEAR_BASELINE = 0.80  # ...unless its best validation loss is above 80% of the
#   baseline: it hardly beats guessing on new data, whatever its training loss
FROZEN_ACCURACY_TOLERANCE = 1e-6  # a validation accuracy the same (within this) at every epoch:
#   every validation example got the same answer all run long, whatever the loss did; the model
#   learned nothing that carries over (an accuracy of 0 or 1 throughout is left out: a
#   regression's meaningless metric, or a perfect model)
# A spike: an epoch SPIKE_RATIO (25%, in curves.py) above its neighbours...
SPIKE_RANGE_FRACTION = 0.10  # ...by a jump of >= 10% of the curve's range...
SPIKE_NOISE_MULTIPLE = 3.0  # ...and >= 3x the curve's noise (a noisy curve's wiggles are not spikes)
SPIKE_EPOCHS_PER_SPIKE = 25  # spikes are the main story with at least one per 25 epochs...
SPIKE_MAJOR_RATIO = 1.0  # ...or one at least 100% (2x) above its neighbours; fewer are reported
#   as a minor pattern that is never the primary one (one spike in 200 epochs is not the story)
SPIKE_EFFECT_WEIGHT = 2.0  # against overfitting, a spike's lift counts twice: the run climbs back
#   from a worse place in the epochs after it (tuned on the tune halves: between 1.4 and 5 named
#   the expert's pattern in all 5 tune cases with both patterns major)
VALIDATION_BELOW_MARGIN = 0.10  # validation < training by >= 10%, medians over the last half (a
#   smaller gap is within what the half-epoch shift alone makes; not the story of a run)
CONVERGENCE_FRACTION = 0.25  # "still falling" is judged over the last 25% of the run...
CONVERGENCE_MIN_EPOCHS = 4  # ...and at least 4 epochs, by a straight line fitted there:
NOT_CONVERGED_FALL = 0.10  # both losses still fall by >= 10% of their current level there (fast on a
#   log scale)...
NOT_CONVERGED_DROP_FRACTION = 0.10  # ...or by >= 10% of their whole drop so far (still a good part
#   of the pace of the whole run: a fall of 10% over its last quarter is 40% of its average pace),
NOT_CONVERGED_PACE = 0.5  # ...or at a pace not slowing down: at least half the fall over the
#   window before (a converging curve flattens: each window falls much less than the one before)...
NOT_CONVERGED_STEADY_FALL = 0.04  # ...and still by >= 4% of its level (a fall that matters, not a
#   long run's tail creeping down by a percent or two),
#   the validation loss also by more than NOISE_MULTIPLE standard errors of the fitted fall (the
#   scatter of the window's epochs around the line)


@dataclass
class Finding:
    """One pattern found: the evidence (numbers that decided it), whether it can be primary, and
    its effect size.

    ``effect`` says how big the pattern is as a fraction of the loss's own level, so that the two
    patterns of a rival pair can be weighed against each other (``diagnose`` names the bigger one
    the main story). Overfitting and spikes both lift the validation loss above where it would
    be: their effect is that lift averaged over all epochs (``excess_per_epoch``: a sustained rise
    counts at every epoch after the minimum, a spike at its one epoch). Validation below training
    and "still falling" are both about where the run ends: the gap, and the fall over the last
    part of the run.
    """

    evidence: str
    minor: bool = False
    effect: float = 0.0
    events: int = 0  # how many separate events (spikes) the finding rests on; 0: not events


def _first_non_finite(values):
    return next((epoch for epoch, value in enumerate(values, 1) if not math.isfinite(value)), None)


def _left_for_good(values):
    """Return (onset index, minimum before it) if from some epoch to the last every value stays
    above DIVERGENCE_RATIO x the lowest smoothed value before that epoch (and above it by more
    than the noise, and by DIVERGENCE_CLIMB of its typical level's height above that minimum);
    else None."""
    smoothed, margin = running_median(values), NOISE_MULTIPLE * noise(values)
    onset = None
    for index in range(len(values) - 1, 0, -1):
        lowest = min(smoothed[:index])
        climb = DIVERGENCE_CLIMB * (sorted(smoothed[:index])[index // 2] - lowest)
        if lowest > 0 and all(value > max(DIVERGENCE_RATIO * lowest, lowest + margin, lowest + climb)
                              for value in values[index:]):
            onset = index
        else:
            break
    return (onset, min(smoothed[:onset])) if onset is not None else None


def check_diverged(loss, val_loss, markers, baseline_loss=None):
    """NaN or infinity; an explosion far above the baseline; a rise that leaves the minimum for good."""
    for name, values in (("training", loss), ("validation", val_loss)):
        epoch = _first_non_finite(values)
        if epoch is not None:
            markers["diverged_at"] = epoch
            return Finding(f"{name} loss became {values[epoch - 1]} at epoch {epoch}")
    for name, values in (("training", loss), ("validation", val_loss)):
        peak = max(range(len(values)), key=values.__getitem__)
        if baseline_loss and values[peak] > DIVERGENCE_BASELINE_RATIO * baseline_loss:
            markers["diverged_at"] = peak + 1
            return Finding(f"{name} loss exploded to {values[peak]:.3g} at epoch {peak + 1}, "
                           f"{values[peak] / baseline_loss:.0f}x the {baseline_loss:.3g} of a "
                           f"model that learned nothing")
    for name, values, other in (("training", loss, None), ("validation", val_loss, loss)):
        found = _left_for_good(values)
        if found is None:
            continue
        onset, minimum = found
        # Only the last epoch jumped, in a curve that spiked and came back before: one more spike
        # (whether this one comes back is not recorded), not a breakdown.
        if onset == len(values) - 1 and any(index < onset - 1 for index in spikes(values[:-1])):
            continue
        # A validation loss climbing while the training loss keeps falling is overfitting.
        if other is not None and min(other[onset:]) < (1 - OVERFITTING_TRAINING_FALL) * min(other[:onset]):
            continue
        markers["diverged_at"] = onset + 1
        return Finding(f"{name} loss rose from its minimum {minimum:.3g} (smoothed) to "
                       f"{values[onset]:.3g} at epoch {onset + 1} and stayed above "
                       f"{DIVERGENCE_RATIO:g}x that minimum to the last epoch ({values[-1]:.3g}, "
                       f"{values[-1] / minimum:.1f}x)")
    return None


def excess_per_epoch(val_loss):
    """Return how far the smoothed validation loss sits above its minimum after it, as a fraction of
    that minimum, averaged over all epochs (0 before the minimum): the size of an overfitting rise."""
    smoothed = running_median(val_loss)
    best = min(range(len(smoothed)), key=smoothed.__getitem__)
    lowest = smoothed[best]
    if lowest <= 0:
        return 0.0
    return sum(value / lowest - 1 for value in smoothed[best:]) / len(val_loss)


def _check_rising(loss, val_loss, markers, smoothed, train_smoothed, window):
    best = min(range(len(smoothed)), key=smoothed.__getitem__)
    if len(val_loss) - best - 1 < window:
        return None
    end, train_end = end_level(val_loss, window), end_level(loss, window)
    rise, lowest = end - smoothed[best], smoothed[best]
    training_fall = (train_smoothed[best] - train_end) / train_smoothed[best]
    needed = max(OVERFITTING_RISE * lowest, OVERFITTING_RANGE_FRACTION * robust_range(val_loss),
                 NOISE_MULTIPLE * noise(val_loss))
    if rise >= needed and lowest > 0 and training_fall >= OVERFITTING_TRAINING_FALL:
        # Mark the epoch with the lowest validation loss (the one early stopping keeps) when it
        # lies before the end window, else the smoothed minimum.
        lowest_epoch = min(range(len(val_loss)), key=val_loss.__getitem__)
        marked = lowest_epoch if len(val_loss) - lowest_epoch - 1 >= window else best
        markers["overfitting_start"] = marked + 1
        return Finding(f"validation loss lowest at epoch {marked + 1} ({val_loss[marked]:.3g}; "
                       f"smoothed minimum {lowest:.3g} at epoch {best + 1}), then rose "
                       f"{rise / lowest:.0%} to {end:.3g} (median of the last {window} epochs; a "
                       f"rise of {needed:.3g} was needed) while training loss fell "
                       f"{training_fall:.0%}; {excess_per_epoch(val_loss):.0%} above the minimum "
                       f"per epoch on average", effect=excess_per_epoch(val_loss))
    return None


def _check_plateau(loss, val_loss, markers, smoothed, train_smoothed, window):
    end, train_end = end_level(val_loss, window), end_level(loss, window)
    # "Has not improved since epoch p": from p on, the smoothed validation loss was never more
    # than the tolerance above where it ends, i.e. the epochs after p brought no real gain.
    tolerance = max(PLATEAU_TOLERANCE * abs(end), noise(smoothed))

    def allowed(index):  # a gain a tenth (relatively) of the training loss's meanwhile is none
        training_gain = max(0.0, (train_smoothed[index] - train_end) / train_smoothed[index])
        return max(tolerance, PLATEAU_RELATIVE_GAIN * training_gain * abs(end))

    start = next((index for index, value in enumerate(smoothed) if value <= end + allowed(index)),
                 None)
    if start is None:
        return None
    tolerance = allowed(start)
    stalled = len(val_loss) - 1 - start
    training_fall = (train_smoothed[start] - train_end) / train_smoothed[start]
    minimum = PLATEAU_MIN_EPOCHS_BIG_FALL if training_fall >= PLATEAU_BIG_FALL else PLATEAU_MIN_EPOCHS
    needed = max(minimum, math.ceil(PLATEAU_FRACTION * len(val_loss)))
    # A training loss not clearly below the validation loss is not fitting its data too well.
    if (stalled >= needed and training_fall >= PLATEAU_TRAINING_FALL
            and train_end < (1 - UNDERFITTING_GAP) * end):
        markers["overfitting_start"] = start + 1
        effect = excess_per_epoch(val_loss)
        return Finding(f"validation loss has not improved since epoch {start + 1}: {stalled} "
                       f"epochs ({needed} make a plateau) in which it fell less than "
                       f"{tolerance:.3g} ({PLATEAU_TOLERANCE:.0%}, its noise or a tenth of the "
                       f"training loss's fall) to {end:.3g}, "
                       f"while training loss fell {training_fall:.0%} more, to {train_end:.3g}; "
                       f"{effect:.0%} above its minimum per epoch on average", effect=effect)
    return None


def check_overfitting(loss, val_loss, markers, baseline_loss=None):
    """Validation loss rises from its minimum, or stops improving, while training loss keeps falling."""
    window = end_window(len(val_loss), END_FRACTION, END_MIN_EPOCHS)
    smoothed, train_smoothed = running_median(val_loss), running_median(loss)
    if min(train_smoothed) <= 0:
        return None
    # A validation loss that never got clearly below guessing learned nothing that carries over to
    # new data, so there is nothing to overfit from: that is underfitting (check_underfitting).
    if baseline_loss and min(smoothed) > UNDERFITTING_NEAR_BASELINE * baseline_loss:
        return None
    return (_check_rising(loss, val_loss, markers, smoothed, train_smoothed, window)
            or _check_plateau(loss, val_loss, markers, smoothed, train_smoothed, window))


def _fall(values):
    """Return how far a curve fell from epoch 1 to its smoothed minimum (a fraction), and that minimum."""
    start, lowest = values[0], min(running_median(values))
    return ((start - lowest) / abs(start) if start else 0.0), lowest


def check_underfitting(loss, val_loss, markers, baseline_loss=None):
    """Both losses stay where they started, or (with a baseline) both stay near it without a gap."""
    (training_fall, training_low), (validation_fall, validation_low) = _fall(loss), _fall(val_loss)
    if validation_fall < UNDERFITTING_VALIDATION_FALL and training_fall < UNDERFITTING_FALL:
        return Finding(f"validation loss fell only {validation_fall:.0%} (to {validation_low:.3g}, "
                       f"{UNDERFITTING_VALIDATION_FALL:.0%} needed) and training loss only "
                       f"{training_fall:.0%} (to {training_low:.3g}, {UNDERFITTING_FALL:.0%} needed) "
                       f"from their first epoch (minima of the smoothed curves)")
    if baseline_loss:
        window = end_window(len(loss), END_FRACTION, END_MIN_EPOCHS)
        best, train_end = min(running_median(val_loss)), end_level(loss, window)
        limit = UNDERFITTING_BASELINE_FRACTION * baseline_loss
        share = (f"the best validation loss, {best:.3g}, is still {best / baseline_loss:.0%} of the "
                 f"{baseline_loss:.3g} of a model that learned nothing")
        if best > UNDERFITTING_NEAR_BASELINE * baseline_loss:
            return Finding(f"{share} (above {UNDERFITTING_NEAR_BASELINE:.0%}: hardly better than "
                           f"guessing on new data)")
        if best > limit and min(loss) > limit and train_end > (1 - UNDERFITTING_GAP) * best:
            return Finding(f"{share} (above {UNDERFITTING_BASELINE_FRACTION:.0%}), the lowest "
                           f"training loss {min(loss):.3g} is too, and the training loss ends at "
                           f"{train_end:.3g}, not clearly below validation (a gap would show a "
                           f"model that fits)")
    return None


def check_frozen_accuracy(val_accuracy):
    """A validation accuracy that never changes from the first epoch to the last (underfitting)."""
    if (len(val_accuracy) < MIN_EPOCHS or not all(map(math.isfinite, val_accuracy))
            or max(val_accuracy) - min(val_accuracy) > FROZEN_ACCURACY_TOLERANCE
            or not 0 < val_accuracy[0] < 1):
        return None
    return Finding(f"validation accuracy was {val_accuracy[0]:.4g} at every one of the "
                   f"{len(val_accuracy)} epochs: every validation example got the same answer "
                   f"all run long")


def spikes(values):
    """Return the 0-based indices of epochs whose loss jumps up above both neighbours and comes back."""
    # The range condition keeps jitter of a loss near zero (0.06 -> 0.08) from counting as a spike;
    # the noise condition keeps a noisy curve's ordinary wiggles from counting.
    needed = max(SPIKE_RANGE_FRACTION * robust_range(values), SPIKE_NOISE_MULTIPLE * noise(values))
    return [index for index in spike_candidates(values)
            if values[index] - max(values[index - 1:index + 2:2]) >= needed]


def check_spiky(loss, val_loss, markers, baseline_loss=None):
    """Epochs whose loss jumps well above both neighbours (by ratio, range and noise) and comes back."""
    descriptions, major, sizes = [], False, []
    for name, values, marker in (("validation", val_loss, "spikes"),
                                 ("training", loss, "training_spikes")):
        found = spikes(values)
        for index in found:
            markers.setdefault(marker, []).append(index + 1)
            neighbours = values[index - 1:index + 2:2]
            sizes.append((values[index] / max(neighbours) - 1, marker))
            descriptions.append(f"{name} loss jumped to {values[index]:.3g} at epoch {index + 1}, "
                                f"{values[index] / max(neighbours) - 1:.0%} above its neighbours")
            major = major or values[index] >= (1 + SPIKE_MAJOR_RATIO) * max(neighbours)
        major = major or len(found) * SPIKE_EPOCHS_PER_SPIKE >= len(values)
    if not descriptions:
        return None
    if not major:
        descriptions.append(f"isolated (fewer than one per {SPIKE_EPOCHS_PER_SPIKE} epochs, none "
                            f"{1 + SPIKE_MAJOR_RATIO:g}x its neighbours): a minor pattern")
    # Spikes of the validation loss lift it (above its neighbours) at their epochs only.
    lift = sum(size for size, marker in sizes if marker == "spikes") / len(val_loss)
    descriptions.append(f"validation spikes {lift:.0%} above their neighbours per epoch on "
                        f"average")
    return Finding("; ".join(descriptions), minor=not major, effect=SPIKE_EFFECT_WEIGHT * lift,
                   events=len(sizes))


def check_val_below_train(loss, val_loss, markers, baseline_loss=None):
    """Validation loss clearly below training loss over the last half of the run."""
    half = max(2, len(loss) // 2)
    training, validation = end_level(loss, half), end_level(val_loss, half)
    if training > 0 and validation <= (1 - VALIDATION_BELOW_MARGIN) * training:
        return Finding(f"over the last {half} epochs validation loss had a median of "
                       f"{validation:.3g}, {1 - validation / training:.0%} below the training "
                       f"loss's {training:.3g}", effect=1 - validation / training)
    return None


def convergence_window(epochs):
    """Return how many last epochs "still falling" is judged over (all but the first, at most)."""
    return min(epochs - 1, max(CONVERGENCE_MIN_EPOCHS, math.ceil(CONVERGENCE_FRACTION * epochs)))


def _still_falling(values, window, noise_gate):
    """Return (fall, level, drop, before) if ``values`` still fall over their last ``window``
    epochs by the not-converged rule, else None."""
    fall, level = fitted_fall(values[-window:]), end_level(values, window)
    drop = values[0] - min(values)
    error = fitted_fall_error(values[-window:]) if noise_gate else 0.0
    before = values[-2 * window:-window] if len(values) >= 2 * window else values[:-window]
    previous = fitted_fall(before) if len(before) >= 2 else 0.0
    fast = fall >= NOT_CONVERGED_FALL * level or fall >= NOT_CONVERGED_DROP_FRACTION * drop
    steady = fall >= NOT_CONVERGED_STEADY_FALL * level and fall >= NOT_CONVERGED_PACE * previous > 0
    if level <= 0 or drop <= 0 or fall <= NOISE_MULTIPLE * error or not (fast or steady):
        return None
    return fall, level, drop, error, len(before), previous


def still_falling(values):
    """Return True if a loss curve still falls at its end: the one definition of "still falling"
    (its opposite, "levelled off or rising"), the validation half of the not-converged rule.

    Over the last quarter of the run (at least 4 epochs, at most all but the first), a fitted
    straight line falls by more than twice its standard error, and by at least 10% of the curve's
    level or of its drop so far, or steadily (at least half the pace of the window before, by 4%
    of its level).
    """
    values = [float(value) for value in values]
    if len(values) < MIN_EPOCHS or not all(map(math.isfinite, values)):
        raise ValueError(f"values must be at least {MIN_EPOCHS} finite losses, got {values!r}")
    return _still_falling(values, convergence_window(len(values)), noise_gate=True) is not None


def check_not_converged(loss, val_loss, markers, baseline_loss=None):
    """Both losses still fall over the last part of the run: fast for their level or their drop, or
    steadily (not slowing down) by a fall that matters."""
    window = convergence_window(len(loss))
    parts, effects = [], []
    for name, values in (("training", loss), ("validation", val_loss)):
        found = _still_falling(values, window, noise_gate=name == "validation")
        if found is None:
            return None
        fall, level, drop, error, before, previous = found
        effects.append(fall / level)
        parts.append(f"{name} loss by {fall:.3g} ({fall / level:.0%} of its level {level:.3g}, "
                     f"{fall / drop:.0%} of its drop from epoch 1"
                     + (f", {fall / previous:.0%} of its fall over the {before} epochs before"
                        if previous > 0 else "")
                     + (f"; noise allows {NOISE_MULTIPLE * error:.2g})" if error else ")"))
    return Finding(f"over the last {window} epochs a fitted straight line still falls: "
                   + " and ".join(parts), effect=min(effects))


def healthy_evidence(loss, val_loss):
    """Return the numbers behind a healthy verdict: how far each loss fell, where validation was best."""
    best = min(range(len(val_loss)), key=val_loss.__getitem__) + 1
    (training_fall, _), (validation_fall, _) = _fall(loss), _fall(val_loss)
    return (f"training loss fell {training_fall:.0%} to {min(loss):.3g}, validation loss "
            f"{validation_fall:.0%} to {min(val_loss):.3g}; lowest validation loss at epoch {best}; "
            f"no other rule fired")


# The order of the checks after divergence: most serious first (see ``diagnose``).
CHECKS = (("overfitting", check_overfitting), ("underfitting", check_underfitting),
          ("spiky", check_spiky), ("val_below_train", check_val_below_train),
          ("not_converged", check_not_converged))
