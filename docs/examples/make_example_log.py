"""Write ``seed_cnn_training_log.csv`` here: a real Keras ``CSVLogger`` log of the seed CNN.

The README's command-line example runs on it. The seed CNN (the article's model, in plain Keras,
from ``benchmarks/benchmark_training.py``) is trained on the first 3,000 Fashion-MNIST training
images, 20% of them held out for validation, for 15 epochs with batch 64 and seed 42; Keras'
``CSVLogger`` writes one row per epoch. Run: ``.venv/bin/python docs/examples/make_example_log.py``
(about half a minute on a 2-core CPU).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

IMAGES = 3_000  # the first 3,000 training images (the file is in random order)
EPOCHS = 15
BATCH_SIZE = 64
VALIDATION_SPLIT = 0.2
SEED = 42
OUTPUT = HERE / "seed_cnn_training_log.csv"


def main():
    import keras
    from benchmark_training import seed_cnn

    from helpers.data import load_fashion_mnist

    (images, labels), _ = load_fashion_mnist()
    x = images[:IMAGES, ..., None].astype("float32") / 255.0
    y = keras.utils.to_categorical(labels[:IMAGES], 10)
    keras.utils.set_random_seed(SEED)
    model = seed_cnn()
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=VALIDATION_SPLIT,
              verbose=2, callbacks=[keras.callbacks.CSVLogger(str(OUTPUT))])
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
