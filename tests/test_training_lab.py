import re
import threading
import time

import pytest

from helpers.training_lab import (
    LAB_DEFAULTS,
    LabRun,
    TrainingLab,
    check_lab_settings,
    describe_settings,
    lab_changes,
    same_settings_run,
)

slow = pytest.mark.slow  # trains on the real Fashion-MNIST


@pytest.fixture
def lab(fashion_mnist):
    (images, labels), _ = fashion_mnist
    return TrainingLab(images, labels, background=False, training_images=600, epochs=3)


def pretend_running(lab):
    """Make ``lab`` look busy with a run that never trains; set its ``done`` to end it."""
    run = LabRun(1, "run 1: defaults", lab.settings())
    lab.last_run = run
    return run


@slow
def test_lab_train_button_records_a_run_draws_it_and_shows_the_verdict(lab):
    lab.controls["learning_rate"].value = 0.003
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: learning rate 0.003"]
    history = lab.runs["run 1: learning rate 0.003"]
    assert history.epochs == 3 and history.info["training_samples"] == 480
    assert lab.verdict is not None and f"<b>{lab.verdict.pattern}</b>" in lab.status.value
    assert "Advice:" in lab.status.value
    assert bytes(lab.plot.value).startswith(b"\x89PNG") and lab.plot.layout.display is None
    assert lab.table.value.count("<tr class='lab-run'>") == 1
    assert not lab.train_button.disabled and lab.stop_button.disabled and not lab.running


@slow
def test_lab_keeps_earlier_runs_for_comparison_and_clear_forgets_them(lab):
    lab.train_button.click()
    lab.controls["dropout"].value = 0.0
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: defaults", "run 2: dropout 0"]
    axis = lab.draw().axes[0]
    labels = [line.get_label() for line in axis.get_lines()]
    assert labels == ["run 1: defaults: training", "run 1: defaults: validation",
                      "run 2: dropout 0: training", "run 2: dropout 0: validation"]
    legend = [text.get_text() for text in axis.get_legend().get_texts()]
    assert legend == [f"run 1 ({lab.verdicts['run 1: defaults'].pattern})",
                      f"run 2 ({lab.verdicts['run 2: dropout 0'].pattern})"]
    assert lab.table.value.count("<tr class='lab-run'>") == 2
    lab.clear_button.click()
    assert lab.runs == {} and bytes(lab.plot.value) == b"" and "cleared" in lab.status.value
    assert lab.plot.layout.display == "none" and lab.table.value == ""  # no broken-image icon


@slow
def test_the_same_settings_twice_give_the_same_curves_and_the_lab_says_so(lab):
    lab.train_button.click()
    lab.train_button.click()
    assert list(lab.runs) == ["run 1: defaults", "run 2: defaults (same as run 1)"]
    first, second = lab.runs.values()
    assert first["val_loss"] == second["val_loss"]  # same seed: exactly on top of each other
    assert "Same settings and seed as run 1" in lab.status.value


@slow
def test_a_diverged_run_is_marked_and_leaves_the_axis_on_the_sane_run(lab):
    lab.train_button.click()
    sane_top = max(lab.runs["run 1: defaults"]["loss"] + lab.runs["run 1: defaults"]["val_loss"])
    lab.controls["initializer"].value = "huge"
    lab.train_button.click()
    diverged = lab.runs["run 2: initializer huge"]
    assert max(diverged["loss"]) > 1e6, "the huge initializer should blow the loss up"
    assert lab.verdicts["run 2: initializer huge"].pattern == "diverged"
    assert "off the scale" in lab.status.value
    assert not re.search(r"\d{7}", lab.status.value), lab.status.value  # no 662744858624.000
    axis = lab.draw().axes[0]
    assert axis.get_ylim()[1] <= 1.1 * sane_top + 1e-9
    assert [text.get_text() for text in axis.get_legend().get_texts()][1] == \
        "run 2 (diverged, off the scale)"


