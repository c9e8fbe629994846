"""Interactive widgets for the notebooks, built from core ipywidgets only (7.7 on Colab, 8 in Lab).

The logic lives in plain functions and small classes, so tests drive them without a browser by
setting ``.value`` on the controls.
"""

import html
import io
import math
import threading

import ipywidgets as widgets
import keras
import numpy as np
from matplotlib.figure import Figure

from helpers import losses
from helpers.diagnose import diagnose
from helpers.recipes import HEALTHY, OPTIMIZERS, run_recipe


def loss_values(prediction, target, delta=1.0, probability=0.5):
    """Return MSE, MAE and Huber for one prediction, and cross-entropy for ``probability``.

    ``probability`` is what a classifier gives to the true class; cross-entropy is ``-ln p``.
    """
    if not 0.0 < probability <= 1.0:
        raise ValueError(f"probability must be in (0, 1], got {probability}")
    pair = (np.array([target]), np.array([prediction]))
    return {
        "MSE": float(losses.mean_squared_error(*pair)),
        "MAE": float(losses.mean_absolute_error(*pair)),
        "Huber": float(losses.huber(*pair, delta=delta)),
        "Cross-entropy": -math.log(max(probability, losses.EPSILON)),
    }


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


class LossExplorer:
    """Sliders for prediction, true value, Huber delta and the true-class probability; live losses.

    Show it with ``LossExplorer().widget``. Every change recomputes ``values``, rewrites the
    table and redraws the curves with the current point marked.
    """

    ERROR_RANGE = 4.0

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
        self.image.value = _png(self.draw(error))

    def draw(self, error):
        """Return a figure: MSE, MAE, Huber against the error, cross-entropy against p."""
        figure = Figure(figsize=(10, 3.4))
        left, right = figure.subplots(1, 2)
        errors = np.linspace(-self.ERROR_RANGE, self.ERROR_RANGE, 401)
        zeros = np.zeros((len(errors), 1))
        curves = {"MSE": losses.mean_squared_error(zeros, errors[:, None]),
                  "MAE": losses.mean_absolute_error(zeros, errors[:, None]),
                  f"Huber (δ={self.delta.value:.2f})": losses.huber(zeros, errors[:, None],
                                                                    self.delta.value)}
        for (name, curve), value in zip(curves.items(), list(self.values.values())[:3]):
            line = left.plot(errors, curve, label=name)[0]
            left.plot([error], [value], "o", color=line.get_color())
        left.set_ylim(0, 8)
        left.set_xlabel("error ŷ - y")
        left.set_ylabel("loss")
        left.legend()
        left.grid(alpha=0.3)
        probabilities = np.linspace(0.01, 1.0, 200)
        right.plot(probabilities, -np.log(probabilities), color="tab:red", label="-ln p")
        right.plot([self.probability.value], [self.values["Cross-entropy"]], "o", color="tab:red")
        right.set_xlabel("probability given to the true class")
        right.set_ylabel("cross-entropy")
        right.legend()
        right.grid(alpha=0.3)
        figure.tight_layout()
        return figure


LAB_DEFAULTS = {
    "learning_rate": 0.001,
    "batch_size": 64,
    "width": 1.0,
    "dropout": 0.5,
    "l2": 0.0,
    "training_images": 3_000,
    "label_noise": 0.0,
    "initializer": "glorot_uniform",
    "optimizer": "adam",
    "epochs": 10,
}
LAB_INITIALIZERS = ("glorot_uniform", "he_normal", "zeros", "tiny", "huge")
LAB_WIDTHS = (0.125, 0.25, 0.5, 1.0, 2.0)
LAB_L2 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
LAB_MAX_EPOCHS = 100


def check_lab_settings(settings, available_images=60_000):
    """Return a list of problems with the lab's settings (empty when they can be trained)."""
    problems = []
    rate, batch, images, epochs = (settings.get(key) for key in
                                   ("learning_rate", "batch_size", "training_images", "epochs"))
    if not isinstance(rate, (int, float)) or not 0 < rate <= 10:
        problems.append(f"learning rate must be above 0 and at most 10, got {rate}")
    if not isinstance(images, int) or not 100 <= images <= available_images:
        problems.append(f"training-set size must be from 100 to {available_images} images, "
                        f"got {images}")
    if not isinstance(epochs, int) or not 1 <= epochs <= LAB_MAX_EPOCHS:
        problems.append(f"epochs must be from 1 to {LAB_MAX_EPOCHS}, got {epochs}")
    if not isinstance(batch, int) or batch < 1:
        problems.append(f"batch size must be a positive integer, got {batch}")
    elif isinstance(images, int) and batch > int(0.8 * images):
        problems.append(f"batch size {batch} is larger than the {int(0.8 * images)} training "
                        f"images (80% of {images}; the rest validate)")
    if not 0 <= settings.get("dropout", 0) < 1:
        problems.append(f"dropout must be from 0 to below 1, got {settings.get('dropout')}")
    if not 0 <= settings.get("label_noise", 0) <= 1:
        problems.append(f"label noise must be from 0 to 1, got {settings.get('label_noise')}")
    if settings.get("optimizer") not in OPTIMIZERS:
        problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                        f"got {settings.get('optimizer')!r}")
    return problems


