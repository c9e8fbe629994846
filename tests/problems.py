"""Small synthetic data for unit tests that train: learnable in a few steps, no download."""

import numpy as np


def small_problem(count=192, seed=0):
    """Random images whose class is which half is brighter: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=count).astype(np.uint8)
    images = rng.integers(0, 100, size=(count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        images[index, :, 14 * label:14 * label + 14] += 150
    return images, labels
