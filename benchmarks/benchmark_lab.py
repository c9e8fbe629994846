"""How long one default training-lab run takes (notebook 11 promises at most 30 s on 2 cores).

Times, in one process after imports and data loading, a default ``TrainingLab`` run (3,000
images, 10 epochs, live plot redrawn every epoch) against the same training written as plain
Keras (``model.fit`` on the same 3,000 images with ``validation_split=0.2``), alternating.
Run it with ``.venv/bin/python benchmarks/benchmark_lab.py`` (about a minute).
"""

import argparse
import statistics
import time

from benchmark_training import seed_cnn  # the same plain-Keras baseline (this folder)


def plain_keras_run(images, labels, settings):
    """The same run without helpers: float arrays, the seed CNN, model.fit."""
    from helpers.data import stratified_subset

    import keras

    subset_images, subset_labels = stratified_subset(images, labels,
                                                     settings["training_images"], seed=42)
    keras.utils.set_random_seed(42)
    x = subset_images.reshape(-1, 28, 28, 1) / 255.0
    y = keras.utils.to_categorical(subset_labels, 10)
    model = seed_cnn()
    model.fit(x, y, epochs=settings["epochs"], batch_size=settings["batch_size"],
              validation_split=0.2, verbose=0)


def lab_run(images, labels):
    """One press of the lab's Train button with the default settings (synchronously)."""
    from helpers.training_lab import TrainingLab

    lab = TrainingLab(images, labels, background=False)
    lab.train()
    assert len(lab.runs) == 1, lab.status.value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    arguments = parser.parse_args()

    from helpers.data import load_fashion_mnist
    from helpers.training_lab import LAB_DEFAULTS

    (images, labels), _ = load_fashion_mnist(verbose=False)
    timings = {"plain keras": [], "lab": []}
    for round_number in range(1, arguments.rounds + 1):
        for name, run in (("plain keras", lambda: plain_keras_run(images, labels, LAB_DEFAULTS)),
                          ("lab", lambda: lab_run(images, labels))):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
        print(f"round {round_number}: " + ", ".join(f"{name} {values[-1]:.1f} s"
                                                    for name, values in timings.items()))
    plain, lab = (statistics.median(timings[name]) for name in ("plain keras", "lab"))
    print(f"default lab run ({LAB_DEFAULTS['training_images']} images, "
          f"{LAB_DEFAULTS['epochs']} epochs), median of {arguments.rounds}: {lab:.1f} s "
          f"(plain Keras {plain:.1f} s, ratio {lab / plain:.2f}x; target: lab <= 30 s)")


if __name__ == "__main__":
    main()
