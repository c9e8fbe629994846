import math

import pytest

from helpers.loss_explorer import LossExplorer, loss_values


def test_loss_values_for_one_prediction():
    values = loss_values(prediction=3.0, target=1.0, delta=1.0, probability=0.25)
    assert values["MSE"] == pytest.approx(4.0)
    assert values["MAE"] == pytest.approx(2.0)
    assert values["Huber"] == pytest.approx(1.0 * 2.0 - 0.5)
    assert values["Cross-entropy"] == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match="probability"):
        loss_values(0, 0, probability=0)


def test_moving_a_slider_updates_the_losses_table_and_plot():
    explorer = LossExplorer(prediction=0.5, target=0.0, delta=1.0, probability=0.5)
    first_image = explorer.image.value
    assert explorer.values["MSE"] == pytest.approx(0.25)
    explorer.prediction.value = 2.5
    assert explorer.values["MSE"] == pytest.approx(6.25)
    assert explorer.values["Huber"] == pytest.approx(2.0)
    assert "6.2500" in explorer.table.value and "+2.50" in explorer.table.value
    image = bytes(explorer.image.value)
    assert image != bytes(first_image) and image.startswith(b"\x89PNG")
    explorer.delta.value = 3.0
    assert explorer.values["Huber"] == pytest.approx(0.5 * 2.5**2)
    explorer.probability.value = 1.0
    assert explorer.values["Cross-entropy"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("prediction, target, probability", [
    (3.0, -3.0, 0.01), (-3.0, 3.0, 1.0), (0.0, 0.0, 0.5), (3.0, 3.0, 0.01)])
def test_every_point_stays_inside_the_explorers_axes(prediction, target, probability):
    explorer = LossExplorer(prediction=prediction, target=target, probability=probability)
    figure = explorer.draw(prediction - target)
    points = 0
    for axis in figure.axes:
        (left, right), (bottom, top) = axis.get_xlim(), axis.get_ylim()
        for line in axis.get_lines():
            if len(line.get_xdata()) == 1:  # the current point
                (x,), (y,) = line.get_xdata(), line.get_ydata()
                assert left < x < right and bottom < y < top, (axis.get_xlabel(), x, y)
                points += 1
    assert points == 4
    assert explorer.error_reach() == 6.0


def test_the_loss_axis_keeps_its_height_for_small_errors_and_grows_for_large_ones():
    small = LossExplorer(prediction=0.5, target=0.0).draw(0.5).axes[0].get_ylim()[1]
    large = LossExplorer(prediction=3.0, target=-3.0).draw(6.0).axes[0].get_ylim()[1]
    assert small == pytest.approx(LossExplorer.LOSS_AXIS_TOP) and large > 36
