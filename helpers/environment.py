"""What a student's environment has: Python, TensorFlow, devices, the dataset, and the mode.

Introduced in ``00_start_here.ipynb``, so a student sees at once what will and will not work.
"""

import platform
import sys

from helpers.data import locate_fashion_mnist
from helpers.mode import mode_name

MINIMUM_PYTHON = (3, 11)


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
