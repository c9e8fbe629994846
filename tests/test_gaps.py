import pytest

from helpers.gaps import describe_gap, gap, wider

RUN = {"loss": [1.2, 0.6, 0.3], "val_loss": [0.9, 0.55, 0.5]}


def test_a_gap_is_validation_minus_training_and_says_which_is_above():
    assert gap(RUN, 1) == pytest.approx(-0.3) and gap(RUN, 3) == pytest.approx(0.2)
    assert describe_gap(gap(RUN, 1)) == "validation below training by 0.300"
    assert describe_gap(gap(RUN, 3)) == "validation above training by 0.200"
    assert describe_gap(0.0) == "validation equal to training"


def test_wider_compares_distances_not_signed_gaps():
    assert not wider(-0.14, -0.09)  # the signed gap rose, but the curves came closer
    assert wider(-0.14, 0.2) and wider(0.1, -0.2) and not wider(0.3, 0.1)


def test_bad_epochs_and_values_are_refused():
    with pytest.raises(ValueError, match="epoch must be an integer from 1 to 3"):
        gap(RUN, 4)
    with pytest.raises(ValueError, match="value must be a number"):
        describe_gap("0.1")
