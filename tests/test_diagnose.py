import json
import math
from pathlib import Path

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
    rising = [0.5 + 0.01 * epoch for epoch in range(20)]
    with_old_keys = dict(HEALTHY, acc=rising, val_acc=rising)
    assert diagnose(with_old_keys).pattern == "healthy"


def test_a_validation_accuracy_that_never_changes_is_underfitting():
    frozen = dict(HEALTHY, val_accuracy=[0.2] * 20)
    result = diagnose(frozen)
    assert result.pattern == "underfitting", result
    assert "validation accuracy was 0.2 at every one of the 20 epochs" in str(result)
    # Left out: a regression's meaningless accuracy of 0, a perfect one, one that moved once.
    for values in ([0.0] * 20, [1.0] * 20, [0.2] * 19 + [0.25]):
        assert diagnose(dict(HEALTHY, val_accuracy=values)).pattern == "healthy", values


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
    # The same validation curve with a training loss that levels off too is not overfitting...
    flat_training = list(0.3 + 1.5 * np.exp(-epochs / 4))
    assert diagnose({"loss": flat_training, "val_loss": val_loss}).pattern != "overfitting"
    # ...and it takes a training loss falling by a fifth or more during the plateau.
    for fall, expected in ((0.10, "healthy"), (0.30, "overfitting")):
        training = 0.5 + 1.3 * np.exp(-epochs / 4) - fall * 0.5 * np.clip((epochs - 20) / 79, 0, 1)
        assert diagnose({"loss": list(training), "val_loss": val_loss}).pattern == expected, fall


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


def test_a_loss_still_falling_fast_for_its_level_is_not_converged():
    # The last 4 epochs fall by 20-30% of the level but under 10% of the drop from epoch 1.
    epochs = np.arange(10)
    loss, val_loss = 0.4 + 2.5 * np.exp(-0.4 * epochs), 0.45 + 1.5 * np.exp(-0.35 * epochs)
    result = diagnose({"loss": list(loss), "val_loss": list(val_loss)})
    assert result.pattern == "not_converged" and "of its level" in result.evidence[0], str(result)


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


def test_a_noisy_curves_ordinary_wiggles_are_not_spikes():
    from helpers.diagnose.rules import spikes

    epochs = np.arange(40)
    wiggly = (0.5 + np.exp(-epochs / 5)) * (1 + 0.15 * np.random.default_rng(4).standard_normal(40))
    assert spikes(list(wiggly)) == []


def test_several_patterns_primary_is_the_most_serious():
    history = {key: list(values) for key, values in OVERFITTING.items()}
    history["val_loss"][10] *= 2.5  # one big spike on top of overfitting
    result = diagnose(history)
    assert result.patterns[:2] == ["overfitting", "spiky"], str(result)
    assert len(result.evidence) == len(result.patterns)


def test_a_good_model_on_a_hard_data_set_is_not_underfitting():
    # 7 classes, best validation loss 0.57 x ln 7, training loss 0.41 x ln 7: both above 35% of
    # the baseline, but training is clearly below validation: the model learned.
    epochs = np.arange(30)
    loss = list(0.8 + 1.4 * np.exp(-epochs / 6))
    val_loss = list(1.1 + 0.9 * np.exp(-epochs / 5))
    assert diagnose({"loss": loss, "val_loss": val_loss}, baseline_loss=math.log(7)).pattern == "healthy"
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
    data = json.loads(json.dumps(diagnose(SPIKY).to_dict()))
    assert data["pattern"] == "spiky" and data["markers"]["spikes"] == [6, 13]


def test_validation_stuck_near_the_baseline_is_underfitting_whatever_the_training_loss():
    # Batch normalization in a short run (10_techniques): training learns, validation stays at
    # guessing. Without the baseline the curves alone do not say it.
    history = {"loss": [1.215, 0.623, 0.509, 0.416, 0.35, 0.309],
               "val_loss": [2.065, 2.129, 2.195, 2.234, 2.174, 2.251]}
    result = diagnose(history, baseline_loss=math.log(10))
    assert result.pattern == "underfitting" and "hardly better than guessing" in result.evidence[0]


