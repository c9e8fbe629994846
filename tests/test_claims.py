import numpy as np
import pytest

from helpers import claims


def test_a_true_claim_prints_a_tick_and_its_numbers(capsys):
    assert claims.check("the validation loss rises", 0.405 > 0.312, best=0.312, last=0.405)
    assert capsys.readouterr().out == "✓ the validation loss rises (best 0.312, last 0.405)\n"
    assert claims.checked()[-1] == "the validation loss rises (best 0.312, last 0.405)"


def test_a_false_claim_raises_with_the_claim_and_the_numbers():
    with pytest.raises(AssertionError, match=r"NOT TRUE HERE: dropout cures it \(gap 0.250\)"):
        claims.check("dropout cures it", False, gap=0.25)
    assert "dropout cures it (gap 0.250)" not in claims.checked()


def test_numpy_comparisons_count_and_other_values_are_refused():
    assert claims.check("numpy says so", np.float64(1.0) < 2.0)
    with pytest.raises(ValueError, match="condition must be True or False"):
        claims.check("a value is not a comparison", 0.5)
    with pytest.raises(ValueError, match="claim must be a sentence"):
        claims.check("", True)


def test_print_checked_lists_every_claim_in_order(capsys):
    before = len(claims.checked())
    claims.check("first", True)
    claims.check("second", True, epochs=12, images=48_000)
    capsys.readouterr()
    assert claims.print_checked() == before + 2
    out = capsys.readouterr().out.splitlines()
    assert out[-2].endswith(". first") and out[-1].endswith(". second (epochs 12, images 48,000)")


def test_beyond_noise_compares_a_difference_with_the_seed_spread():
    assert claims.beyond_noise(-0.05, 0.02) and not claims.beyond_noise(0.01, 0.02)
    with pytest.raises(ValueError, match="spread"):
        claims.beyond_noise(0.1, -1)


def test_seed_band_is_the_per_epoch_range_over_seeds():
    from helpers.summary import seed_band

    band = seed_band({1: {"val_loss": [1.0, 0.5, 0.4]}, 2: {"val_loss": [0.8, 0.6, 0.3]}})
    assert band["mean"] == pytest.approx([0.9, 0.55, 0.35])
    assert band["min"] == [0.8, 0.5, 0.3] and band["max"] == [1.0, 0.6, 0.4]
    assert band["best_spread"] == pytest.approx(0.1)


def test_seed_spread_is_the_range_of_any_number_over_seeds():
    from helpers.summary import seed_spread

    runs = {1: {"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]},
            2: {"loss": [0.9, 0.3], "val_loss": [1.0, 0.6]},
            3: {"loss": [1.1, 0.4], "val_loss": [1.1, 0.8]}}
    assert seed_spread(runs, lambda run: run["val_loss"][-1]) == pytest.approx(0.3)
    assert seed_spread(runs, lambda run: run["val_loss"][-1] - run["loss"][-1]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="measure"):
        seed_spread(runs, "val_loss")
    with pytest.raises(ValueError, match="runs"):
        seed_spread({}, min)
