#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then run all the tests. Every step runs even when an
# earlier one failed; the exit status is non-zero when any failed, and the last lines list them.
#   1. lint (ruff);
#   2. every notebook top to bottom under nbval in quick mode on the real Fashion-MNIST, each in
#      a fresh kernel; tests/nbval_record.py keeps the executed notebooks, their run times and
#      kernel peaks in build/notebooks/quick/, so the series runs once for the tests and the site;
#   3. the site build/site/ from those executed notebooks (scripts/build_site.py);
#   4. the unit tests, the browser tests (JupyterLab and Notebook 7 in Chromium), the project's,
#      Binder's and the homework's checks, and the checks of step 3's site (tests/test_site.py);
#   5. the Colab profile: the fast unit tests and six representative notebooks under nbval with
#      Colab's package versions, in .venv-colab (scripts/test_colab_profile.sh).
# Extra arguments go to step 4's pytest (e.g. -m "not browser", -x, -k NAME).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
pytest_arguments=("$@")
failed=()
executed=build/notebooks/quick

step() {
    local name=$1 start=$SECONDS
    shift
    echo "== $name"
    if "$@"; then
        echo "== $name: passed in $((SECONDS - start)) s"
    else
        echo "== $name: FAILED after $((SECONDS - start)) s"
        failed+=("$name")
    fi
}

# A fresh runs folder: every notebook trains its runs here, none is reused from an earlier test run.
rm -rf "$executed" build/runs
step "lint" .venv/bin/ruff check helpers tests benchmarks notebooks homework scripts
# No MPLBACKEND here: the kernels draw with the inline backend, so the figures are kept.
step "notebooks under nbval in quick mode" env LCL_QUICK=1 LCL_RUNS_DIR="$PWD/build/runs" \
    .venv/bin/python -m pytest -p no:cacheprovider -p tests.nbval_record \
    --record-notebooks "$executed" notebooks --nbval-lax --nbval-current-env
step "the site" .venv/bin/python scripts/build_site.py "$executed" "$executed/notebooks-quick.json" \
    build/site
step "unit tests, browser tests and checks" env LCL_QUICK=1 LCL_RUNS_DIR="$PWD/build/runs" \
    MPLBACKEND=Agg LCL_REQUIRE_SITE=1 .venv/bin/python -m pytest tests "${pytest_arguments[@]}"
step "Colab profile" bash scripts/test_colab_profile.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all steps passed"
