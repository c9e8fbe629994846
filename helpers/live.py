"""Live loss curves while ``fit`` runs: one figure redrawn in place after every epoch.

Introduced in ``03_reading_loss_curves.ipynb``. In a notebook (JupyterLab, Notebook 7, VS Code,
Colab: anything running an IPython kernel) the figure is one output updated in place, so there is
no flicker and no stack of figures, and the last version stays in the notebook. In a plain script
it prints one compact line per epoch instead.
"""

import io

import keras
from matplotlib.figure import Figure

from helpers.diagnose import diagnose
from helpers.history import History
from helpers.plots import plot_history


def running_in_notebook():
    """Return True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveLossPlot(keras.callbacks.Callback):
    """Keras callback: redraw the training and validation curves after each epoch, in place.

    ``show_diagnosis=True`` writes the current ``diagnose()`` verdict under the plot (from the
    third epoch on). ``in_notebook`` forces the figure (True) or the text lines (False).
    """

    def __init__(self, title="Live loss curves", show_diagnosis=True, in_notebook=None):
        super().__init__()
        self.title = title
        self.show_diagnosis = show_diagnosis
        self.in_notebook = in_notebook

    def on_train_begin(self, logs=None):
        self.logs = {}
        self.figure = None
        self._display = None
        self._notebook = running_in_notebook() if self.in_notebook is None else self.in_notebook

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if key != "learning_rate":
                self.logs.setdefault(key, []).append(float(value))
        history = self.history_so_far()
        verdict = None
        if self.show_diagnosis and "val_loss" in history:
            verdict = diagnose(history)
        if self._notebook:
            self._show(self.render(history, verdict))
        else:
            print(self.summary_line(history, verdict), flush=True)

    def history_so_far(self):
        """Return the epochs seen so far as a History."""
        return History(metrics={key: list(values) for key, values in self.logs.items()})

    def render(self, history, verdict=None):
        """Draw ``history`` (and the verdict) into this callback's figure and return the figure."""
        if self.figure is None:
            # A pyplot-free Figure: it is shown only through the display handle, never twice.
            self.figure = Figure(figsize=(11, 4.6 if verdict else 4))
        plot_history(history, title=self.title, figure=self.figure,
                     diagnosis=verdict if verdict and verdict.pattern != "too_short" else None)
        if verdict is not None:
            self.figure.text(0.01, 0.01, f"Diagnosis so far: {verdict.pattern}. "
                             f"{verdict.explanation}", fontsize=9, wrap=True)
            self.figure.subplots_adjust(bottom=0.2)
        return self.figure

    def summary_line(self, history, verdict=None):
        """One compact line for the latest epoch, for scripts and logs."""
        epoch = history.epochs
        parts = [f"epoch {epoch:>3}"]
        parts += [f"{key} {values[-1]:.4f}" for key, values in history.metrics.items()]
        if verdict is not None:
            parts.append(f"diagnosis: {verdict.pattern}")
        return "  ".join(parts)

    def _show(self, figure):
        from IPython.display import Image, display

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        image = Image(data=buffer.getvalue(), format="png")
        if self._display is None:
            self._display = display(image, display_id=True)
        else:
            self._display.update(image)
