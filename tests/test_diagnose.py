import math

import numpy as np
import pytest

from helpers.diagnose import PATTERNS, diagnose

EPOCHS = np.arange(1, 21)


def curve(start, end, rate=0.3):
    """A loss falling exponentially from start towards end."""
    return list(end + (start - end) * np.exp(-rate * (EPOCHS - 1)))


HEALTHY = {"loss": curve(1.0, 0.30), "val_loss": [v + 0.03 for v in curve(1.0, 0.30)]}
OVERFITTING = {
    "loss": curve(1.0, 0.05),
    "val_loss": list(np.minimum(curve(1.0, 0.30), 0.36) + 0.02 * np.maximum(EPOCHS - 7, 0)),
}
UNDERFITTING = {"loss": curve(2.30, 2.05), "val_loss": curve(2.28, 2.06)}
SPIKY = {"loss": curve(1.0, 0.3),
         "val_loss": [v * (2.0 if epoch in (6, 13) else 1.0)
                      for epoch, v in zip(EPOCHS, curve(1.05, 0.32))]}
DIVERGED = {"loss": [1.0, 0.8, 0.9, 2.5, 9.0, math.nan], "val_loss": [1.0, 0.85, 1.2, 4.0, 20, math.nan]}
VAL_BELOW = {"loss": curve(1.0, 0.40), "val_loss": [0.8 * v for v in curve(1.0, 0.40)]}
NOT_CONVERGED = {"loss": curve(2.0, 0.1, rate=0.1)[:8], "val_loss": curve(2.1, 0.2, rate=0.1)[:8]}


@pytest.mark.parametrize("history, expected", [
    (HEALTHY, "healthy"), (OVERFITTING, "overfitting"), (UNDERFITTING, "underfitting"),
    (SPIKY, "spiky"), (DIVERGED, "diverged"), (VAL_BELOW, "val_below_train"),
    (NOT_CONVERGED, "not_converged"),
])
def test_each_pattern_is_named(history, expected):
    result = diagnose(history)
    assert result.pattern == expected, str(result)
    assert result.patterns[0] == expected and set(result.patterns) <= set(PATTERNS)
    assert result.explanation and result.advice and result.evidence


def test_overfitting_evidence_names_the_epochs_and_numbers():
    result = diagnose(OVERFITTING)
    best = int(np.argmin(OVERFITTING["val_loss"])) + 1
    assert result.markers["overfitting_start"] == best
    assert f"validation loss lowest at epoch {best}" in result.evidence[0]
    assert "rose" in result.evidence[0] and "training loss fell" in result.evidence[0]
    assert "04_overfitting" in result.advice


def test_spikes_are_marked():
    result = diagnose(SPIKY)
    assert result.markers["spikes"] == [6, 13]


def test_a_history_can_show_several_patterns():
    # Learning rate far too low: far above the 10-class baseline (underfitting), still falling.
    slow = {"loss": [2.30 * 0.97**e for e in range(10)],
            "val_loss": [2.29 * 0.97**e for e in range(10)]}
    result = diagnose(slow, baseline_loss=math.log(10))
    assert result.pattern == "underfitting"
    assert "not_converged" in result.patterns
    # Without the baseline, a steady 3% fall per epoch is only "not converged": falling 24% is
    # not "both stay where they started".
    assert diagnose(slow).pattern == "not_converged"


@pytest.mark.parametrize("epochs", [1, 2])
def test_too_short_to_tell(epochs):
    result = diagnose({"loss": [1.0, 0.5][:epochs], "val_loss": [1.1, 0.6][:epochs]})
    assert result.pattern == "too_short"
    assert "too short to tell" in result.explanation.lower()


def test_missing_validation_is_a_clear_error():
    with pytest.raises(ValueError, match="'val_loss'"):
        diagnose({"loss": [1.0, 0.8, 0.6]})


def test_nan_in_the_middle_is_divergence():
    result = diagnose({"loss": [1.0, 0.7, math.nan, 0.5], "val_loss": [1.0, 0.8, 0.7, 0.6]})
    assert result.pattern == "diverged" and result.markers["diverged_at"] == 3
    assert "epoch 3" in result.evidence[0]


