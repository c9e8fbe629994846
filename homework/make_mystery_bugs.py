"""Regenerate ``data/mystery_bugs.json`` for homework 3, question 3: five real runs, three bugs.

Each run trains the seed CNN without dropout (so a validation loss below the training loss is
suspicious) on the real Fashion-MNIST in quick mode, with a seed of its own (none the notebooks
use; one bug occurs twice, so elimination does not help), the way notebook 14 makes each
bug; the file stores the per-epoch curves and the per-batch training losses, under letters, in
a shuffled order, without the learning rate (reading it would give the answer away). The answer
key lives in the hidden tests of ``hw3_read_the_curves.ipynb``; this script checks each run
with notebook 14's own checks before writing. Run: ``LCL_QUICK=1 .venv/bin/python
homework/make_mystery_bugs.py`` (about a minute).
"""

import json
from pathlib import Path

from helpers.data import load_fashion_mnist, split_train_validation, stratified_subset
from helpers.debugging import PERIODIC, longest_rise, periodicity, sort_by_class
from helpers.mode import is_quick
from helpers.models import build_cnn, compile_cnn
from helpers.training import set_seed, train

import keras

LETTERS_TO_BUGS = {  # letter: (bug, seed); a fixed, shuffled order
    "I": ("growing_learning_rate", 5),
    "J": ("no_bug", 6),
    "K": ("validation_overlaps_training", 12),  # seeds 7, 10, 11 failed the leak check below
    "L": ("unshuffled_sorted_data", 8),
    "M": ("growing_learning_rate", 9),
}
IMAGES, EPOCHS = 1_000, 12  # few images: an honest validation loss soon turns up
GROWTH = 1.7  # the buggy schedule multiplies the rate by this every epoch
OUTPUT = Path(__file__).parent / "data" / "mystery_bugs.json"


def run(bug, seed, images, labels):
    """Train the seed CNN without dropout with one bug (or none); return the History."""
    subset_images, subset_labels = stratified_subset(images, labels, IMAGES, seed=seed)
    (x, y), validation = split_train_validation(subset_images, subset_labels)
    callbacks, shuffle = [], True
    if bug == "growing_learning_rate":  # a schedule meant to divide the rate multiplies it
        callbacks = [keras.callbacks.LearningRateScheduler(
            lambda epoch, rate: rate * GROWTH if epoch else rate)]
    elif bug == "validation_overlaps_training":
        validation = (x[:len(validation[0])], y[:len(validation[0])])
    elif bug == "unshuffled_sorted_data":
        (x, y), shuffle = sort_by_class(x, y), False
    set_seed(seed)
    return train(compile_cnn(build_cnn(dropout=0.0)), x, y, epochs=EPOCHS,
                 validation_data=validation, record_batches=True, shuffle=shuffle, verbose=0,
                 callbacks=callbacks, seed=seed)


def shows(bug, history):
    """Return True when the run shows its bug (and only then), by notebook 14's checks."""
    periodic = periodicity(history.batch_loss, history.batches_per_epoch) > PERIODIC
    rising = longest_rise(history["loss"]) >= 3
    # Without dropout, on few images, an honest validation loss ends up well above the training
    # loss; a leaky one (training images) stays on it, within 10%, over the second half.
    half = history.epochs // 2
    leaky = all(abs(validation - training) < 0.1 * training for validation, training in
                zip(history["val_loss"][half:], history["loss"][half:]))
    expected = {"unshuffled_sorted_data": (True, False, False),
                "growing_learning_rate": (False, True, False),
                "validation_overlaps_training": (False, False, True),
                "no_bug": (False, False, False)}
    return expected[bug] == (periodic, rising, leaky)


def main():
    if not is_quick():
        raise SystemExit("run with LCL_QUICK=1: the shipped runs are the quick-mode runs")
    (images, labels), _ = load_fashion_mnist()
    runs = {}
    for letter, (bug, seed) in LETTERS_TO_BUGS.items():
        history = run(bug, seed, images, labels)
        print(f"{letter}: {bug}, training loss {[round(v, 3) for v in history['loss']]}, "
              f"validation loss {[round(v, 3) for v in history['val_loss']]}")
        if not shows(bug, history):
            raise SystemExit(f"{letter}: the run does not show {bug} (or shows another bug): "
                             f"periodicity {periodicity(history.batch_loss, history.batches_per_epoch):.2f}, "
                             f"longest rise {longest_rise(history['loss'])}")
        runs[letter] = {"metrics": {key: [float(value) for value in history[key]]
                                    for key in ("loss", "val_loss")},
                        "batch_loss": [float(value) for value in history.batch_loss],
                        "batches_per_epoch": history.batches_per_epoch}
    OUTPUT.write_text(json.dumps(runs, indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
