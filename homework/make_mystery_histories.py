"""Regenerate ``data/mystery_histories.json`` for homework 3: six real runs, one per pattern.

Each run is a named recipe from ``helpers.recipes`` trained on the real Fashion-MNIST in quick
mode (seed 42); the file stores only the curves, under letters, in a shuffled order. The answer
key lives in the hidden tests of ``hw3_read_the_curves.ipynb``; this script prints it so that
the key can be checked against ``diagnose()``. Run: ``LCL_QUICK=1 .venv/bin/python
homework/make_mystery_histories.py`` (about a minute).
"""

import json
from pathlib import Path

from helpers.data import load_fashion_mnist
from helpers.diagnose import diagnose
from helpers.mode import is_quick
from helpers.recipes import RECIPES, run_recipe

LETTERS_TO_RECIPES = {  # a fixed, shuffled order
    "A": "overfitting",
    "B": "val_below_train",
    "C": "diverged",
    "D": "healthy",
    "E": "spiky",
    "F": "underfitting",
}
OUTPUT = Path(__file__).parent / "data" / "mystery_histories.json"


def main():
    if not is_quick():
        raise SystemExit("run with LCL_QUICK=1: the shipped histories are the quick-mode runs")
    (images, labels), _ = load_fashion_mnist()
    histories = {}
    for letter, name in LETTERS_TO_RECIPES.items():
        history = run_recipe(RECIPES[name], images, labels, seed=42)
        verdict = diagnose(history)
        print(f"{letter}: recipe {name}, diagnose() says {verdict.pattern}")
        if verdict.pattern != name:
            raise SystemExit(f"{letter}: expected {name}, got {verdict.pattern}")
        histories[letter] = {key: [float(value) for value in values]
                             for key, values in history.metrics.items()}
    OUTPUT.write_text(json.dumps(histories, indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