# The recipes' own runs: quick mode, seed 42, recorded while notebooks 03-11 ran (at commit
# d622856), each with what its notebook asserts about diagnose(). (run, check, expected, whether
# train() recorded the baseline ln 10, training losses, validation losses; 6 significant digits.)
RECIPE_RUNS = [
    ('03 small run, no dropout', '==', 'overfitting', True,
     ('1.07478 0.55527 0.476215 0.401966 0.317137 0.261601 0.258563 0.206812 0.164653 0.162127 '
      '0.0983237 0.110437 0.0901988 0.0608917 0.083485'),
     ('0.615572 0.464977 0.56018 0.416866 0.391344 0.41992 0.491307 0.462297 0.452063 0.434707 '
      '0.560643 0.544694 0.510137 0.633358 0.552762')),
    ('03 main run', 'in', ('healthy', 'not_converged', 'val_below_train'), True,
     '1.25975 0.759723 0.64267 0.581973',
     '0.725295 0.608858 0.541664 0.503971'),
    ('04 overfitting recipe', '==', 'overfitting', True,
     ('1.46122 0.786129 0.592479 0.573333 0.463253 0.406674 0.391166 0.321433 0.281113 0.24023 '
      '0.224406 0.244336 0.196019 0.22124 0.159954 0.120752 0.099587 0.0848025 0.0796086 0.0623578'),
     ('1.07685 0.752373 0.666245 0.646108 0.678404 0.676417 0.629628 0.658367 0.643783 0.659093 '
      '0.646747 0.724834 0.715399 0.71206 0.695579 0.692126 0.805571 0.786089 0.765208 0.769948')),
    ('04 augmentation', '!=', 'overfitting', True,
     ('1.80771 1.12611 0.934401 0.85722 0.814703 0.752394 0.718358 0.692006 0.667379 0.639397 '
      '0.663451 0.61986 0.634711 0.618091 0.570536 0.550517 0.544633 0.554679 0.50566 0.528579'),
     ('1.28963 0.964195 0.894555 0.852839 0.793616 0.822168 0.745379 0.741068 0.72619 0.811324 '
      '0.743127 0.766674 0.727379 0.664886 0.700827 0.715605 0.779801 0.662406 0.73591 0.707373')),
    ('04 early stopping, kept part', '!=', 'overfitting', False,
     '1.46122 0.786129 0.592479 0.573333 0.463253 0.406674 0.391166',
     '1.07685 0.752373 0.666245 0.646108 0.678404 0.676417 0.629628'),
    ('04 more data', '==', 'overfitting', True,
     ('1.1742 0.611596 0.531189 0.454186 0.372546 0.334195 0.296546 0.254748 0.220311 0.216325 '
      '0.161783 0.152839 0.125647 0.110531 0.106209 0.0947217 0.0588694 0.044333 0.0444556 '
      '0.0346999'),
     ('0.663704 0.503615 0.568791 0.448495 0.432079 0.411514 0.45443 0.398227 0.412505 0.375235 '
      '0.461383 0.471357 0.442789 0.51265 0.51357 0.451921 0.466543 0.528062 0.525924 0.530642')),
    ('04 dropout + augmentation', '!=', 'overfitting', True,
     ('1.96054 1.30401 1.0688 0.918907 0.8374 0.866451 0.788315 0.75771 0.727314 0.69911 0.75283 '
      '0.673139 0.723197 0.682153 0.666562 0.633524 0.624423 0.632855 0.599147 0.601376'),
     ('1.40323 0.978243 0.844476 0.80901 0.790965 0.789294 0.768956 0.773601 0.719505 0.74269 '
      '0.713714 0.736126 0.700267 0.724404 0.701714 0.711666 0.733201 0.66267 0.69552 0.691226')),
    ('05 healthy recipe', '==', 'healthy', True,
     '1.38353 0.76282 0.639649 0.57785 0.516609 0.477859 0.437007 0.412692 0.38859 0.37023',
     '0.756659 0.618816 0.56196 0.510345 0.492015 0.469757 0.465954 0.460038 0.432718 0.451786'),
    ('05 too small', '==', 'underfitting', True,
     '2.22984 2.10856 1.9915 1.89277 1.81079 1.73462 1.65963 1.59557 1.53945 1.49191',
     '2.15158 2.02731 1.92395 1.82748 1.75676 1.68425 1.61692 1.56298 1.51428 1.48932'),
    ('05 dense 128', '!=', 'underfitting', True,
     '1.09081 0.671283 0.563524 0.507293 0.479173 0.451103 0.424491 0.395204 0.37369 0.356057',
     '0.712642 0.64774 0.556631 0.539648 0.502892 0.618242 0.500452 0.530263 0.535815 0.509627'),
    ('05 learning rate 1e-6', '==', 'underfitting', True,
     '2.30084 2.29859 2.29771 2.29528',
     '2.30141 2.29924 2.29706 2.29484'),
    ('05 learning rate 3e-4', '!=', 'underfitting', True,
     '1.89972 1.05615 0.817579 0.739559 0.675946 0.630084 0.598163 0.588334 0.540983 0.535238',
     '1.21055 0.772829 0.655999 0.621077 0.598526 0.576894 0.555978 0.552064 0.523894 0.533278'),
    ('05 L2 0.1', '==', 'underfitting', True,
     '14.4976 3.23692 2.25562 2.04237 1.9442 1.90048',
     '4.87411 2.40645 2.02193 1.90467 1.87004 1.80345'),
    ('05 L2 1e-4', '!=', 'underfitting', True,
     '1.40901 0.793115 0.670253 0.605399 0.544582 0.506138 0.469729 0.448223 0.421959 0.406235',
     '0.793934 0.653053 0.591002 0.541721 0.524311 0.501938 0.495476 0.487034 0.466572 0.476587'),
    ('05 two epochs', '==', 'too_short', True,
     '1.38353 0.76282',
     '0.756659 0.618816'),
    ('06 spiky recipe', '==', 'spiky', True,
     '1.56051 0.935907 0.76978 1.67231 0.953901 0.87487 0.840456 0.889064 0.793328 0.754868',
     '0.791438 0.671815 0.551177 0.764766 0.672245 0.648631 0.634178 0.706075 0.625342 0.59618'),
    ('06 peaks of 10x', 'not in patterns', 'spiky', True,
     '1.56051 0.935907 0.76978 0.844896 0.635925 0.563415 0.54165 0.618883 0.495933 0.469568',
     '0.791438 0.671815 0.551177 0.641946 0.516476 0.490382 0.461837 0.473401 0.437734 0.417722'),
    ('06 constant rate', 'not in patterns', 'spiky', True,
     '1.56051 0.935907 0.76978 0.699066 0.646158 0.615022 0.59169 0.549233 0.518395 0.491235',
     '0.791438 0.671815 0.551177 0.540791 0.533212 0.505364 0.481249 0.440049 0.444225 0.422997'),
    ('06 diverged recipe (NaN)', '==', 'diverged', True,
     'nan',
     'nan'),
    ('06 huge learning rate', '==', 'diverged', True,
     '289682 2.33209 2.32371 2.32943 2.3287',
     '2.31498 2.31887 2.31297 2.3155 2.33014'),
    ('06 sane initialization', 'not in', ('diverged', 'underfitting'), True,
     '2.00881 1.34708 1.10511 0.986435 0.902142',
     '1.36752 1.04023 0.909175 0.87474 0.798774'),
    ('06 huge rate, clipped', '!=', 'diverged', True,
     '2.49647 2.33209 2.32371 2.32943 2.3287',
     '2.31498 2.31887 2.31297 2.3155 2.33014'),
    ('07 dropout 0.7', '==', 'val_below_train', True,
     '1.66293 1.0682 0.900911 0.796351 0.748505 0.690898 0.666018 0.647851 0.606322 0.593543',
     '0.898087 0.777181 0.672069 0.633867 0.608255 0.587856 0.570381 0.565055 0.531933 0.537264'),
    ('07 easier validation set', '==', 'val_below_train', True,
     '1.24577 0.679578 0.586543 0.520479 0.476941 0.441406 0.409739 0.383826 0.343196 0.325039',
     '0.452852 0.338187 0.32692 0.340197 0.254506 0.287796 0.272877 0.306236 0.26526 0.280923'),
    ('08 learning rate 1e-5', '==', 'underfitting', True,
     '2.29797 2.28699 2.27633 2.26207 2.25311 2.24073',
     '2.29711 2.28571 2.27406 2.26204 2.24957 2.23631'),
    ('08 suggested learning rate', '!=', 'underfitting', True,
     '1.37644 0.756454 0.655867 0.551406 0.503501 0.474713',
     '0.69377 0.585664 0.529274 0.497871 0.469593 0.41177'),
    ('08 dense 4, no convolutions', '==', 'underfitting', True,
     '2.26427 2.17773 2.12044 2.07077 2.02599 1.98564',
     '2.19665 2.12823 2.07536 2.03358 1.97998 1.93655'),
    ('08 zeros initialization', '==', 'underfitting', True,
     '2.30267 2.30261 2.30253 2.30252 2.30246 2.30245',
     '2.30291 2.30319 2.30333 2.30357 2.30378 2.30408'),
    ('08 tiny initialization', '==', 'underfitting', True,
     '2.30267 2.30261 2.30253 2.30252 2.30247 2.30245',
     '2.30292 2.3032 2.30333 2.30358 2.3038 2.30411'),
    ('08 huge initialization', '==', 'diverged', True,
     '1.22764e+12 1.21714e+12 1.20631e+12 1.15338e+12 1.1391e+12 1.12328e+12',
     '8.70897e+11 8.49822e+11 8.29879e+11 8.10758e+11 7.92276e+11 7.74596e+11'),
    ('08 he_normal', 'not in', ('underfitting', 'diverged'), True,
     '1.60168 0.915821 0.762919 0.67975 0.622005 0.59563',
     '0.763921 0.612773 0.55994 0.531645 0.48163 0.467753'),
    ('08 glorot_uniform', 'not in', ('underfitting', 'diverged'), True,
     '1.78089 1.03123 0.851678 0.725385 0.687031 0.639684',
     '0.954576 0.730651 0.618978 0.57216 0.526434 0.501352'),
    ('11 healthy recipe', '==', 'healthy', True,
     '1.31662 0.775157 0.651294 0.568618 0.539557 0.494358 0.456109 0.421909 0.401962 0.381634',
     '0.80563 0.764714 0.61952 0.607709 0.559435 0.537345 0.505448 0.510197 0.472611 0.478853'),
    ('11 overfitting recipe', '==', 'overfitting', True,
     ('1.46122 0.786129 0.592479 0.573333 0.463253 0.406674 0.391166 0.321433 0.281113 0.24023 '
      '0.224406 0.244336 0.196019 0.22124 0.159954 0.120752 0.099587 0.0848025 0.0796086 0.0623578'),
     ('1.07685 0.752373 0.666245 0.646108 0.678404 0.676417 0.629628 0.658367 0.643783 0.659093 '
      '0.646747 0.724834 0.715399 0.71206 0.695579 0.692126 0.805571 0.786089 0.765208 0.769948')),
    ('11 underfitting recipe', '==', 'underfitting', True,
     '2.22596 2.10451 2.02288 1.95751 1.87349 1.76137 1.64895 1.56606 1.50189 1.44334',
     '2.16989 2.0933 2.02965 1.97067 1.89216 1.77229 1.67995 1.60395 1.54398 1.48253'),
    ('11 spiky recipe', '==', 'spiky', True,
     '1.42872 0.872536 0.734153 1.08991 0.772259 0.694121 0.653896 0.776372 0.684127 0.621323',
     '0.793143 0.739369 0.64806 0.729986 0.665733 0.639285 0.628314 0.693099 0.61076 0.591409'),
    ('11 diverged recipe', '==', 'diverged', True,
     'nan',
     'nan'),
    ('11 diverged panel (exploding rate, quick mode)', '==', 'diverged', True,
     '289681.625 2.332 2.324 2.329 2.329',
     '2.315 2.319 2.313 2.316 2.33'),
    ('11 not_converged panel (full mode)', '==', 'not_converged', True,
     '1.063 0.627 0.524 0.471 0.428 0.4',
     '0.626 0.499 0.449 0.428 0.428 0.403'),
    ('11 val_below_train recipe', '==', 'val_below_train', True,
     '1.66293 1.0682 0.900911 0.796351 0.748505 0.690898 0.666018 0.647851 0.606322 0.593543',
     '0.898087 0.777181 0.672069 0.633867 0.608255 0.587856 0.570381 0.565055 0.531933 0.537264'),
]


