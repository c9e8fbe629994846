#!/usr/bin/env bash
# Build the static site of the executed series under build/site/ (open build/site/index.html):
# execute every notebook, one after another in fresh kernels (benchmarks/notebook_table.py, which
# also times them), then turn the executed notebooks into pages (scripts/build_site.py).
#   bash scripts/build_site.sh            full mode (about 18-22 minutes on 2 cores)
#   bash scripts/build_site.sh --quick    quick mode (about 7-8 minutes), as CI does
# The executed notebooks stay in build/notebooks/<mode>/. Runs the set-up first unless
# LCL_SKIP_SETUP=1 (scripts/test.sh has just run it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${LCL_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
mode=full
[ "${1:-}" = "--quick" ] && mode=quick
executed=build/notebooks/$mode
status=0
.venv/bin/python benchmarks/notebook_table.py ${1:+"$1"} --executed-dir "$executed" \
    --results-dir "$executed" || status=1
.venv/bin/python scripts/build_site.py "$executed" "$executed/notebooks-$mode.json" build/site \
    || status=1
exit $status
