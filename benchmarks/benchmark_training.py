"""Speed and memory of training the seed CNN: the article's exact code versus the helpers path.

Each variant runs in its own process (whole-process peak RSS), alternating, on the full
Fashion-MNIST training set; the script prints median seconds per epoch, peak RSS and the ratios
helpers / seed. Run it with ``.venv/bin/python benchmarks/benchmark_training.py`` (about 4 minutes
with the defaults on a 2-core CPU).
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

SEED_CODE = "seed"
HELPERS_CODE = "helpers"


def epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    return EpochTimer()


def seed_cnn():
    """The article's CNN in plain Keras, compiled as the article does."""
    from keras import layers, models

    model = models.Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def run_seed(epochs):
    """The article's code: float64 numpy arrays straight into model.fit."""
    from helpers.data import load_fashion_mnist

    import keras
    from keras.utils import to_categorical

    keras.utils.set_random_seed(42)
    (x_train, y_train), _ = load_fashion_mnist(verbose=False)
    x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
    y_train = to_categorical(y_train, 10)
    model = seed_cnn()
    timer = epoch_timer()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.2,
                        callbacks=[timer], verbose=0)
    return timer.seconds, history.history["val_accuracy"][-1]


def run_helpers(epochs):
    """The helpers path: uint8 images kept in a tf.data pipeline, via helpers.training.train."""
    from helpers.data import load_fashion_mnist
    from helpers.models import build_cnn, compile_cnn
    from helpers.training import set_seed, train

    set_seed(42)
    (x_train, y_train), _ = load_fashion_mnist(verbose=False)
    history = train(compile_cnn(build_cnn()), x_train, y_train, epochs=epochs, batch_size=64,
                    validation_split=0.2, verbose=0)
    return history.seconds_per_epoch, history["val_accuracy"][-1]


def child(variant, epochs):
    seconds, validation_accuracy = (run_seed if variant == SEED_CODE else run_helpers)(epochs)
    peak_kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes
    print(json.dumps({"variant": variant, "seconds_per_epoch": seconds,
                      "peak_rss_mb": peak_kilobytes / 1024,
                      "validation_accuracy": validation_accuracy}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant (default 2)")
    parser.add_argument("--child", choices=[SEED_CODE, HELPERS_CODE], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.epochs < 2 or arguments.rounds < 1:
        parser.error("--epochs must be at least 2 (the first epoch includes tracing) "
                     "and --rounds at least 1")
    if arguments.child:
        child(arguments.child, arguments.epochs)
        return

    results = {SEED_CODE: [], HELPERS_CODE: []}
    for round_number in range(arguments.rounds):
        for variant in (SEED_CODE, HELPERS_CODE):  # alternate, so machine noise hits both
            started = time.perf_counter()
            output = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--epochs", str(arguments.epochs)],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
            result = json.loads(output)
            result["process_seconds"] = time.perf_counter() - started
            results[variant].append(result)
            print(f"round {round_number + 1} {variant:>7}: "
                  f"{[round(s, 2) for s in result['seconds_per_epoch']]} s/epoch, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB, "
                  f"process {result['process_seconds']:.0f} s", flush=True)

    summary = {}
    for variant, runs in results.items():
        # Epoch 1 includes graph tracing: the steady state is epochs 2 onwards.
        steady = [s for run in runs for s in run["seconds_per_epoch"][1:]]
        summary[variant] = {
            "median_seconds_per_epoch": statistics.median(steady),
            "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
            "validation_accuracy": statistics.median(run["validation_accuracy"] for run in runs),
        }
    seed, ours = summary[SEED_CODE], summary[HELPERS_CODE]
    print(f"\nmachine: {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'':>8} {'s/epoch (median)':>17} {'peak RSS MB':>12} {'val acc':>8}")
    for name, row in summary.items():
        print(f"{name:>8} {row['median_seconds_per_epoch']:>17.2f} {row['peak_rss_mb']:>12.0f} "
              f"{row['validation_accuracy']:>8.3f}")
    time_ratio = ours["median_seconds_per_epoch"] / seed["median_seconds_per_epoch"]
    print(f"ratio helpers/seed: time {time_ratio:.2f}x, "
          f"peak RSS {ours['peak_rss_mb'] / seed['peak_rss_mb']:.2f}x "
          f"(targets: time <= 1.0x, peak RSS <= 0.6x)")


if __name__ == "__main__":
    main()
