#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then open the series in JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jupyter lab notebooks/ "$@"
