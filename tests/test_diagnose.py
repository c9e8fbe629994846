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
    assert f"validation loss minimum at epoch {best}" in result.evidence[0]
    assert "rose" in result.evidence[0] and "training loss fell" in result.evidence[0]
    assert "04_overfitting" in result.advice


def test_spikes_are_marked():
    result = diagnose(SPIKY)
    assert result.markers["spikes"] == [6, 13]


def test_a_history_can_show_several_patterns():
    # Learning rate far too low: hardly learning (underfitting) yet still steadily falling.
    slow = {"loss": [2.30 * 0.97**e for e in range(10)],
            "val_loss": [2.29 * 0.97**e for e in range(10)]}
    result = diagnose(slow)
    assert result.pattern == "underfitting"
    assert "not_converged" in result.patterns


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
