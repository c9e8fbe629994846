"""What a student's environment has: Python, TensorFlow, devices, the dataset, and the mode.

Introduced in ``00_start_here.ipynb``, so a student sees at once what will and will not work.
"""

import platform
import sys
import tomllib
from pathlib import Path

from helpers.data import locate_fashion_mnist
from helpers.mode import mode_name

MINIMUM_PYTHON = (3, 11)
PROJECT_NAME = "loss-curves-lab"  # [project] name in the repository's pyproject.toml


def _dataset_report():
    try:
        source = locate_fashion_mnist()
    except FileNotFoundError as error:
        return False, str(error)
    if source is None:
        return True, "not on this machine: Keras will download it on first use (needs internet)"
    return True, str(source)


def running_in_notebook():
    """Return True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def check_environment():
    """Return a dict describing this environment, with ``ready`` False and ``problems`` if not usable."""
    problems = []
    report = {"python": platform.python_version(), "platform": platform.platform(terse=True),
              "on_colab": "google.colab" in sys.modules, "mode": mode_name()}
    if sys.version_info[:2] < MINIMUM_PYTHON:
        problems.append(f"Python {report['python']} is too old: Keras 3 needs "
                        f"{'.'.join(map(str, MINIMUM_PYTHON))} or newer")
    try:
        import keras
        import tensorflow as tf

        report["tensorflow"] = tf.__version__
        report["keras"] = keras.__version__
        gpus = tf.config.list_physical_devices("GPU")
        report["devices"] = "GPU: " + ", ".join(d.name for d in gpus) if gpus else "CPU only"
    except ImportError as error:
        report["tensorflow"] = report["keras"] = report["devices"] = "missing"
        problems.append(f"TensorFlow/Keras could not be imported ({error}); install with "
                        f"pip install -e '.[tensorflow]'")
    found, where = _dataset_report()
    report["fashion_mnist"] = where
    if not found:
        problems.append(where)
    report["problems"] = problems
    report["ready"] = not problems
    return report


def repository_root(start=None):
    """Return the checkout of this project that holds ``start`` (default: the working folder), or None.

    Walks up from ``start`` to the first folder whose ``pyproject.toml`` names this project. A
    notebook's kernel runs in ``notebooks/`` (JupyterLab, nbval, Binder), inside the checkout;
    on Colab it runs in ``/content``, outside any checkout, and this returns None.
    """
    start = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (start, *start.parents):
        try:
            project = tomllib.loads((folder / "pyproject.toml").read_text()).get("project", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if project.get("name") == PROJECT_NAME:
            return folder
    return None


def build_folder(start=None):
    """Return the folder for the files a notebook writes: the repository's ``build/``.

    Outside a checkout (Colab) it is ``build/`` in ``start`` (default: the working folder), e.g.
    ``/content/build``. Ignored by git, and not in ``notebooks/``, so JupyterLab's file browser
    lists only the notebooks. The folder is not created here.
    """
    start = Path(start if start is not None else Path.cwd()).resolve()
    root = repository_root(start)
    return (start if root is None else root) / "build"