def test_constant_losses_are_underfitting():
    assert diagnose({"loss": [0.7] * 6, "val_loss": [0.7] * 6}).pattern == "underfitting"


def test_acc_and_accuracy_keys_do_not_matter():
    with_old_keys = dict(HEALTHY, acc=[0.5] * 20, val_acc=[0.5] * 20)
    assert diagnose(with_old_keys).pattern == "healthy"


def test_lists_of_different_lengths_are_a_clear_error():
    with pytest.raises(ValueError, match="same length"):
        diagnose({"loss": [1.0, 0.8, 0.6], "val_loss": [1.0, 0.9]})


def test_thresholds_are_scale_free():
    scaled = {key: [1000 * v for v in values] for key, values in OVERFITTING.items()}
    assert diagnose(scaled).pattern == "overfitting"
    scaled = {key: [0.001 * v for v in values] for key, values in SPIKY.items()}
    assert diagnose(scaled).pattern == "spiky"


def test_keras_history_object_is_accepted():
    class KerasLikeHistory:
        history = OVERFITTING

    assert diagnose(KerasLikeHistory()).pattern == "overfitting"


def test_text_report_lists_everything():
    text = str(diagnose(OVERFITTING))
    assert text.startswith("Diagnosis: overfitting") and "Advice:" in text


def test_jitter_of_a_loss_near_zero_is_not_a_spike():
    loss = [1.2, 0.6, 0.3, 0.15, 0.08, 0.05, 0.06, 0.045, 0.062]
    result = diagnose({"loss": loss, "val_loss": [1.2, 0.7, 0.5, 0.45, 0.43, 0.42, 0.42,
                                                  0.41, 0.41]})
    assert "spiky" not in result.patterns


def test_a_plateau_far_above_the_baseline_is_underfitting():
    # Strong L2: the loss falls a lot from a huge start, then stays near the do-nothing level.
    history = {"loss": [13.3, 2.97, 2.26, 2.06, 1.99, 1.94, 1.93, 1.9],
               "val_loss": [4.14, 2.31, 2.02, 1.92, 1.87, 1.87, 1.85, 1.84]}
    assert diagnose(history).pattern != "underfitting"
    result = diagnose(history, baseline_loss=math.log(10))
    assert result.pattern == "underfitting" and "learned nothing" in result.evidence[0]
    from helpers.history import History

    stored = History(metrics=history, info={"baseline_loss": math.log(10)})
    assert diagnose(stored).pattern == "underfitting"
    assert diagnose(HEALTHY, baseline_loss=math.log(10)).pattern == "healthy"
    with pytest.raises(ValueError, match="baseline_loss"):
        diagnose(HEALTHY, baseline_loss=-1)


def test_a_nan_in_the_first_epoch_is_divergence_not_too_short():
    result = diagnose({"loss": [math.nan], "val_loss": [math.nan]})
    assert result.pattern == "diverged" and result.markers["diverged_at"] == 1


def test_an_explosion_that_comes_back_to_chance_is_divergence():
    # Huge weights: the loss explodes in epoch 1, then the dead network sits at chance level.
    history = {"loss": [2.3e18] + [2.30] * 5, "val_loss": [2.30] * 6}
    result = diagnose(history, baseline_loss=math.log(10))
    assert result.pattern == "diverged" and "exploded" in result.evidence[0]


def test_one_huge_spike_that_recovers_is_spiky_not_diverged():
    history = {"loss": [2.14, 1.35, 1.01, 1.09, 0.85, 0.83, 0.94, 0.8, 0.91, 0.82],
               "val_loss": [1.87, 1.2, 10.09, 0.8, 0.7, 0.8, 0.82, 0.89, 0.83, 0.86]}
    result = diagnose(history, baseline_loss=math.log(10))
    assert result.pattern == "spiky" and result.markers["spikes"] == [3]


# Rules that hold on real curves (issue 12). Each test below is a shape that the earlier rules
# got wrong on real histories; the numbers are made up to have that shape.
RNG = np.random.default_rng(12)


def noisy(values, relative_noise):
    """The values with Gaussian noise of a given fraction of each value."""
    return list(np.asarray(values) * (1 + relative_noise * RNG.standard_normal(len(values))))