@pytest.mark.parametrize("run, check, expected, with_baseline, loss, val_loss", RECIPE_RUNS,
                         ids=[run[0] for run in RECIPE_RUNS])
def test_the_recipes_runs_are_diagnosed_as_their_notebooks_assert(run, check, expected,
                                                                   with_baseline, loss, val_loss):
    history = {"loss": [float(value) for value in loss.split()],
               "val_loss": [float(value) for value in val_loss.split()]}
    result = diagnose(history, baseline_loss=math.log(10) if with_baseline else None)
    holds = {"==": result.pattern == expected, "!=": result.pattern != expected,
             "in": result.pattern in expected, "not in": result.pattern not in expected,
             "not in patterns": expected not in result.patterns}[check]
    assert holds, f"{run}: expected pattern {check} {expected}\n{result}"
    if run == "03 small run, no dropout":  # 03 asserts the marker is the best epoch
        assert result.markers["overfitting_start"] == history["val_loss"].index(min(history["val_loss"])) + 1
    if run == "06 spiky recipe":  # 06 asserts a spike is marked at epoch 4 or 8
        assert {4, 8} & set(result.markers.get("spikes", []) + result.markers.get("training_spikes", []))


@pytest.mark.parametrize("letter, expected", [("A", "overfitting"), ("B", "not_converged"),
                                              ("C", "healthy"), ("D", "diverged"),
                                              ("E", "overfitting"), ("F", "underfitting"),
                                              ("G", "spiky"), ("H", "val_below_train")])
