#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then open the series in JupyterLab. Extra arguments go to
# `jupyter lab` (the browser tests add a port, no token, no browser). As root (containers, cloud
# machines, CI) it adds --allow-root, without which Jupyter refuses to start. LCL_SKIP_SETUP=1
# skips the install step (the browser tests set it: scripts/test.sh has just run setup.sh).
# JupyterLab (and Notebook 7) open without first-run prompts: no "Would you like to get notified
# about official Jupyter news?", no update check (jupyter-config/labconfig/
# default_setting_overrides.json, which binder/postBuild installs on Binder). JUPYTER_CONFIG_PATH
# adds that folder to where Jupyter reads configuration, for this server only; nothing under
# ~/.jupyter is written, and as these are defaults, what a user sets in the Settings Editor wins.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${LCL_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
export JUPYTER_CONFIG_PATH="$PWD/jupyter-config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
as_root=()
if [ "$(id -u)" -eq 0 ]; then as_root=(--allow-root); fi
exec .venv/bin/jupyter lab notebooks/ ${as_root[@]+"${as_root[@]}"} "$@"
