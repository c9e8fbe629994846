import math

import pytest

from helpers.widgets import LossExplorer, loss_values


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


@pytest.fixture
def lab(fashion_mnist):
    from helpers.widgets import TrainingLab

    (images, labels), _ = fashion_mnist
    return TrainingLab(images, labels, background=False, training_images=600, epochs=3)


def test_lab_train_button_records_a_run_draws_it_and_shows_the_verdict(lab):
    lab.controls["learning_rate"].value = 0.003
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: learning rate 0.003"]
    history = lab.runs["run 1: learning rate 0.003"]
    assert history.epochs == 3 and history.info["training_samples"] == 480
    assert lab.verdict is not None and f"<b>{lab.verdict.pattern}</b>" in lab.status.value
    assert "Advice:" in lab.status.value
    assert bytes(lab.plot.value).startswith(b"\x89PNG")
    assert not lab.train_button.disabled and lab.stop_button.disabled


def test_lab_keeps_earlier_runs_for_comparison_and_clear_forgets_them(lab):
    lab.train_button.click()
    lab.controls["dropout"].value = 0.0
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: defaults", "run 2: dropout 0"]
    labels = [line.get_label() for line in lab.draw().axes[0].get_lines()]
    assert len(labels) == 4 and labels[0] == "run 1: defaults (training)"
    lab.clear_button.click()
    assert lab.runs == {} and bytes(lab.plot.value) == b"" and "cleared" in lab.status.value


@pytest.mark.parametrize("control, value, message", [
    ("batch_size", 5000, "batch size 5000 is larger than the 480 training images"),
    ("epochs", 0, "epochs must be from 1 to 100, got 0"),
    ("learning_rate", 0.0, "learning rate must be above 0"),
    ("training_images", 10, "training-set size must be from 100"),
])
def test_lab_refuses_bad_settings_with_a_message(lab, control, value, message):
    lab.controls[control].value = value
    lab.train_button.click()
    assert lab.runs == {}
    assert "Not trained" in lab.status.value and message in lab.status.value


def test_lab_stop_button_ends_a_background_run_early(fashion_mnist):
    import time

    from helpers.widgets import TrainingLab

    (images, labels), _ = fashion_mnist
    lab = TrainingLab(images, labels, training_images=2000, epochs=50)
    lab.train_button.click()
    deadline = time.monotonic() + 120
    while not lab.runs and lab._live is not None and not lab._live["logs"] \
            and time.monotonic() < deadline:
        time.sleep(0.1)  # wait for the first epoch
    assert lab.running and not lab.stop_button.disabled
    lab.stop_button.click()
    lab.wait(timeout=120)
    assert not lab.running
    (history,) = lab.runs.values()
    assert 1 <= history.epochs < 50 and "(stopped)" in lab.status.value


def test_lab_refuses_unknown_settings(fashion_mnist):
    from helpers.widgets import TrainingLab

    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="unknown lab setting"):
        TrainingLab(images, labels, learnig_rate=0.1)


def test_describe_settings_names_what_differs_from_the_defaults():
    from helpers.widgets import LAB_DEFAULTS, describe_settings

    assert describe_settings(dict(LAB_DEFAULTS)) == "defaults"
    assert describe_settings({**LAB_DEFAULTS, "optimizer": "sgd", "l2": 1e-4}) == \
        "l2 0.0001, optimizer sgd"