def test_homework_3s_runs_are_diagnosed_as_its_answer_key(letter, expected):
    # homework/make_mystery_histories.py checks each run with the baseline that train() recorded.
    runs = json.loads((Path(__file__).parent.parent / "homework/data/mystery_histories.json").read_text())
    assert diagnose(runs[letter], baseline_loss=math.log(10)).pattern == expected


@pytest.mark.parametrize("loss, val_loss", [
    ([0.0] * 12, [0.0] * 12),  # a perfect fit from the start
    ([0.5] * 12, [1e-300, 1e-300, 0.5, 0.0, 1e300, 1e-300] * 2),  # absurd scales
    ([-0.1, -0.5, -0.9, -1.2, -1.4, -1.5], [0.2, 0.1, 0.05, 0.04, 0.04, 0.05]),  # negative losses
    ([1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0, 0.0]),  # zig-zag through zero
])
def test_degenerate_curves_get_a_verdict_not_a_crash(loss, val_loss):
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern in PATTERNS and str(result) and result.to_dict()


def test_repeated_big_spikes_outweigh_a_validation_plateau():
    # Validation plateaus at 0.3 while training keeps falling (plateau overfitting), but it also
    # jumps 3x above its neighbours every 5 epochs: the spikes lift it more, per epoch on
    # average, than the plateau does, so they are the main story.
    epochs = np.arange(40)
    loss = list(0.02 + 1.0 * np.exp(-epochs / 6))
    val_loss = list(0.3 + 0.8 * np.exp(-epochs / 3))
    quiet = diagnose({"loss": loss, "val_loss": val_loss})
    assert quiet.pattern == "overfitting" and "has not improved" in quiet.evidence[0], str(quiet)
    spiky = [value * (4.0 if epoch % 5 == 2 and epoch > 5 else 1.0) for epoch, value in enumerate(val_loss)]
    result = diagnose({"loss": loss, "val_loss": spiky})
    assert result.pattern == "spiky" and result.patterns[1] == "overfitting", str(result)
    assert "per epoch on average" in result.evidence[0]
    # A sustained rise outweighs one spike (test_several_patterns_primary_is_the_most_serious).


