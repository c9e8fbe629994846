#!/usr/bin/env bash
# Run the series under Colab's package versions (requirements/colab.txt: TensorFlow 2.20,
# Keras 3.13, IPython 7.34, ipywidgets 7.7, ...) in a second virtual environment, .venv-colab.
#   bash scripts/test_colab_profile.sh          the unit tests that do not train, the homework's
#                                               Colab self-check, and the six notebooks in
#                                               COLAB_NOTEBOOKS in quick mode under nbval (CI)
#   bash scripts/test_colab_profile.sh --all    every unit test and every notebook
# Helpers goes in the way Colab's first cell installs it: with its own dependencies, which must
# all be satisfied by Colab's versions (pip stops if one would need another version). Then the
# homework's Colab cell runs as on Colab (scripts/colab_homework_install.py), and must add
# packages without changing any. LCL_COLAB_PYTHON chooses the Python (default python3; Colab
# has 3.13). Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# In CI, the notebooks that touch what differs most on Colab: the environment check (00), the
# loss widget on ipywidgets 7 (01), the article's model.fit on Keras 3.13 (02), live curves and
# display updates on IPython 7.34 (03), the training lab's widgets (11) and every recipe (12).
# All fifteen run in the main environment on every CI run (scripts/build_site.sh).
COLAB_NOTEBOOKS=(00_start_here 01_loss_definitions 02_train_the_cnn 03_reading_loss_curves
                 11_training_lab 12_pattern_gallery)
notebooks=()
unit_tests=(-m "not slow and not browser")  # the slow ones train (the notebooks train here too);
# the browser tests check the front end, which Colab replaces with its own
if [ "${1:-}" = "--all" ]; then
    shift
    notebooks=(notebooks/[0-9][0-9]_*.ipynb)
    unit_tests=(-m "not browser")
else
    for name in "${COLAB_NOTEBOOKS[@]}"; do notebooks+=("notebooks/$name.ipynb"); done
fi

python=${LCL_COLAB_PYTHON:-python3}
[ -x .venv-colab/bin/python ] || "$python" -m venv .venv-colab
stamp=.venv-colab/.loss-curves-lab-installed
wanted=$(cat requirements/colab.txt pyproject.toml homework/hw1_losses_by_hand.ipynb | sha256sum \
    | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv-colab/bin/python -m pip install -q --upgrade pip
    .venv-colab/bin/python -m pip install -q -r requirements/colab.txt
    .venv-colab/bin/python -m pip install -q -e . -c requirements/colab.txt
    # otter-grader's own requirements stay unmet on purpose (scripts/colab_homework_install.py).
    broken=$(.venv-colab/bin/python -m pip check | grep -v -e '^otter-grader ' -e '^No broken' \
             || true)
    [ -z "$broken" ] || { echo "$broken" >&2; exit 1; }
    .venv-colab/bin/python scripts/colab_homework_install.py
    echo "$wanted" > "$stamp"
fi
.venv-colab/bin/python - <<'EOF'
import sys
from importlib.metadata import version

names = ("tensorflow-cpu", "keras", "numpy", "matplotlib", "ipython", "ipykernel", "ipywidgets",
         "wrapt")
print(f"colab profile: Python {sys.version.split()[0]}, "
      + ", ".join(f"{name} {version(name)}" for name in names))
EOF

export LCL_QUICK=1 LCL_RUNS_DIR="$PWD/build/runs-colab" LCL_COLAB_PROFILE=1
rm -rf "$LCL_RUNS_DIR"  # every run trained under Colab's versions, none reused from before
status=0
.venv-colab/bin/python -m pytest -p no:cacheprovider tests "${unit_tests[@]}" "$@" || status=1
# A run of its own, without the tests' conftest, so the kernels draw with the inline backend and
# display every figure, as Colab does.
.venv-colab/bin/python -m pytest -p no:cacheprovider "${notebooks[@]}" --nbval-lax \
    --nbval-current-env "$@" || status=1
exit $status