def test_a_validation_plateau_while_training_keeps_falling_is_overfitting():
    epochs = np.arange(100)
    loss = list(0.3 + 1.5 * np.exp(-epochs / 8) - 0.002 * epochs)  # keeps falling, 1.8 -> 0.1
    val_loss = noisy(0.75 + 1.1 * np.exp(-epochs / 5), 0.02)  # flat at ~0.75 from epoch ~20
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "overfitting", str(result)
    assert "has not improved since epoch" in result.evidence[0]
    assert 10 <= result.markers["overfitting_start"] <= 40
    # The same validation curve with a training loss that levels off too is not overfitting.
    flat_training = list(0.3 + 1.5 * np.exp(-epochs / 4))
    assert diagnose({"loss": flat_training, "val_loss": val_loss}).pattern != "overfitting"


def test_one_late_low_epoch_does_not_cancel_a_clear_rise():
    loss = list(np.linspace(1.0, 0.1, 30))
    val_loss = [0.9, 0.7, 0.6, 0.55, 0.5] + list(np.linspace(0.5, 0.9, 24)) + [0.52]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "overfitting" and result.markers["overfitting_start"] <= 6


def test_a_tiny_rise_on_a_wide_curve_is_not_overfitting():
    # Validation falls from 0.24 to 0.040 (a range of 0.2) and ends 0.004 above its minimum.
    val_loss = list(0.04 + 0.2 * np.exp(-np.arange(20) / 3))[:17] + [0.0425, 0.043, 0.044]
    loss = list(0.03 + 0.2 * np.exp(-np.arange(20) / 3) - 0.0005 * np.arange(20))
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert "overfitting" not in result.patterns, str(result)


def test_a_long_run_still_falling_one_percent_per_epoch_is_not_converged():
    epochs = np.arange(150)
    still_falling = 2.0 * 0.99**epochs
    result = diagnose({"loss": list(still_falling), "val_loss": list(1.05 * still_falling)})
    assert result.pattern == "not_converged", str(result)
    levelled_off = 0.3 + 1.7 * np.exp(-epochs / 15)
    assert diagnose({"loss": list(levelled_off), "val_loss": list(levelled_off + 0.02)}).pattern == "healthy"


def test_noise_at_the_end_of_a_short_run_is_not_still_falling():
    # Flat at 0.5 +- 4% after epoch 4: the last epochs happen to fall by about the noise.
    loss = [1.2, 0.8, 0.6, 0.52, 0.5, 0.51, 0.49, 0.52, 0.5, 0.48]
    val_loss = [1.1, 0.8, 0.62, 0.55, 0.53, 0.56, 0.52, 0.55, 0.53, 0.51]
    assert "not_converged" not in diagnose({"loss": loss, "val_loss": val_loss}).patterns


def test_a_loss_that_leaves_its_minimum_for_good_has_diverged():
    # Climbs 9x from its minimum for six epochs but stays below its huge first value.
    loss = [50.0, 5.0, 1.0, 0.6, 0.5, 1.8, 3.0, 4.5, 4.4, 4.6, 4.5]
    val_loss = [40.0, 4.0, 1.1, 0.7, 0.6, 2.0, 3.5, 5.0, 4.8, 5.1, 5.0]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "diverged", str(result)
    assert result.markers["diverged_at"] == 6 and "stayed above 3x" in result.evidence[0]


def test_validation_tripling_while_training_keeps_falling_is_overfitting_not_divergence():
    loss = list(np.linspace(1.0, 0.02, 20))
    val_loss = [1.0, 0.6, 0.4, 0.3] + list(np.linspace(0.35, 1.2, 16))
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "overfitting", str(result)


def test_an_exploded_first_epoch_is_skipped():
    # Epoch 1 at 3.7e5, then both flat at the entropy of the class split: learned nothing.
    loss = [3.7e5] + [0.6886, 0.6885, 0.6886, 0.6885, 0.6884] * 4
    val_loss = [0.6889, 0.6887, 0.6888, 0.6887, 0.6886] * 4 + [0.6887]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "underfitting", str(result)
    assert "is an outlier" in result.evidence[0]


