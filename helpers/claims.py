"""Claims a notebook makes about its curves, each checked where it is made, with its numbers.

Introduced in ``00_start_here.ipynb``. ``check("the validation loss rises", last > best,
best=best, last=last)`` prints ``✓ the validation loss rises (best 0.312, last 0.405)`` or raises
``AssertionError`` with the claim and the measured numbers. Every notebook ends with
``print_checked()``: the list of what it checked, as a student reads it. The claim's text also
appears in the markdown above the check (a test keeps the two from drifting apart).
"""

import numbers

import numpy as np

from helpers import checks

_CHECKED = []  # (claim, numbers text) of every check passed in this kernel, in order


def _format(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, numbers.Real):
        return f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(item) for item in value) + "]"
    return str(value)


def check(claim, condition, **measured):
    """Check one claim: print ``✓ claim (numbers)``, or raise AssertionError with the numbers."""
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim must be a sentence, got {claim!r}")
    if not isinstance(condition, (bool, np.bool_)):
        raise ValueError(f"condition must be True or False (a comparison), got "
                         f"{type(condition).__name__} {condition!r}")
    numbers_text = ", ".join(f"{name.replace('_', ' ')} {_format(value)}"
                             for name, value in measured.items())
    line = claim + (f" ({numbers_text})" if numbers_text else "")
    if not condition:
        raise AssertionError(f"✗ NOT TRUE HERE: {line}")
    _CHECKED.append(line)
    print(f"✓ {line}")
    return True


def checked():
    """Return the lines of every check passed so far in this kernel, in order."""
    return list(_CHECKED)


def print_checked():
    """Print the numbered list of what this notebook checked (for its closing section)."""
    lines = checked()
    print(f"This notebook checked {len(lines)} claim(s), all true on this run:")
    for number, line in enumerate(lines, 1):
        print(f"{number:>3}. {line}")
    return len(lines)


def beyond_noise(difference, spread, name="difference"):
    """Return True when ``difference`` is larger than ``spread`` (the seed-to-seed range)."""
    checks.number(difference, name)
    checks.number(spread, "spread", low=0)
    return abs(difference) > spread
