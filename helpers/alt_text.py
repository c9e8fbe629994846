"""Alt text for figures: what the curves do, in words, for screen readers and the site.

``describe_figure(figure)`` reads what a figure draws (titles, axis labels, every labelled curve
from its first to its last value with its lowest and highest points, markers, shaded spans, bars
and images). A helper that knows more about an axis says so with ``set_description``:
``plot_history`` and ``plot_gallery`` describe each run with ``describe_history``, which adds
``diagnose()``'s verdict. ``enable_alt_text()`` (called when ``helpers`` is imported in a
notebook) gives every matplotlib figure the kernel displays that text, as the standard output
metadata ``{"image/png": {"alt": ...}}`` (nbconvert's HTML writes it as the image's ``alt``) and
as the figure's plain-text form.
"""

import math
import weakref

from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from helpers.history import as_history

MAX_CURVES = 20  # per axis; more are summarized as "and N more curves"
_descriptions = weakref.WeakKeyDictionary()  # axis -> text set by the helper that drew it


def _number(value):
    return f"{value:.3g}"


def _at(x, x_name):
    if x_name.lower().startswith("epoch"):
        return f"epoch {x:g}"
    return f"{x_name.lower() or 'x'} {x:.3g}"


def describe_values(xs, ys, x_name="epoch"):
    """Say what one curve does: where it starts and ends, its lowest and highest points, NaN."""
    points = [(float(x), float(y)) for x, y in zip(xs, ys)]
    if not points:
        return "has no points"
    finite = [(x, y) for x, y in points if math.isfinite(y)]
    broken = next(((x, y) for x, y in points if not math.isfinite(y)), None)
    if not finite:
        return f"has no finite value (it is {broken[1]} from {_at(broken[0], x_name)})"
    (x_first, first), (x_last, last) = finite[0], finite[-1]
    lowest = min(finite, key=lambda point: point[1])
    highest = max(finite, key=lambda point: point[1])
    spread = highest[1] - lowest[1]
    ends_above_lowest = min(first, last) - lowest[1]
    ends_below_highest = highest[1] - max(first, last)
    if len(finite) == 1:
        text = f"is {_number(first)} at {_at(x_first, x_name)}"
    elif spread <= 0.05 * max(abs(first), abs(last)):
        text = f"stays near {_number(first)} from {_at(x_first, x_name)} to {_at(x_last, x_name)}"
    elif lowest not in (finite[0], finite[-1]) and ends_above_lowest > 0.25 * spread > 0:
        text = (f"falls from {_number(first)} at {_at(x_first, x_name)} to its lowest, "
                f"{_number(lowest[1])} at {_at(lowest[0], x_name)}, then rises to "
                f"{_number(last)} at {_at(x_last, x_name)}")  # a V or a U
    elif highest not in (finite[0], finite[-1]) and ends_below_highest > 0.25 * spread > 0:
        text = (f"rises from {_number(first)} at {_at(x_first, x_name)} to its highest, "
                f"{_number(highest[1])} at {_at(highest[0], x_name)}, then falls to "
                f"{_number(last)} at {_at(x_last, x_name)}")  # a hill
    else:
        verb = "falls" if last < first else "rises"
        text = (f"{verb} from {_number(first)} at {_at(x_first, x_name)} to {_number(last)} at "
                f"{_at(x_last, x_name)}")
        if lowest not in (finite[0], finite[-1]) and spread > 0:
            text += f", lowest {_number(lowest[1])} at {_at(lowest[0], x_name)}"
        if highest not in (finite[0], finite[-1]) and ends_below_highest > 0.1 * spread > 0:
            text += f", highest {_number(highest[1])} at {_at(highest[0], x_name)}"
    if broken is not None:
        text += f"; it becomes {broken[1]} at {_at(broken[0], x_name)}"
    return text


def describe_history(history, name=None):
    """Say what a run's loss curves do and what ``diagnose()`` calls them, in two or three sentences."""
    from helpers.diagnose import diagnose

    history = as_history(history)
    curves = [(label, key) for label, key in (("training loss", "loss"),
                                              ("validation loss", "val_loss")) if key in history]
    if not curves or history.epochs == 0:
        raise ValueError("describe_history needs a history with 'loss' or 'val_loss' per epoch")
    prefix = f"{name}: " if name else ""
    parts = [f"{label} {describe_values(history.epoch_numbers, history[key])}"
             for label, key in curves]
    epochs = f"{history.epochs} epoch{'s' if history.epochs != 1 else ''}"
    text = f"{prefix}{epochs}; " + "; ".join(parts) + "."
    if len(curves) == 2:
        verdict = diagnose(history)
        text += f" diagnose(): {verdict.pattern}. {verdict.explanation}"
    return text


