"""Live loss curves while ``fit`` runs: one figure redrawn in place after every epoch.

Introduced in ``03_reading_loss_curves.ipynb``. ``LiveLossPlot`` keeps no copy of the losses: it
listens to the run's ``Recorder`` (``train(..., listeners=[LiveLossPlot()])``, or
``model.fit(..., callbacks=[Recorder(listeners=[LiveLossPlot()])])``) and draws what it has
recorded. In a notebook (JupyterLab, Notebook 7, VS Code, Colab: anything running an IPython
kernel) the figure is one output updated in place, so there is no flicker and no stack of
figures. In a plain script it prints one compact line per epoch instead.
"""

from matplotlib.figure import Figure

from helpers.alt_text import describe_figure
from helpers.diagnose import diagnose
from helpers.environment import running_in_notebook
from helpers.plots import plot_history, to_png


class LiveLossPlot:
    """A Recorder listener: redraw the training and validation curves after each epoch, in place.

    ``show_diagnosis=True`` writes the current ``diagnose()`` verdict under the plot (from the
    third epoch on). ``in_notebook`` forces the figure (True) or the text lines (False).
    """

    def __init__(self, title="Live loss curves", show_diagnosis=True, in_notebook=None):
        self.title = title
        self.show_diagnosis = show_diagnosis
        self.in_notebook = in_notebook
        self.figure = None
        self._display = None

    def on_train_begin(self, recorder):
        """Start a fresh figure for a new run."""
        self.figure = None
        self._display = None
        self._notebook = running_in_notebook() if self.in_notebook is None else self.in_notebook

    def on_epoch(self, recorder):
        """Draw (or print) the run as recorded so far."""
        history = recorder.history
        verdict = None
        if self.show_diagnosis and "val_loss" in history:
            verdict = diagnose(history)
        if self._notebook:
            self._show(self.render(history, verdict))
        else:
            print(self.summary_line(history, verdict), flush=True)

    def render(self, history, verdict=None):
        """Draw ``history`` (and the verdict) into this listener's figure and return the figure."""
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
        parts = [f"epoch {history.epochs:>3}"]
        parts += [f"{key} {values[-1]:.4f}" for key, values in history.metrics.items()]
        if verdict is not None:
            parts.append(f"diagnosis: {verdict.pattern}")
        return "  ".join(parts)

    def _show(self, figure):
        from IPython.display import Image, display

        image = Image(data=to_png(figure), format="png", metadata={"alt": describe_figure(figure)})
        if self._display is None:
            self._display = display(image, display_id=True)
        else:
            self._display.update(image)
