#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then run all the tests. Every step runs even when an
# earlier one failed; the exit status is non-zero when any failed, and the last lines list them.
#   1. lint (ruff);
#   2. every notebook top to bottom in quick mode on the real Fashion-MNIST, each in a fresh
#      kernel, executed once into build/notebooks/quick/ and turned into the site build/site/
#      (scripts/build_site.sh --quick; a notebook with an error fails this step);
#   3. the unit tests, the project's, Binder's and the homework's checks, and the checks of
#      step 2's executed notebooks and site (tests/test_site.py);
#   4. the Colab profile: the fast unit tests and six representative notebooks under nbval with
#      Colab's package versions, in .venv-colab (scripts/test_colab_profile.sh).
# Extra arguments go to step 3's pytest (e.g. -m "not slow", -x, -k NAME).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
pytest_arguments=("$@")
failed=()

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

step "lint" .venv/bin/ruff check helpers tests benchmarks notebooks homework scripts
step "notebooks in quick mode, and the site" env LCL_SKIP_SETUP=1 bash scripts/build_site.sh --quick
step "unit tests and checks" env LCL_QUICK=1 LCL_RUNS_DIR="$PWD/build/runs" MPLBACKEND=Agg \
    LCL_REQUIRE_SITE=1 .venv/bin/python -m pytest tests "${pytest_arguments[@]}"
step "Colab profile" bash scripts/test_colab_profile.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all steps passed"
