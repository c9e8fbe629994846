import time

import pytest

from helpers.training_lab import (
    LAB_DEFAULTS,
    TrainingLab,
    check_lab_settings,
    describe_settings,
    lab_changes,
)

pytestmark = pytest.mark.slow  # trains on the real Fashion-MNIST


@pytest.fixture
def lab(fashion_mnist):
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
    assert not lab.train_button.disabled and lab.stop_button.disabled and not lab.running


def test_lab_keeps_earlier_runs_for_comparison_and_clear_forgets_them(lab):
    lab.train_button.click()
    lab.controls["dropout"].value = 0.0
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: defaults", "run 2: dropout 0"]
    labels = [line.get_label() for line in lab.draw().axes[0].get_lines()]
    assert labels == ["run 1: defaults: training", "run 1: defaults: validation",
                      "run 2: dropout 0: training", "run 2: dropout 0: validation"]
    lab.clear_button.click()
    assert lab.runs == {} and bytes(lab.plot.value) == b"" and "cleared" in lab.status.value


@pytest.mark.parametrize("control, value, message", [
    ("batch_size", 5000, "batch_size must be an integer from 1 to 480, got 5000"),
    ("epochs", 0, "epochs must be an integer from 1 to 100, got 0"),
    ("learning_rate", 0.0, "learning_rate must be a number above 0 and at most 10.0, got 0.0"),
    ("training_images", 10, "training_images must be an integer from 100"),
])
def test_lab_refuses_bad_settings_with_a_message(lab, control, value, message):
    lab.controls[control].value = value
    lab.train_button.click()
    assert lab.runs == {}
    assert "Not trained" in lab.status.value and message in lab.status.value


def test_lab_stop_button_ends_a_background_run_early(fashion_mnist):
    (images, labels), _ = fashion_mnist
    lab = TrainingLab(images, labels, training_images=2000, epochs=50)
    lab.train_button.click()
    deadline = time.monotonic() + 120
    while lab.running and lab.current.history.epochs == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # wait for the first epoch
    assert lab.running and not lab.stop_button.disabled and lab.train_button.disabled
    lab.stop_button.click()
    lab.wait(timeout=120)
    assert not lab.running
    (history,) = lab.runs.values()
    assert 1 <= history.epochs < 50 and "(stopped)" in lab.status.value


def test_lab_refuses_unknown_settings(fashion_mnist):
    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="unknown lab setting"):
        TrainingLab(images, labels, learnig_rate=0.1)


def test_describe_settings_names_what_differs_from_the_defaults():
    assert describe_settings(dict(LAB_DEFAULTS)) == "defaults"
    assert describe_settings({**LAB_DEFAULTS, "optimizer": "sgd", "l2": 1e-4}) == \
        "l2 0.0001, optimizer sgd"


def test_lab_settings_checks_use_the_library_wording():
    problems = check_lab_settings({**LAB_DEFAULTS, "dropout": 1.0, "optimizer": "adagrad"})
    assert problems == ["dropout must be a number from 0 to below 1, got 1.0",
                        "optimizer must be one of sgd, momentum, rmsprop, adam, adamw, got "
                        "'adagrad'"]
    assert check_lab_settings(dict(LAB_DEFAULTS)) == []


def test_lab_warmup_and_schedule_controls_reach_the_run(lab):
    lab.controls["learning_rate"].value = 0.002
    lab.controls["warmup_steps"].value = 5
    lab.controls["schedule"].value = "cosine"
    lab.train_button.click()
    (name,) = lab.runs
    assert name == "run 1: learning rate 0.002, warmup steps 5, schedule cosine"
    assert lab.runs[name].learning_rate == pytest.approx([0.002, 0.0015, 0.0005])  # cosine, 3 epochs


def test_lab_refuses_a_bad_schedule_or_warmup():
    problems = check_lab_settings({**LAB_DEFAULTS, "schedule": "linear", "warmup_steps": -1})
    assert problems == ["warmup_steps must be an integer from 0 to 10000, got -1",
                        "schedule must be one of constant, step, cosine, plateau, got 'linear'"]
    changes = lab_changes({**LAB_DEFAULTS, "warmup_steps": 50, "schedule": "step"})
    assert changes["warmup_steps"] == 50 and changes["schedule"] == "step"
