#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then run all the tests: lint, the helpers' unit tests,
# every notebook top to bottom under nbval in quick mode, on the real Fashion-MNIST, and the
# browser tests (JupyterLab in Chromium; -m "not browser" leaves them out).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check helpers tests benchmarks notebooks homework scripts
export LCL_QUICK=1 LCL_RUNS_DIR="$PWD/build/runs" MPLBACKEND=Agg
exec .venv/bin/python -m pytest tests notebooks --nbval-lax --nbval-current-env "$@"
