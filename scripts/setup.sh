#!/usr/bin/env bash
# Install everything the series needs, idempotently:
#   apt: python3 and venv if missing, the dataset package dataset-fashion-mnist, and chromium
#        (Debian's browser, which the browser tests drive with Playwright);
#   pip: a virtual environment in .venv with helpers, TensorFlow (CPU), JupyterLab, Notebook 7
#        and test tools (pytest, nbval, ruff, playwright; Playwright's own browsers are never
#        downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import ensurepip, venv" 2>/dev/null; then
    missing+=(python3-venv)
fi
if command -v dpkg >/dev/null 2>&1; then
    for package in dataset-fashion-mnist chromium; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing with apt-get: ${missing[*]}"
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "setup: no apt-get here; install Python >= 3.11 yourself. Keras will download" \
             "Fashion-MNIST on first use (see README, 'Where the data comes from'). The" \
             "browser tests need Chromium at /usr/bin/chromium (or: pytest -m 'not browser')."
    fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "setup: Python >= 3.11 is needed (Keras 3.15), found $(python3 --version)" >&2; exit 1; }

[ -x .venv/bin/python ] || python3 -m venv .venv
# Reinstall only when the dependencies changed since the last install.
stamp=.venv/.loss-curves-lab-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[tensorflow,lab,dev,homework]"
    echo "$wanted" > "$stamp"
fi
echo "setup: ready (.venv, $(.venv/bin/python --version))"
