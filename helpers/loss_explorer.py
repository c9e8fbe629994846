"""The loss explorer: sliders for a prediction and a true value, and the four losses, live.

Introduced in ``01_loss_definitions.ipynb``. Built from core ipywidgets only (7.7 on Colab, 8 in
JupyterLab); the logic lives in ``loss_values`` and ``update``, so tests drive it without a
browser by setting ``.value`` on the sliders.
"""

import math

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from helpers import checks, losses
from helpers.plots import to_png


def loss_values(prediction, target, delta=1.0, probability=0.5):
    """Return MSE, MAE and Huber for one prediction, and cross-entropy for ``probability``.

    ``probability`` is what a classifier gives to the true class; cross-entropy is ``-ln p``.
    """
    checks.number(probability, "probability", 0, 1, low_open=True)
    pair = (np.array([target]), np.array([prediction]))
    return {
        "MSE": float(losses.mean_squared_error(*pair)),
        "MAE": float(losses.mean_absolute_error(*pair)),
        "Huber": float(losses.huber(*pair, delta=delta)),
        "Cross-entropy": -math.log(max(probability, losses.EPSILON)),
    }


class LossExplorer:
    """Sliders for prediction, true value, Huber delta and the true-class probability; live losses.

    Show it with ``LossExplorer().widget``. Every change recomputes ``values``, rewrites the
    table and redraws the curves with the current point marked. The error axis spans every
    error the sliders allow and the loss axis grows with the current point, so it stays in view.
    """

    LOSS_AXIS_TOP = 8.0  # the loss axis' least height: MSE, MAE and Huber all visible near 0

    def __init__(self, prediction=1.5, target=0.0, delta=1.0, probability=0.7):
        slider = dict(continuous_update=True, readout_format=".2f",
                      style={"description_width": "150px"},
                      layout=widgets.Layout(width="420px"))
        self.prediction = widgets.FloatSlider(prediction, min=-3, max=3, step=0.05,
                                              description="prediction ŷ", **slider)
        self.target = widgets.FloatSlider(target, min=-3, max=3, step=0.05,
                                          description="true value y", **slider)
        self.delta = widgets.FloatSlider(delta, min=0.1, max=3, step=0.05,
                                         description="Huber delta δ", **slider)
        self.probability = widgets.FloatSlider(probability, min=0.01, max=1.0, step=0.01,
                                               description="p(true class)", **slider)
        self.table = widgets.HTML()
        self.image = widgets.Image(format="png")
        for control in (self.prediction, self.target, self.delta, self.probability):
            control.observe(self.update, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.prediction, self.target, self.delta,
                                        self.probability]), self.table]),
            self.image,
        ])
        for widget, css_class in ((self.widget, "loss-explorer"), (self.table, "loss-table"),
                                  (self.image, "loss-plot")):
            widget.add_class(css_class)  # names for the browser tests and for styling
        self.update()

    def update(self, change=None):
        """Recompute the four losses and redraw; called on every slider change."""
        self.values = loss_values(self.prediction.value, self.target.value, self.delta.value,
                                  self.probability.value)
        error = self.prediction.value - self.target.value
        rows = "".join(f"<tr><td>{name}</td><td style='text-align:right'>{value:.4f}</td></tr>"
                       for name, value in self.values.items())
        self.table.value = (f"<table><tr><th>loss</th><th>value</th></tr>{rows}</table>"
                            f"<p>error ŷ - y = {error:+.2f}</p>")
        self.image.value = to_png(self.draw(error))

    def error_reach(self):
        """The largest error the prediction and true-value sliders allow, either way."""
        return max(self.prediction.max - self.target.min, self.target.max - self.prediction.min)

    def draw(self, error):
        """Return a figure: MSE, MAE, Huber against the error, cross-entropy against p."""
        figure = Figure(figsize=(10, 3.4))
        left, right = figure.subplots(1, 2)
        reach = self.error_reach()
        errors = np.linspace(-reach, reach, 401)
        zeros = np.zeros((len(errors), 1))
        curves = {"MSE": losses.mean_squared_error(zeros, errors[:, None]),
                  "MAE": losses.mean_absolute_error(zeros, errors[:, None]),
                  f"Huber (δ={self.delta.value:.2f})": losses.huber(zeros, errors[:, None],
                                                                    self.delta.value)}
        for (name, curve), value in zip(curves.items(), list(self.values.values())[:3]):
            line = left.plot(errors, curve, label=name)[0]
            left.plot([error], [value], "o", color=line.get_color())
        top = max(self.LOSS_AXIS_TOP, 1.1 * max(list(self.values.values())[:3]))
        left.set_xlim(-1.03 * reach, 1.03 * reach)
        left.set_ylim(-0.03 * top, top)
        left.set_xlabel("error ŷ - y")
        left.set_ylabel("loss")
        left.legend()
        left.grid(alpha=0.3)
        probabilities = np.linspace(self.probability.min, 1.0, 200)
        right.plot(probabilities, -np.log(probabilities), color="tab:red", label="-ln p")
        top = 1.1 * -np.log(self.probability.min)
        right.set_xlim(0, 1.03)
        right.set_ylim(-0.03 * top, top)
        right.plot([self.probability.value], [self.values["Cross-entropy"]], "o", color="tab:red")
        right.set_xlabel("probability given to the true class")
        right.set_ylabel("cross-entropy")
        right.legend()
        right.grid(alpha=0.3)
        figure.tight_layout()
        return figure