@pytest.mark.parametrize("control, value, message", [
    ("batch_size", 5000, "batch_size must be an integer from 1 to 480, got 5000"),
    ("epochs", 0, "epochs must be an integer from 1 to 100, got 0"),
    ("learning_rate", 0.0, "learning_rate must be a number above 0 and at most 10.0, got 0.0"),
    ("training_images", 10, "training_images must be an integer from 100"),
])
def test_lab_refuses_bad_settings_with_a_plain_text_message_and_keeps_its_status(
        lab, control, value, message):
    status = lab.status.value
    lab.controls[control].value = value
    lab.train_button.click()
    assert lab.runs == {} and lab.last_run is None
    assert lab.message.startswith("Not trained: ") and message in lab.message
    assert "<" not in lab.message and message in lab.notice.value and "red" in lab.notice.value
    assert lab.status.value == status
    lab.controls[control].value = LAB_DEFAULTS[control]
    assert lab.message == "" and lab.notice.value == ""  # a changed setting clears the refusal


def test_a_second_click_while_training_keeps_the_run_in_the_status(lab):
    run = pretend_running(lab)
    try:
        status = lab.status.value
        lab.train_button.click()
        assert lab.status.value == status
        assert lab.message == "Already training run 1: press Stop or wait for it to finish."
        lab.clear_button.click()
        assert lab.message == "Stop the current run before clearing."
    finally:
        run.done.set()


def test_the_plot_is_hidden_until_there_is_something_to_draw(lab):
    assert lab.plot.layout.display == "none" and bytes(lab.plot.value) == b""
    lab.clear_button.click()
    assert lab.plot.layout.display == "none" and "cleared" in lab.status.value


def test_a_new_lab_stops_the_run_of_an_earlier_one(fashion_mnist):
    (images, labels), _ = fashion_mnist
    earlier = TrainingLab(images, labels)
    run = pretend_running(earlier)

    def train_until_stopped():
        run.stop_requested.wait(30)
        run.done.set()

    thread = threading.Thread(target=train_until_stopped)
    thread.start()
    try:
        started = time.monotonic()
        TrainingLab(images, labels)
        assert run.stop_requested.is_set() and run.done.is_set() and not earlier.running
        assert time.monotonic() - started < 20
        assert "a new lab was started" in earlier.status.value
    finally:
        run.done.set()
        thread.join()


@slow
def test_lab_stop_button_ends_a_background_run_early(fashion_mnist):
    (images, labels), _ = fashion_mnist
    lab = TrainingLab(images, labels, training_images=2000, epochs=50)
    lab.train_button.click()
    deadline = time.monotonic() + 120
    while lab.running and lab.current.history.epochs == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # wait for the first epoch
    assert lab.running and not lab.stop_button.disabled and lab.train_button.disabled
    assert "run 1 (training)" in [text.get_text()
                                  for text in lab.draw().axes[0].get_legend().get_texts()]
    lab.train()  # a second click that reached the kernel before the button was disabled
    assert lab.message.startswith("Already training run 1") and "Training" in lab.status.value
    lab.stop_button.click()
    lab.wait(timeout=120)
    assert not lab.running and lab.message == ""  # the note went with the run
    (history,) = lab.runs.values()
    assert 1 <= history.epochs < 50 and "(stopped)" in lab.status.value


@slow
def test_running_the_cells_again_stops_a_lab_run_that_is_still_going(fashion_mnist):
    (images, labels), _ = fashion_mnist
    earlier = TrainingLab(images, labels, training_images=2000, epochs=50)
    earlier.train_button.click()
    deadline = time.monotonic() + 120
    while earlier.running and earlier.current.history.epochs == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert earlier.running
    TrainingLab(images, labels)  # what running the lab's cell again does
    assert not earlier.running
    (history,) = earlier.runs.values()
    assert history.epochs < 50 and "(stopped)" in earlier.status.value


def test_lab_refuses_unknown_settings(fashion_mnist):
    (images, labels), _ = fashion_mnist
    with pytest.raises(ValueError, match="unknown lab setting"):
        TrainingLab(images, labels, learnig_rate=0.1)


def test_describe_settings_names_what_differs_from_the_defaults():
    assert describe_settings(dict(LAB_DEFAULTS)) == "defaults"
    assert describe_settings({**LAB_DEFAULTS, "optimizer": "sgd", "l2": 1e-4}) == \
        "l2 0.0001, optimizer sgd"


def test_same_settings_run_finds_an_earlier_run_with_identical_settings():
    earlier = {"run 1: defaults": dict(LAB_DEFAULTS),
               "run 2: dropout 0": {**LAB_DEFAULTS, "dropout": 0.0}}
    assert same_settings_run({**LAB_DEFAULTS, "dropout": 0.0}, earlier) == "run 2: dropout 0"
    assert same_settings_run({**LAB_DEFAULTS, "epochs": 11}, earlier) is None


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