def lab_changes(settings):
    """Turn the lab's settings into ``run_recipe`` changes of the healthy recipe (both modes alike)."""
    width = settings["width"]
    return {
        "training_images": settings["training_images"],
        "quick_training_images": settings["training_images"],
        "epochs": settings["epochs"],
        "quick_epochs": settings["epochs"],
        "batch_size": settings["batch_size"],
        "learning_rate": settings["learning_rate"],
        "optimizer": settings["optimizer"],
        "label_noise": settings["label_noise"],
        "terminate_on_nan": True,
        "model": {"width": width, "dense_units": max(1, round(128 * width)),
                  "dropout": settings["dropout"], "l2": settings["l2"],
                  "initializer": settings["initializer"]},
    }


def describe_settings(settings, defaults=LAB_DEFAULTS):
    """Return a short label naming the settings that differ from ``defaults`` (or 'defaults')."""
    changed = [f"{key.replace('_', ' ')} {value:g}" if isinstance(value, float)
               else f"{key.replace('_', ' ')} {value}"
               for key, value in settings.items() if defaults.get(key) != value]
    return ", ".join(changed) or "defaults"


class _LabCallback(keras.callbacks.Callback):
    """Hand the lab each epoch's logs, and stop training when the lab's Stop button was pressed."""

    def __init__(self, lab):
        super().__init__()
        self.lab = lab

    def on_train_batch_end(self, batch, logs=None):
        if self.lab.stop_requested.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.lab._epoch_done({key: float(value) for key, value in (logs or {}).items()})


