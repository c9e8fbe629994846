#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then execute every notebook headless, in order.
# Executed copies go to build/notebooks/ (ignored by git). Full mode unless LCL_QUICK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LCL_RUNS_DIR="$PWD/build/runs"
mkdir -p build/notebooks
mode=$(.venv/bin/python -c "from helpers.mode import mode_name; print(mode_name())")
for notebook in notebooks/[0-9]*.ipynb; do
    echo "== $notebook ($mode mode)"
    start=$(date +%s)
    .venv/bin/jupyter nbconvert --to notebook --execute "$notebook" \
        --ExecutePreprocessor.timeout=1800 --output-dir build/notebooks --log-level WARN
    echo "   done in $(( $(date +%s) - start )) s -> build/notebooks/$(basename "$notebook")"
done