def test_the_bigger_of_validation_below_training_and_still_falling_is_primary():
    from helpers.diagnose import _main_story_first
    from helpers.diagnose.rules import Finding

    def primary(*found):
        return _main_story_first(list(found))[0][0]

    small_gap, big_fall = Finding("gap", effect=0.06), Finding("fall", effect=0.30)
    assert primary(("val_below_train", small_gap), ("not_converged", big_fall)) == "not_converged"
    big_gap, small_fall = Finding("gap", effect=0.30), Finding("fall", effect=0.06)
    assert primary(("val_below_train", big_gap), ("not_converged", small_fall)) == "val_below_train"
    # Patterns of different rival groups keep PATTERNS order.
    assert primary(("overfitting", small_gap), ("not_converged", big_fall)) == "overfitting"


def test_a_small_steady_rise_on_a_smooth_curve_is_overfitting():
    # Validation ends 6% above its (smoothed) minimum and keeps rising, far above its tiny epoch-to-epoch
    # noise, while training loss halves (a short run, like a CSVLogger log stopped early).
    loss = [0.63, 0.53, 0.45, 0.37, 0.29, 0.22, 0.16]
    val_loss = [0.563, 0.523, 0.495, 0.457, 0.47, 0.50, 0.53]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "overfitting" and result.markers["overfitting_start"] == 4, str(result)


