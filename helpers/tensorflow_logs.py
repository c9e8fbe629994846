"""Keep TensorFlow's C++ log lines (start-up notes, ``E0000 ... NodeDef`` errors) out of notebooks.

Jupyter kernels (JupyterLab, Notebook 7, Binder, Colab, nbval) copy whatever C++ code writes to
the process' standard error into the notebook, as pink error-looking boxes. TensorFlow's C++
logging reads ``TF_CPP_MIN_LOG_LEVEL`` once, when it loads, so the level must be set before
TensorFlow is imported; and a few start-up lines (absl's "All log messages before
absl::InitializeLog()" and oneDNN's note) are written before TensorFlow reads it, so they are
silenced while TensorFlow's libraries load. ``helpers/__init__.py`` calls ``quiet_tensorflow_logs``,
so a notebook gets this by importing helpers before Keras or TensorFlow. Set
``TF_CPP_MIN_LOG_LEVEL=0`` beforehand to see every line again. Nothing changes numerically.
"""

import contextlib
import importlib.util
import os
import re
import sys

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = "3"  # errors too: the E0000 lines are TensorFlow noting its own graph attributes
TENSORFLOW_MODULE = "tensorflow"
# What TensorFlow's C++ logging writes: "I0000 00:00:17... port.cc:153] ...", "E0000 ...", absl's
# "WARNING: All log messages before absl::InitializeLog()", the CPU-feature note. The tests look
# for it in what the notebooks showed (the browser tests, and the executed notebooks of the site).
LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+ |"  # absl's format (TensorFlow 2.21)
                      r"^\d{4}-\d\d-\d\d \d\d:\d\d:[\d.]+: [IWEF] tensorflow/|"  # TensorFlow 2.20's
                      r"absl::InitializeLog|cpu_feature_guard|oneDNN custom operations", re.MULTILINE)


@contextlib.contextmanager
def silenced_native_stderr():
    """Send what C and C++ code write to file descriptor 2 to /dev/null while the block runs."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class QuietTensorFlowImport:
    """A one-shot import hook: TensorFlow's first import runs with native standard error silenced.

    Python errors raised by the import still propagate; only C/C++ writes to descriptor 2 are
    dropped, and only while TensorFlow's modules execute.
    """

    def find_spec(self, name, path=None, target=None):
        """Find ``tensorflow`` the normal way and wrap its loading; ignore every other module."""
        if name != TENSORFLOW_MODULE:
            return None
        remove_hook(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            execute = spec.loader.exec_module

            def exec_module(module):
                with silenced_native_stderr():
                    execute(module)

            spec.loader.exec_module = exec_module
        return spec


def remove_hook(hook):
    """Take ``hook`` off ``sys.meta_path`` (if it is still there)."""
    if hook in sys.meta_path:
        sys.meta_path.remove(hook)


def quiet_tensorflow_logs():
    """Set TensorFlow's C++ log level (unless already set) and silence its start-up lines.

    Returns True when the start-up lines will be silenced: TensorFlow is not loaded yet and
    ``TF_CPP_MIN_LOG_LEVEL`` is not ``0``.
    """
    level = os.environ.setdefault(LOG_LEVEL_VARIABLE, QUIET_LEVEL)
    if TENSORFLOW_MODULE in sys.modules or level.strip() in ("", "0"):
        return False
    if not any(isinstance(hook, QuietTensorFlowImport) for hook in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowImport())
    return True
