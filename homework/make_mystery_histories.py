"""Regenerate ``data/mystery_histories.json`` for homework 3: eight real runs, seven patterns.

Each run is a named recipe from ``helpers.recipes`` (two with a change, as notebook 12 makes
them: the diverged one at an exploding learning rate, the not_converged one the healthy recipe
stopped early) trained on the real Fashion-MNIST in quick mode, with seeds the notebooks never
use, so no run can be matched to a notebook's numbers; one pattern occurs twice, so the answers
cannot be found by elimination either. The file stores only the curves, under letters. The answer
key lives in the hidden tests of ``hw3_read_the_curves.ipynb``; this script checks each run
against ``diagnose()`` before writing (a seed whose run diagnose reads otherwise was replaced by
the next one). Run: ``LCL_QUICK=1 .venv/bin/python homework/make_mystery_histories.py`` (about
a minute).
"""

import json
from pathlib import Path

from helpers.data import load_fashion_mnist
from helpers.diagnose import diagnose
from helpers.mode import is_quick
from helpers.recipes import RECIPES, run_recipe

# letter: (pattern, recipe, seed, changes to the recipe); a fixed, shuffled order
LETTERS_TO_RUNS = {
    "A": ("overfitting", "overfitting", 7, {}),
    "B": ("not_converged", "healthy", 8, {"epochs": 6, "training_images": 3_500}),
    "C": ("healthy", "healthy", 9, {}),
    "D": ("diverged", "diverged", 10, {"model": {"initializer": "glorot_uniform"},
                                       "learning_rate": 5.0}),
    "E": ("overfitting", "overfitting", 11, {}),
    "F": ("underfitting", "underfitting", 12, {}),
    "G": ("spiky", "spiky", 13, {}),
    "H": ("val_below_train", "val_below_train", 14, {}),
}
OUTPUT = Path(__file__).parent / "data" / "mystery_histories.json"


def main():
    if not is_quick():
        raise SystemExit("run with LCL_QUICK=1: the shipped histories are the quick-mode runs")
    (images, labels), _ = load_fashion_mnist()
    histories = {}
    for letter, (pattern, name, seed, changes) in LETTERS_TO_RUNS.items():
        history = run_recipe(RECIPES[name], images, labels, seed=seed, reuse=False, **changes)
        verdict = diagnose(history)
        print(f"{letter}: recipe {name} {changes or ''}, seed {seed}, diagnose() says "
              f"{verdict.pattern}")
        if verdict.pattern != pattern:
            raise SystemExit(f"{letter}: expected {pattern}, got {verdict.pattern}")
        histories[letter] = {key: [float(value) for value in values]
                             for key, values in history.metrics.items()}
    OUTPUT.write_text(json.dumps(histories, indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