def test_a_steady_fall_that_is_not_slowing_down_is_not_converged():
    # A fast first fall, then 45 epochs falling at a constant pace (0.5% of the level per epoch):
    # the last quarter falls less than 10% of the level and of the whole drop, but as fast as the
    # quarter before it, so the curve has not flattened.
    epochs = np.arange(50)
    loss = list(1.0 + 0.5 * np.exp(-epochs / 3) - 0.004 * epochs)
    val_loss = list(0.98 + 0.45 * np.exp(-epochs / 3) - 0.004 * epochs)
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "not_converged" and "epochs before" in result.evidence[0], str(result)
    # The tail of a long run creeping down by 2-3% of its level in its last quarter is converged,
    # even at a steady pace.
    epochs = np.arange(200)
    loss = list(0.2 + 1.5 * np.exp(-epochs / 15) - 0.0001 * epochs)
    val_loss = list(0.25 + 1.4 * np.exp(-epochs / 15) - 0.0001 * epochs)
    assert diagnose({"loss": loss, "val_loss": val_loss}).pattern == "healthy"


def test_a_short_plateau_counts_when_training_loss_halves_meanwhile():
    # 11 epochs: validation stops improving at epoch 4 (7 epochs, fewer than the usual 8) while
    # training loss falls to a fifth: a big effect needs less time to be sure of.
    loss = [1.49, 0.61, 0.35, 0.25, 0.21, 0.16, 0.12, 0.10, 0.08, 0.064, 0.053]
    val_loss = [0.85, 0.38, 0.276, 0.235, 0.231, 0.231, 0.233, 0.234, 0.232, 0.236, 0.234]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "overfitting" and "5 make a plateau" in result.evidence[0], str(result)
    # The same plateau while training loss falls by a third only is not (yet) overfitting.
    slower = [1.49, 0.61, 0.35, 0.25, 0.24, 0.23, 0.22, 0.21, 0.20, 0.19, 0.18]
    assert diagnose({"loss": slower, "val_loss": val_loss}).pattern != "overfitting"


@pytest.mark.parametrize("ratio, expected", [(0.93, "healthy"), (0.85, "val_below_train")])
def test_validation_below_training_needs_a_gap_of_a_tenth(ratio, expected):
    # 7% below is within what the half-epoch shift alone makes; 15% below is a story of its own.
    loss = curve(1.0, 0.40)
    result = diagnose({"loss": loss, "val_loss": [ratio * value for value in loss]})
    assert result.pattern == expected, str(result)


