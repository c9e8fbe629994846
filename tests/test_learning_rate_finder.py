import numpy as np
import pytest

from helpers.learning_rate_finder import find_learning_rate
from helpers.models import build_cnn, compile_cnn
from helpers.training import set_seed


@pytest.fixture(scope="module")
def small_data(fashion_mnist):
    (images, labels), _ = fashion_mnist
    return images[:2000], labels[:2000]


def test_range_test_explodes_restores_the_model_and_suggests_a_sane_rate(small_data):
    set_seed(0)
    model = compile_cnn(build_cnn())
    before = [weights.copy() for weights in model.get_weights()]
    result = find_learning_rate(model, *small_data, start=1e-6, end=100.0, steps=120)
    assert result["stopped_early"]  # rates up to 100 blow Adam up
    assert len(result["learning_rates"]) == len(result["losses"]) < 120
    assert np.all(np.diff(result["learning_rates"]) > 0)
    assert 1e-5 < result["suggested_learning_rate"] < 1e-1
    assert result["suggested_learning_rate"] == pytest.approx(
        result["lowest_loss_learning_rate"] / 10)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert int(model.optimizer.iterations) == 0


def test_range_test_that_never_explodes_runs_all_its_steps(small_data):
    result = find_learning_rate(compile_cnn(build_cnn()), *small_data, start=1e-7, end=1e-5, steps=20)
    assert not result["stopped_early"] and len(result["losses"]) == 20


@pytest.mark.parametrize("arguments, message", [
    ({"start": 0}, "start must be a number above 0"),
    ({"start": 1.0, "end": 0.1}, "start must be below end"),
    ({"steps": 5}, "steps must be an integer of at least 10"),
    ({"steps": 20.5}, "steps must be an integer"),
    ({"batch_size": 5000}, "batch_size=5000 is larger than the 2000 images"),
])
def test_bad_arguments_are_refused(small_data, arguments, message):
    with pytest.raises(ValueError, match=message):
        find_learning_rate(compile_cnn(build_cnn()), *small_data, **arguments)


def test_an_uncompiled_model_is_refused(small_data):
    with pytest.raises(ValueError, match="model must be compiled"):
        find_learning_rate(build_cnn(), *small_data)