def set_description(axis, text):
    """Describe what ``axis`` shows in ``text`` (used by ``describe_figure`` instead of reading it)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    _descriptions[axis] = text.strip()


def _line_kind(line):
    xs, ys = list(line.get_xdata()), list(line.get_ydata())
    if len(xs) == 2 and xs[0] == xs[1] and list(ys) == [0, 1]:
        return "vertical"
    if line.get_linestyle() in ("None", "none", " ", ""):
        return "markers"
    if len(xs) == 1 and line.get_label().startswith("_"):
        return "decoration"  # e.g. the star on the best epoch, said by the curve's "lowest"
    return "curve"


def _describe_lines(axis, x_name):
    """Return (curves, markers): a phrase per curve, and one per vertical line or named marker."""
    parts, marks, curves = [], [], 0
    for index, line in enumerate(axis.get_lines(), 1):
        if not line.get_visible():
            continue
        label = line.get_label()
        named = not label.startswith("_")
        kind = _line_kind(line)
        if kind == "vertical":
            marks.append(label if named else f"a vertical line at {_at(line.get_xdata()[0], x_name)}")
        elif kind == "markers":
            if named:
                where = ", ".join(f"{x:g}" for x in line.get_xdata())
                marks.append(f"{label} at {x_name.lower() or 'x'} {where}")
        else:
            curves += 1
            if curves <= MAX_CURVES:
                name = label if named else f"curve {index}"
                parts.append(f"{name} {describe_values(line.get_xdata(), line.get_ydata(), x_name)}")
    if curves > MAX_CURVES:
        parts.append(f"and {curves - MAX_CURVES} more curves")
    return parts, marks


def _describe_bars(axis):
    parts = []
    for container in axis.containers:
        if not isinstance(container, BarContainer):
            continue
        horizontal = getattr(container, "orientation", None) == "horizontal"
        ticks = axis.get_yticks() if horizontal else axis.get_xticks()
        names = [tick.get_text() for tick in
                 (axis.get_yticklabels() if horizontal else axis.get_xticklabels())]
        by_position = dict(zip(ticks, names))
        for patch in container.patches:
            position = (patch.get_y() + patch.get_height() / 2 if horizontal
                        else patch.get_x() + patch.get_width() / 2)
            value = patch.get_width() if horizontal else patch.get_height()
            parts.append(f"{by_position.get(position, f'{position:g}')} {_number(value)}")
    return parts


def _describe_spans(axis):
    bars = {id(patch) for container in axis.containers for patch in container}
    return [patch.get_label() for patch in axis.patches
            if id(patch) not in bars and not patch.get_label().startswith("_")]


def describe_axis(axis):
    """Say what one axis shows: its title and labels, then its curves, markers, bars or images."""
    title = axis.get_title()
    if axis.images and not axis.get_lines():
        return f"image{': ' + title if title else ''}"
    x_name, y_name = axis.get_xlabel(), axis.get_ylabel()
    curves, marks = _describe_lines(axis, x_name)
    bars = _describe_bars(axis)
    head = f"{title}: " if title else ""
    if bars and not curves:
        head += f"bars of {x_name or y_name or 'values'}. "
    elif x_name or y_name:
        log = axis.get_yscale() == "log" and "log scale" not in y_name.lower()
        scale = " (log scale)" if log else ""
        head += f"{y_name or 'value'}{scale} against {x_name or 'x'}. "
    body = _descriptions.get(axis)
    if body is None:
        parts = curves + bars
        body = "; ".join(parts) + "." if parts else "nothing drawn."
    spans = _describe_spans(axis)
    return (head + body + (f" Marked: {'; '.join(marks)}." if marks else "")
            + (f" Shaded: {'; '.join(spans)}." if spans else ""))


def describe_figure(figure):
    """Return alt text for ``figure``: what each of its axes shows, in reading order."""
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
    axes = [axis for axis in figure.axes if axis.get_visible()]
    images = [axis for axis in axes if axis.images and not axis.get_lines()]
    texts = []
    if getattr(figure, "_suptitle", None) is not None and figure._suptitle.get_text():
        texts.append(figure._suptitle.get_text() + ".")
    if len(images) > 1 and len(images) == len(axes):
        titles = [axis.get_title() for axis in images]
        texts.append(f"{len(images)} images" + (f", titled {', '.join(titles)}." if any(titles)
                                                else "."))
    else:
        texts += [describe_axis(axis) for axis in axes]
    texts += [text.get_text() for text in figure.texts if text.get_text()]
    text = " ".join(texts)
    if not text:
        return "An empty figure."
    panels = len(axes) > 1 and len(images) != len(axes)
    return (f"{len(axes)} panels. " if panels else "") + text


def _figure_bundle(figure):
    text = describe_figure(figure)
    # No image data here: the kernel's own PNG formatter still draws the figure; this adds to it.
    return {"text/plain": text}, {"image/png": {"alt": text}}


def enable_alt_text():
    """Give every matplotlib figure this IPython kernel displays its alt text; False outside one.

    A registered mime-bundle printer survives ``%matplotlib inline`` (which resets only the
    per-format printers), so the order of imports does not matter. Calling it again is harmless.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    shell.display_formatter.mimebundle_formatter.for_type(Figure, _figure_bundle)
    return True