def test_a_plateau_is_not_overfitting_unless_training_ends_clearly_below_validation():
    # Validation stuck at 1.80 from the start; training comes down from 2.3 to that same level
    # (a model that learns next to nothing), not clearly below it.
    loss = [2.31, 2.05, 1.96, 1.94, 1.88, 1.83, 1.80, 1.79, 1.77]
    val_loss = [1.80, 1.86, 1.82, 1.80, 1.82, 1.80, 1.81, 1.80, 1.79]
    assert diagnose({"loss": loss, "val_loss": val_loss}).pattern != "overfitting"
    # Training falling on to a third below the stuck validation loss is plateau overfitting.
    lower = [2.31, 2.05, 1.96, 1.94, 1.80, 1.62, 1.45, 1.30, 1.18]
    assert diagnose({"loss": lower, "val_loss": val_loss}).pattern == "overfitting"


def test_infinite_first_epochs_followed_by_finite_ones_are_left_out_not_divergence():
    inf = math.inf
    loss = [inf, inf, inf] + curve(1.0, 0.30)[:12]
    val_loss = [inf, 4.8, 1.4] + [v + 0.03 for v in curve(1.0, 0.30)[:12]]
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern != "diverged" and "epochs 1-3 left out" in result.evidence[0], str(result)
    # NaN never recovers, and an infinity in the last epoch is a breakdown.
    assert diagnose({"loss": [math.nan] + loss[3:], "val_loss": val_loss[2:]}).pattern == "diverged"
    assert diagnose({"loss": loss[3:] + [inf], "val_loss": val_loss[3:] + [1.0]}).pattern == "diverged"


def test_a_training_loss_creeping_up_from_near_zero_is_not_divergence():
    # Notebook 04's overfitting recipe in full mode (seed 42): the training loss falls from 1.17 to
    # 0.011, then wobbles up to 0.063 (5x its minimum, still far below its typical level) while
    # validation rises.
    loss = [1.1742, 0.6116, 0.5312, 0.4542, 0.3725, 0.3342, 0.2965, 0.2547, 0.2203, 0.2163, 0.1618,
            0.1528, 0.1256, 0.1105, 0.1062, 0.0947, 0.0589, 0.0443, 0.0445, 0.0347, 0.0258, 0.0244,
            0.026, 0.012, 0.011, 0.0153, 0.0176, 0.0331, 0.0487, 0.0627]
    val_loss = [0.6637, 0.5036, 0.5688, 0.4485, 0.4321, 0.4115, 0.4544, 0.3982, 0.4125, 0.3752,
                0.4614, 0.4714, 0.4428, 0.5127, 0.5136, 0.4519, 0.4665, 0.5281, 0.5259, 0.5306,
                0.5401, 0.5892, 0.5764, 0.5771, 0.6154, 0.7009, 0.6202, 0.6509, 0.6763, 0.6205]
    result = diagnose({"loss": loss, "val_loss": val_loss}, baseline_loss=math.log(10))
    assert "diverged" not in result.patterns and result.pattern == "overfitting", result
    # The same shape scaled up, a loss that climbs back most of the way it fell, is a breakdown.
    climbed = loss[:26] + [0.4, 0.8, 1.0, 1.1]
    assert diagnose({"loss": climbed, "val_loss": val_loss}).pattern == "diverged"


def test_a_validation_loss_that_gains_little_while_training_falls_far_is_a_plateau():
    # Validation creeps from 0.135 to 0.129 (4%, more than the 3% tolerance) while training falls
    # from 0.10 to 0.03: next to the training loss's 70%, that is no real gain.
    history = {"loss": [0.32, 0.17, 0.13, 0.10, 0.08, 0.065, 0.055, 0.047, 0.04, 0.035, 0.03],
               "val_loss": [0.20, 0.17, 0.15, 0.135, 0.134, 0.133, 0.132, 0.131, 0.130, 0.1295,
                            0.129]}
    result = diagnose(history)
    assert result.pattern == "overfitting", result
    assert "a tenth of the training loss's fall" in result.evidence[0]
    # The same validation curve beside a training loss that falls only as much is no plateau.
    alongside = dict(history, loss=[value + 0.01 for value in history["val_loss"]])
    assert diagnose(alongside).pattern != "overfitting"


