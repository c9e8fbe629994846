import numpy as np
import pytest

from helpers import losses

import keras

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


def line_with_outliers(seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 10, 50)
    clean = 2.0 * x + 1.0 + rng.normal(scale=0.3, size=50)
    dirty = clean.copy()
    dirty[-5:] += 30.0
    return x, clean, dirty


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_fit_line_recovers_a_clean_line(loss):
    x, clean, _ = line_with_outliers()
    slope, intercept = losses.fit_line(x, clean, loss)
    assert slope == pytest.approx(2.0, abs=0.1) and intercept == pytest.approx(1.0, abs=0.3)


def test_fit_line_mse_minimizes_mse():
    x, _, dirty = line_with_outliers()
    slope, intercept = losses.fit_line(x, dirty, "mse")
    best = losses.average_loss((dirty - slope * x - intercept) ** 2)
    for nudge in (-0.01, 0.01):
        assert best <= losses.average_loss((dirty - (slope + nudge) * x - intercept) ** 2)


def test_outliers_pull_mse_most_and_mae_least():
    x, clean, dirty = line_with_outliers()
    pull = {}
    for loss in ("mse", "mae", "huber"):
        before, after = np.polyval(losses.fit_line(x, clean, loss), x), np.polyval(
            losses.fit_line(x, dirty, loss), x)
        pull[loss] = np.mean(np.abs(after - before))
    assert pull["mae"] < pull["huber"] < pull["mse"]
    assert pull["mse"] > 10 * pull["huber"]


def test_fit_line_refuses_bad_arguments():
    with pytest.raises(ValueError, match="loss must be"):
        losses.fit_line([0, 1], [0, 1], loss="hinge")
    with pytest.raises(ValueError, match="at least 2 points"):
        losses.fit_line([0], [0])
