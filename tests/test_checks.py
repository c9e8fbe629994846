import numpy as np
import pytest

from helpers import checks


@pytest.mark.parametrize("call, message", [
    (lambda: checks.number("3", "rate"), "rate must be a number, got '3'"),
    (lambda: checks.number(True, "rate"), "rate must be a number, got True"),
    (lambda: checks.number(float("nan"), "rate", low=0), "rate must be a number of at least 0"),
    (lambda: checks.number(0, "rate", low=0, low_open=True), "rate must be a number above 0, got 0"),
    (lambda: checks.number(1, "dropout", 0, 1, high_open=True),
     "dropout must be a number from 0 to below 1, got 1"),
    (lambda: checks.number(2, "share", 0, 1), "share must be a number from 0 to 1, got 2"),
    (lambda: checks.integer(2.0, "epochs", low=1), "epochs must be an integer of at least 1"),
    (lambda: checks.integer(5, "blocks", 0, 3), "blocks must be an integer from 0 to 3, got 5"),
    (lambda: checks.positive_integer(0, "batch_size"), "batch_size must be an integer of at least 1"),
    (lambda: checks.one_of("adagrad", "optimizer", ("sgd", "adam")),
     "optimizer must be one of sgd, adam, got 'adagrad'"),
    (lambda: checks.non_empty_dict({}, "runs", "{name: history}"),
     "runs must be a non-empty dict {name: history}"),
    (lambda: checks.array([1, 2], "images"), "images must be a numpy array, got list"),
    (lambda: checks.same_length(np.zeros(3), np.zeros(2)), "same length, got 3 images and 2"),
    (lambda: checks.class_labels(np.array([0, 10]), "labels", 10), "labels must lie in 0..9"),
    (lambda: checks.images(np.zeros((2, 20, 20)), "x", (28, 28, 1)),
     r"x must have shape \(n, 28, 28, 1\) or \(n, 28, 28\), got \(2, 20, 20\)"),
    (lambda: checks.labels(np.zeros((4, 10)), "y", 4, sparse=True), "y is one-hot"),
])
def test_each_mistake_names_the_argument_and_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_good_values_are_returned_unchanged():
    assert checks.number(0.5, "dropout", 0, 1, high_open=True) == 0.5
    assert checks.integer(np.int64(3), "epochs", low=1) == 3
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    assert checks.images(images, "x", (28, 28, 1)) is images
    assert checks.one_of("adam", "optimizer", ("sgd", "adam")) == "adam"
