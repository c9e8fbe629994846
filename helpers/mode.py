"""Quick mode (for CI) versus full mode (for students), chosen by one environment variable.

Introduced in ``00_start_here.ipynb``. Notebooks name both sizes, ``EPOCHS = pick(full=15,
quick=2)``, and never branch on the mode themselves.
"""

import os

MODE_VARIABLE = "LCL_QUICK"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick():
    """Return True when the environment variable LCL_QUICK asks for quick mode."""
    raw = os.environ.get(MODE_VARIABLE, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"environment variable {MODE_VARIABLE}={raw!r} is not understood: "
        f"use 1 (quick mode, for CI) or 0 / unset (full mode, the default)"
    )


def mode_name():
    """Return "quick" or "full", for printing in a notebook."""
    return "quick" if is_quick() else "full"


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise."""
    return quick if is_quick() else full
