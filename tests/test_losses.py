import keras
import numpy as np
import pytest

from helpers import losses

RNG = np.random.default_rng(0)


def keras_values(function, *arguments, **options):
    return keras.ops.convert_to_numpy(function(*arguments, **options))


@pytest.mark.parametrize("ours, theirs", [
    (losses.mean_squared_error, keras.losses.mean_squared_error),
    (losses.mean_absolute_error, keras.losses.mean_absolute_error),
])
def test_regression_losses_match_keras(ours, theirs):
    y_true, y_pred = RNG.normal(size=(50, 4)), RNG.normal(scale=3, size=(50, 4))
    np.testing.assert_allclose(ours(y_true, y_pred),
                               keras_values(theirs, y_true.astype("float32"),
                                            y_pred.astype("float32")), rtol=1e-5)


@pytest.mark.parametrize("delta", [0.1, 1.0, 2.5])
def test_huber_matches_keras(delta):
    y_true, y_pred = RNG.normal(size=(50, 3)), RNG.normal(scale=3, size=(50, 3))
    expected = keras_values(keras.losses.huber, y_true.astype("float32"),
                            y_pred.astype("float32"), delta=delta)
    np.testing.assert_allclose(losses.huber(y_true, y_pred, delta), expected, rtol=1e-5)


def test_huber_is_mse_near_zero_and_mae_far_away():
    small, large = np.array([[0.1]]), np.array([[10.0]])
    zero = np.zeros((1, 1))
    assert losses.huber(zero, small, 1.0)[0] == pytest.approx(0.5 * 0.1**2)
    assert losses.huber(zero, large, 1.0)[0] == pytest.approx(10.0 - 0.5)
    with pytest.raises(ValueError, match="delta"):
        losses.huber(zero, small, delta=0)


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies_match_keras(from_logits):
    logits = RNG.normal(scale=3, size=(40, 10)).astype("float32")
    scores = logits if from_logits else keras_values(keras.activations.softmax, logits)
    labels = RNG.integers(0, 10, size=40)
    one_hot = np.eye(10, dtype="float32")[labels]
    np.testing.assert_allclose(
        losses.categorical_crossentropy(one_hot, scores, from_logits=from_logits),
        keras_values(keras.losses.categorical_crossentropy, one_hot, scores,
                     from_logits=from_logits), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels, scores, from_logits=from_logits),
        keras_values(keras.losses.sparse_categorical_crossentropy, labels, scores,
                     from_logits=from_logits), rtol=1e-4, atol=1e-6)


def test_probabilities_of_zero_and_one_are_clipped_like_keras():
    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype="float32")
    y_true = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
    ours = losses.categorical_crossentropy(y_true, y_pred)
    assert np.all(np.isfinite(ours))
    assert ours[1] == pytest.approx(-np.log(1e-7), rel=1e-5)
    np.testing.assert_allclose(
        ours, keras_values(keras.losses.categorical_crossentropy, y_true, y_pred), rtol=1e-3,
        atol=1e-6)
    assert np.isfinite(losses.sparse_categorical_crossentropy(np.array([0, 0]), y_pred)).all()


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="same shape"):
        losses.mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        losses.mean_absolute_error(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="labels must be integers"):
        losses.sparse_categorical_crossentropy(np.array([0.5]), np.ones((1, 3)) / 3)
    with pytest.raises(ValueError, match="labels must lie"):
        losses.sparse_categorical_crossentropy(np.array([3]), np.ones((1, 3)) / 3)
    with pytest.raises(ValueError, match="probabilities"):
        losses.categorical_crossentropy(np.eye(2), -np.eye(2))
    with pytest.raises(ValueError, match="empty"):
        losses.average_loss([])


def test_average_loss_is_the_mean():
    assert losses.average_loss([1.0, 2.0, 6.0]) == pytest.approx(3.0)
