"""Reuse a run already trained on this machine with identical settings, instead of training it again.

Introduced in ``12_pattern_gallery.ipynb``. Runs here are seeded and deterministic: the same
settings, seed, data, library versions, helpers code and machine give the same curves to the last
bit, so a stored copy of such a run is the run. ``run_recipe`` looks a run up by a key made of
all of these and stores every run it trains (without extra callbacks) under
``runs_directory()/reused``; set ``LCL_REUSE_RUNS=0`` to train every run again.
"""

import functools
import hashlib
import json
import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from helpers.history import load_history, save_history

REUSE_VARIABLE = "LCL_REUSE_RUNS"
FOLDER_NAME = "reused"
_HELPERS_FOLDER = Path(__file__).resolve().parent
_LIBRARIES = ("tensorflow", "keras", "numpy")


def reuse_enabled():
    """Return False when the environment variable LCL_REUSE_RUNS turns reuse off ("0")."""
    raw = os.environ.get(REUSE_VARIABLE, "1").strip().lower()
    if raw in ("1", "true", "yes", "on", ""):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"environment variable {REUSE_VARIABLE}={raw!r} is not understood: use 1 "
                     f"(reuse identical runs, the default) or 0 (train every run again)")


def _library_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@functools.cache  # once per kernel: the machine does not change under it
def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


@functools.cache  # once per kernel: the code that runs is the code imported
def _helpers_digest():
    digest = hashlib.sha256()
    for path in sorted(_HELPERS_FOLDER.rglob("*.py")):
        digest.update(path.relative_to(_HELPERS_FOLDER).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(settings, *arrays):
    """Return the key of a run: its ``settings`` (JSON-able), the arrays' bytes, versions, machine."""
    digest = hashlib.sha256()
    context = {
        "settings": settings,
        "libraries": {name: _library_version(name) for name in _LIBRARIES},
        "python": platform.python_version(),
        "machine": [platform.machine(), _cpu_model(), os.cpu_count()],
        "helpers": _helpers_digest(),
    }
    digest.update(json.dumps(context, sort_keys=True, default=repr).encode())
    for array in arrays:
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).data)  # the bytes, without a copy
    return digest.hexdigest()[:32]


def stored_run_path(key, runs_directory):
    """Return where the run with ``key`` is stored under ``runs_directory``."""
    return Path(runs_directory) / FOLDER_NAME / f"{key}.json"


def describe_origin(history):
    """Return where and when a reused run was trained, in words."""
    place = f" in {history.info['trained_in']}" if history.info.get("trained_in") else ""
    return f"trained{place} at {history.info.get('trained_at', '?')}"


def load_run(key, runs_directory):
    """Return the stored History for ``key``, or None when this machine has not trained it."""
    path = stored_run_path(key, runs_directory)
    if not path.is_file():
        return None
    try:
        history = load_history(path)
    except ValueError:  # a damaged file: train again (and overwrite it)
        return None
    history.info["reused_from"] = str(path)
    return history


def store_run(key, history, runs_directory):
    """Store ``history`` as the run with ``key`` (stamped with when and where) and return it."""
    history.info["trained_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    notebook = os.environ.get("JPY_SESSION_NAME")  # set by Jupyter for a notebook's kernel
    if notebook:
        history.info["trained_in"] = Path(notebook).name
    save_history(history, stored_run_path(key, runs_directory))
    return history