class TrainingLab:
    """Controls, Train / Stop / Clear buttons, live curves and the ``diagnose()`` verdict.

    Show it with ``TrainingLab(images, labels).widget``. Each run trains the healthy recipe with
    the chosen settings on a seeded subset; finished runs stay in ``runs`` (name -> History) and
    are overlaid on the plot. ``background=True`` trains in a thread, so the Stop button works
    while a run is going; ``wait()`` blocks until the current run is done.
    """

    def __init__(self, images, labels, seed=42, background=True, **defaults):
        unknown = set(defaults) - set(LAB_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown lab setting(s) {', '.join(sorted(unknown))}; "
                             f"settings are {', '.join(LAB_DEFAULTS)}")
        self.images, self.labels, self.seed = images, labels, seed
        self.background = background
        self.defaults = {**LAB_DEFAULTS, **defaults}
        self.runs = {}
        self.stop_requested = threading.Event()
        self._thread = None
        self._live = None
        self.verdict = None  # the last finished run's Diagnosis
        style = {"description_width": "140px"}
        layout = widgets.Layout(width="330px")
        options = dict(style=style, layout=layout)
        d = self.defaults
        self.controls = {
            "learning_rate": widgets.BoundedFloatText(d["learning_rate"], min=0, max=10,
                                                      step=0.0001, description="learning rate",
                                                      **options),
            "batch_size": widgets.BoundedIntText(d["batch_size"], min=0, max=60_000,
                                                 description="batch size", **options),
            "width": widgets.Dropdown(options=LAB_WIDTHS, value=d["width"],
                                      description="model width (x)", **options),
            "dropout": widgets.FloatSlider(d["dropout"], min=0, max=0.9, step=0.05,
                                           description="dropout", **options),
            "l2": widgets.Dropdown(options=LAB_L2, value=d["l2"], description="L2", **options),
            "training_images": widgets.BoundedIntText(d["training_images"], min=0,
                                                      max=len(images),
                                                      description="training-set size",
                                                      **options),
            "label_noise": widgets.FloatSlider(d["label_noise"], min=0, max=0.8, step=0.05,
                                               description="label noise", **options),
            "initializer": widgets.Dropdown(options=LAB_INITIALIZERS, value=d["initializer"],
                                            description="initializer", **options),
            "optimizer": widgets.Dropdown(options=tuple(OPTIMIZERS), value=d["optimizer"],
                                          description="optimizer", **options),
            "epochs": widgets.BoundedIntText(d["epochs"], min=0, max=LAB_MAX_EPOCHS,
                                             description="epochs", **options),
        }
        self.train_button = widgets.Button(description="Train", button_style="success",
                                           icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger",
                                          icon="stop", disabled=True)
        self.clear_button = widgets.Button(description="Clear runs", icon="trash")
        self.train_button.on_click(lambda button: self.train())
        self.stop_button.on_click(lambda button: self.stop())
        self.clear_button.on_click(lambda button: self.clear())
        self.status = widgets.HTML("<p>Choose settings and press <b>Train</b>.</p>")
        self.plot = widgets.Image(format="png")
        controls = list(self.controls.values())
        half = (len(controls) + 1) // 2
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox(controls[:half]), widgets.VBox(controls[half:])]),
            widgets.HBox([self.train_button, self.stop_button, self.clear_button]),
            self.status,
            self.plot,
        ])

    @property
    def running(self):
        """True while a run is training."""
        return self._thread is not None and self._thread.is_alive()

    def settings(self):
        """Return the controls' current values as a plain dict."""
        return {name: control.value for name, control in self.controls.items()}

    def _say(self, message, colour="black"):
        self.status.value = f"<p style='color:{colour}'>{message}</p>"

    def train(self):
        """Check the settings and train one run (in a thread if ``background``); refuse bad ones."""
        if self.running:
            self._say("A run is still training: press Stop or wait for it.", "darkorange")
            return
        settings = self.settings()
        problems = check_lab_settings(settings, available_images=len(self.images))
        if problems:
            self._say("Not trained: " + "; ".join(html.escape(p) for p in problems) + ".", "red")
            return
        name = f"run {len(self.runs) + 1}: {describe_settings(settings, self.defaults)}"
        self.stop_requested.clear()
        self._live = {"name": name, "logs": {}}
        self.train_button.disabled, self.stop_button.disabled = True, False
        self._say(f"Training <b>{html.escape(name)}</b>...")
        if self.background:
            self._thread = threading.Thread(target=self._run, args=(name, settings), daemon=True)
            self._thread.start()
        else:
            self._run(name, settings)

    def _run(self, name, settings):
        try:
            history = run_recipe(HEALTHY, self.images, self.labels, seed=self.seed,
                                 callbacks=[_LabCallback(self)], **lab_changes(settings))
        except Exception as error:  # shown in the widget: a thread's traceback would be lost
            self._say(f"The run failed: {html.escape(type(error).__name__)}: "
                      f"{html.escape(str(error))}", "red")
            return
        finally:
            self._live = None
            self.train_button.disabled, self.stop_button.disabled = False, True
        stopped = self.stop_requested.is_set()
        self.runs[name] = history
        self.redraw()
        if history.epochs == 0:
            self._say(f"{html.escape(name)} was stopped before its first epoch ended.")
            return
        verdict = diagnose(history)
        self._say(
            f"<b>{html.escape(name)}</b>{' (stopped)' if stopped else ''}: "
            f"<b>{verdict.pattern}</b>. {html.escape(verdict.explanation)}<br>"
            f"Advice: {html.escape(verdict.advice)}<br>Best validation loss "
            f"{min(history['val_loss']):.3f}, final validation accuracy "
            f"{history['val_accuracy'][-1]:.3f}, {sum(history.seconds_per_epoch):.0f} s.")
        self.verdict = verdict

    def _epoch_done(self, logs):
        live = self._live
        if live is None:
            return
        for key, value in logs.items():
            live["logs"].setdefault(key, []).append(value)
        self.redraw()

    def stop(self):
        """Ask the current run to stop after its current batch (it is kept, marked stopped)."""
        if self.running or self._live is not None:
            self.stop_requested.set()
            self._say("Stopping after this batch...")

    def wait(self, timeout=None):
        """Block until the current run is done (returns at once when nothing is training)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def clear(self):
        """Forget the finished runs and clear the plot."""
        if self.running:
            self._say("Stop the current run before clearing.", "darkorange")
            return
        self.runs.clear()
        self.plot.value = b""
        self._say("Runs cleared.")

    def draw(self):
        """Return a figure: every finished run and the live one, training solid, validation dashed."""
        figure = Figure(figsize=(10, 4))
        axis = figure.subplots()
        curves = [(name, history.metrics) for name, history in self.runs.items()]
        if self._live is not None:
            curves.append((self._live["name"] + " (training)", self._live["logs"]))
        colours = [f"C{index % 10}" for index in range(len(curves))]
        for (name, metrics), colour in zip(curves, colours):
            for key, style in (("loss", "-"), ("val_loss", "--")):
                values = metrics.get(key, [])
                if values:
                    axis.plot(range(1, len(values) + 1), values, style, marker=".", color=colour,
                              label=f"{name} ({'validation' if key == 'val_loss' else 'training'})")
        axis.set_xlabel("Epochs")
        axis.set_ylabel("Loss")
        axis.grid(alpha=0.3)
        if curves:
            axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        figure.tight_layout()
        return figure

    def redraw(self):
        """Redraw the curves into the plot widget."""
        self.plot.value = _png(self.draw())