def test_a_batch_norm_first_validation_epoch_does_not_hide_a_later_spike():
    loss = list(np.linspace(1.0, 0.4, 12))
    val_loss = [8.0, 1.0, 0.85, 0.75, 0.7, 1.2, 0.66, 0.64, 0.62, 0.6, 0.59, 0.58]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.markers.get("spikes") == [6], str(result)


def test_one_spike_in_a_long_run_is_minor_and_noise_is_no_spike():
    epochs = np.arange(200)
    loss = list(0.4 + np.exp(-epochs / 10))
    smooth_val = 0.45 + np.exp(-epochs / 10)
    one_spike = list(smooth_val)
    one_spike[120] *= 1.3
    result = diagnose({"loss": loss, "val_loss": one_spike})
    assert result.pattern == "healthy" and result.patterns == ["healthy", "spiky"], str(result)
    assert "minor" in result.evidence[-1]
    wiggly = noisy(smooth_val, 0.08)  # +-8% noise: an epoch 25% up is nothing special here
    assert diagnose({"loss": loss, "val_loss": wiggly}).pattern == "healthy"


def test_several_patterns_primary_is_the_most_serious():
    history = {key: list(values) for key, values in OVERFITTING.items()}
    history["val_loss"][10] *= 2.5  # one big spike on top of overfitting
    result = diagnose(history)
    assert result.patterns[:2] == ["overfitting", "spiky"], str(result)
    assert len(result.evidence) == len(result.patterns)


def test_a_good_model_on_a_hard_data_set_is_not_underfitting():
    # 7 classes, best validation loss 0.6 x ln 7, training loss well below it: it learned.
    epochs = np.arange(30)
    loss = list(0.5 + 1.4 * np.exp(-epochs / 6))
    val_loss = list(1.15 + 0.8 * np.exp(-epochs / 5))
    assert diagnose({"loss": loss, "val_loss": val_loss}, baseline_loss=math.log(7)).pattern != "underfitting"
    # Training loss stuck at the validation loss, both far above the baseline: underfitting.
    stuck = list(1.5 + 0.8 * np.exp(-epochs / 3))
    result = diagnose({"loss": stuck, "val_loss": stuck}, baseline_loss=math.log(10))
    assert result.pattern == "underfitting" and "not clearly below validation" in result.evidence[0]


def test_a_high_floor_loss_is_not_underfitting_but_a_flat_validation_loss_is():
    # A regression loss that falls 20% and levels off: the noise floor, not underfitting.
    epochs = np.arange(25)
    loss = list(0.8 + 0.2 * np.exp(-epochs / 3))
    val_loss = list(0.82 + 0.2 * np.exp(-epochs / 3))
    assert diagnose({"loss": loss, "val_loss": val_loss}).pattern == "healthy"
    # Validation flat from epoch 1 and training hardly moving: nothing learned that carries over.
    flat = [0.345, 0.347, 0.346, 0.345, 0.349, 0.346, 0.347, 0.345, 0.346, 0.348] * 2
    slow = list(1.17 - 0.16 * (1 - np.exp(-epochs[:20] / 4)))
    result = diagnose({"loss": slow, "val_loss": flat})
    assert result.pattern == "underfitting" and "val_below_train" in result.patterns


def test_the_validation_below_training_explanation_names_every_cause():
    text = diagnose(VAL_BELOW).explanation
    for cause in ("dropout", "augmentation", "batch norm", "easier", "leak", "half-epoch"):
        assert cause in text, cause


def test_diagnosis_to_dict_is_plain_json():
    import json

    data = json.loads(json.dumps(diagnose(SPIKY).to_dict()))
    assert data["pattern"] == "spiky" and data["markers"]["spikes"] == [6, 13]


def test_validation_stuck_near_the_baseline_is_underfitting_whatever_the_training_loss():
    # Batch normalization in a short run (09_techniques): training learns, validation stays at
    # guessing. Without the baseline the curves alone do not say it.
    history = {"loss": [1.215, 0.623, 0.509, 0.416, 0.35, 0.309],
               "val_loss": [2.065, 2.129, 2.195, 2.234, 2.174, 2.251]}
    result = diagnose(history, baseline_loss=math.log(10))
    assert result.pattern == "underfitting" and "hardly better than guessing" in result.evidence[0]