def test_one_spike_is_an_event_not_the_story_of_the_run():
    from helpers.diagnose import _main_story_first
    from helpers.diagnose.rules import Finding

    def order(*found):
        return [name for name, _ in _main_story_first(list(found))]

    plateau = ("overfitting", Finding("validation stopped improving", effect=0.02))
    one_spike = ("spiky", Finding("one jump", effect=0.09, events=1))
    two_spikes = ("spiky", Finding("two jumps", effect=0.09, events=2))
    # One spike never wins against overfitting, however big; two spikes weigh by their effect.
    assert order(plateau, one_spike) == ["overfitting", "spiky"]
    assert order(plateau, two_spikes) == ["spiky", "overfitting"]
    # One spike comes after a validation loss 40% or more below training, not after a smaller gap.
    wide = ("val_below_train", Finding("validation 50% below", effect=0.5))
    narrow = ("val_below_train", Finding("validation 25% below", effect=0.25))
    assert order(one_spike, wide) == ["val_below_train", "spiky"]
    assert order(one_spike, narrow) == ["spiky", "val_below_train"]
    assert order(two_spikes, wide) == ["spiky", "val_below_train"]


def test_a_spike_counts_twice_against_a_validation_plateau():
    # Two validation spikes of 60% in 30 epochs lift it 4% per epoch on average; the plateau
    # lifts it less than that but more than half of it: weighed twice, the spikes are the story.
    from helpers.diagnose.rules import SPIKE_EFFECT_WEIGHT, check_overfitting, check_spiky
    epochs = np.arange(30)
    loss = list(0.05 + 1.0 * np.exp(-epochs / 5))
    val_loss = list(0.30 + 0.6 * np.exp(-epochs / 3) + 0.004 * np.maximum(epochs - 12, 0))
    for epoch in (8, 20):
        val_loss[epoch] *= 1.6
    overfitting = check_overfitting(loss, val_loss, {})
    spikes = check_spiky(loss, val_loss, {})
    assert overfitting and spikes and spikes.events == 2
    lift = spikes.effect / SPIKE_EFFECT_WEIGHT
    assert lift < overfitting.effect < spikes.effect, (lift, overfitting.effect, spikes.effect)
    assert diagnose({"loss": loss, "val_loss": val_loss}).pattern == "spiky"


def test_a_last_epoch_jump_in_a_curve_whose_jumps_came_back_is_a_spike_not_divergence():
    loss = [0.1 + 0.7 * 0.8**epoch for epoch in range(20)]  # flat by the end
    val_loss = [0.7 * 0.93**epoch for epoch in range(20)]
    for epoch in (6, 11, 15):
        val_loss[epoch] *= 3.0  # jumps that come back
    val_loss[-1] = 4 * min(val_loss)  # the last epoch jumps too: its return is not recorded
    result = diagnose({"loss": loss, "val_loss": val_loss})
    assert result.pattern == "spiky" and 20 in result.markers["spikes"], str(result)
    # Without earlier jumps that came back, a last epoch far above a rising curve is a breakdown.
    rising = [0.8 * 0.9**epoch for epoch in range(15)] + [0.3, 0.5, 0.8, 1.2, 3.0]
    climbing = [0.7 * 0.93**epoch for epoch in range(15)] + [0.5, 0.8, 1.2, 1.8, 6.0]
    assert diagnose({"loss": rising, "val_loss": climbing}).pattern == "diverged"


def test_still_falling_is_the_validation_half_of_the_not_converged_rule():
    from helpers.diagnose import still_falling

    falling = [1.0, 0.8, 0.65, 0.54, 0.46, 0.40, 0.35, 0.31]
    flat = [1.0, 0.6, 0.45, 0.40, 0.39, 0.392, 0.389, 0.391]
    rising = [1.0, 0.6, 0.45, 0.40, 0.42, 0.45, 0.49, 0.52]
    assert still_falling(falling) and not still_falling(flat) and not still_falling(rising)
    assert diagnose({"loss": falling, "val_loss": falling}).pattern == "not_converged"
    assert diagnose({"loss": falling, "val_loss": flat}).pattern != "not_converged"
    with pytest.raises(ValueError, match="at least 3 finite losses"):
        still_falling([1.0, float("nan"), 0.5])
