"""The training lab: controls, Train / Stop / Clear, live curves and ``diagnose()``'s verdict.

Introduced in ``10_training_lab.ipynb``. Built from core ipywidgets only; the buttons call plain
methods (``train``, ``stop``, ``clear``), so tests drive the lab without a browser. A run is
recorded by the ``Recorder`` of ``train``; the lab listens to it (to redraw after each epoch and
to stop on request) and draws with ``plots.compare_runs``.
"""

import html
import threading
from dataclasses import dataclass, field

import ipywidgets as widgets
from matplotlib.figure import Figure

from helpers import checks
from helpers.debugging import SCHEDULES
from helpers.diagnose import diagnose
from helpers.history import History
from helpers.models import OPTIMIZERS
from helpers.plots import compare_runs, to_png
from helpers.recipes import HEALTHY, run_recipe

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
    "warmup_steps": 0,
    "schedule": "constant",
}
LAB_INITIALIZERS = ("glorot_uniform", "he_normal", "zeros", "tiny", "huge")
LAB_WIDTHS = (0.125, 0.25, 0.5, 1.0, 2.0)
LAB_L2 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
LAB_MAX_EPOCHS = 100
LAB_MAX_LEARNING_RATE = 10.0
LAB_MIN_IMAGES = 100
LAB_MAX_WARMUP_STEPS = 10_000
VALIDATION_FRACTION = 0.2  # the lab validates on the last 20% of its subset, like the recipes
SEED_CNN_DENSE_UNITS = 128  # the lab's width scales the dense layer too


def check_lab_settings(settings, available_images=60_000):
    """Return a list of problems with the lab's settings (empty when they can be trained)."""
    training_images = round((1 - VALIDATION_FRACTION) * settings.get("training_images", 0)) \
        if isinstance(settings.get("training_images"), int) else 0
    rules = (
        lambda: checks.number(settings.get("learning_rate"), "learning_rate", 0,
                              LAB_MAX_LEARNING_RATE, low_open=True),
        lambda: checks.integer(settings.get("training_images"), "training_images",
                               LAB_MIN_IMAGES, available_images),
        lambda: checks.integer(settings.get("epochs"), "epochs", 1, LAB_MAX_EPOCHS),
        lambda: checks.integer(settings.get("batch_size"), "batch_size", 1,
                               max(1, training_images)),
        lambda: checks.number(settings.get("dropout", 0), "dropout", 0, 1, high_open=True),
        lambda: checks.number(settings.get("label_noise", 0), "label_noise", 0, 1),
        lambda: checks.one_of(settings.get("optimizer"), "optimizer", tuple(OPTIMIZERS)),
        lambda: checks.integer(settings.get("warmup_steps", 0), "warmup_steps", 0,
                               LAB_MAX_WARMUP_STEPS),
        lambda: checks.one_of(settings.get("schedule", "constant"), "schedule", SCHEDULES),
    )
    problems = []
    for rule in rules:
        try:
            rule()
        except ValueError as error:
            problems.append(str(error))
    return problems


def lab_changes(settings):
    """Turn the lab's settings into ``run_recipe`` changes of the healthy recipe."""
    width = settings["width"]
    return {
        "training_images": settings["training_images"],
        "epochs": settings["epochs"],
        "batch_size": settings["batch_size"],
        "learning_rate": settings["learning_rate"],
        "optimizer": settings["optimizer"],
        "label_noise": settings["label_noise"],
        "terminate_on_nan": True,
        "warmup_steps": settings.get("warmup_steps", 0),
        "schedule": settings.get("schedule", "constant"),
        "model": {"width": width, "dense_units": max(1, round(SEED_CNN_DENSE_UNITS * width)),
                  "dropout": settings["dropout"], "l2": settings["l2"],
                  "initializer": settings["initializer"]},
    }


def describe_settings(settings, defaults=LAB_DEFAULTS):
    """Return a short label naming the settings that differ from ``defaults`` (or 'defaults')."""
    changed = [f"{key.replace('_', ' ')} {value:g}" if isinstance(value, float)
               else f"{key.replace('_', ' ')} {value}"
               for key, value in settings.items() if defaults.get(key) != value]
    return ", ".join(changed) or "defaults"


@dataclass
class LabRun:
    """The run in progress: its name, its thread, the stop request, and what is recorded so far."""

    name: str
    stop_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    history: History = field(default_factory=lambda: History(metrics={}))


class TrainingLab:
    """Controls, Train / Stop / Clear buttons, live curves and the ``diagnose()`` verdict.

    Show it with ``TrainingLab(images, labels).widget``. Each run trains the healthy recipe with
    the chosen settings on a seeded subset; finished runs stay in ``runs`` (name -> History) and
    are overlaid on the plot. ``background=True`` trains in a thread, so the Stop button works
    while a run is going; ``wait()`` blocks until the current run is done. ``last_run`` is the
    one place that says whether a run is going (``current`` is it while it is not done).
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
        self.last_run = None
        self.verdict = None  # the last finished run's Diagnosis
        self.controls = self._make_controls(self.defaults, len(images))
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

    @staticmethod
    def _make_controls(defaults, available_images):
        options = dict(style={"description_width": "140px"},
                       layout=widgets.Layout(width="330px"))
        return {
            "learning_rate": widgets.BoundedFloatText(
                defaults["learning_rate"], min=0, max=LAB_MAX_LEARNING_RATE, step=0.0001,
                description="learning rate", **options),
            "batch_size": widgets.BoundedIntText(defaults["batch_size"], min=0, max=60_000,
                                                 description="batch size", **options),
            "width": widgets.Dropdown(options=LAB_WIDTHS, value=defaults["width"],
                                      description="model width (x)", **options),
            "dropout": widgets.FloatSlider(defaults["dropout"], min=0, max=0.9, step=0.05,
                                           description="dropout", **options),
            "l2": widgets.Dropdown(options=LAB_L2, value=defaults["l2"], description="L2",
                                   **options),
            "training_images": widgets.BoundedIntText(
                defaults["training_images"], min=0, max=available_images,
                description="training-set size", **options),
            "label_noise": widgets.FloatSlider(defaults["label_noise"], min=0, max=0.8,
                                               step=0.05, description="label noise", **options),
            "initializer": widgets.Dropdown(options=LAB_INITIALIZERS,
                                            value=defaults["initializer"],
                                            description="initializer", **options),
            "optimizer": widgets.Dropdown(options=tuple(OPTIMIZERS), value=defaults["optimizer"],
                                          description="optimizer", **options),
            "epochs": widgets.BoundedIntText(defaults["epochs"], min=0, max=LAB_MAX_EPOCHS,
                                             description="epochs", **options),
            "warmup_steps": widgets.BoundedIntText(defaults["warmup_steps"], min=0,
                                                   max=LAB_MAX_WARMUP_STEPS,
                                                   description="warm-up steps", **options),
            "schedule": widgets.Dropdown(options=SCHEDULES, value=defaults["schedule"],
                                         description="schedule", **options),
        }

    @property
    def current(self):
        """The run in progress (a ``LabRun``), or None."""
        run = self.last_run
        return run if run is not None and not run.done.is_set() else None

    @property
    def running(self):
        """True while a run is training."""
        return self.current is not None

    def settings(self):
        """Return the controls' current values as a plain dict."""
        return {name: control.value for name, control in self.controls.items()}

    def _say(self, message, colour="black"):
        self.status.value = f"<p style='color:{colour}'>{message}</p>"

    def _show_buttons(self, running):
        self.train_button.disabled, self.stop_button.disabled = running, not running

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
        run = LabRun(f"run {len(self.runs) + 1}: {describe_settings(settings, self.defaults)}")
        self.last_run = run
        self._show_buttons(running=True)
        self._say(f"Training <b>{html.escape(run.name)}</b>...")
        if self.background:
            threading.Thread(target=self._train, args=(run, settings), daemon=True).start()
        else:
            self._train(run, settings)

    def _train(self, run, settings):
        try:
            self._train_and_report(run, settings)
        except Exception as error:  # shown in the widget: a thread's traceback would be lost
            self._say(f"The run failed: {html.escape(type(error).__name__)}: "
                      f"{html.escape(str(error))}", "red")
        finally:
            self._show_buttons(running=False)
            run.done.set()

    def _train_and_report(self, run, settings):
        history = run_recipe(HEALTHY, self.images, self.labels, seed=self.seed,
                             listeners=[self], **lab_changes(settings))
        self.runs[run.name] = history
        self.redraw()
        if history.epochs == 0:
            self._say(f"{html.escape(run.name)} was stopped before its first epoch ended.")
            return
        verdict = diagnose(history)
        self._say(
            f"<b>{html.escape(run.name)}</b>{' (stopped)' if run.stop_requested.is_set() else ''}"
            f": <b>{verdict.pattern}</b>. {html.escape(verdict.explanation)}<br>"
            f"Advice: {html.escape(verdict.advice)}<br>Best validation loss "
            f"{min(history['val_loss']):.3f}, final validation accuracy "
            f"{history['val_accuracy'][-1]:.3f}, {sum(history.seconds_per_epoch):.0f} s.")
        self.verdict = verdict

    # Recorder listener methods: the run's recorder calls these while it trains.
    def on_train_begin(self, recorder):
        """Read the run in progress from its recorder."""
        if self.current is not None:
            self.current.history = recorder.history

    def on_batch(self, recorder):
        """Stop training after this batch when Stop was pressed."""
        if self.current is not None and self.current.stop_requested.is_set():
            recorder.model.stop_training = True

    def on_epoch(self, recorder):
        """Redraw the curves after each epoch."""
        self.redraw()

    def stop(self):
        """Ask the current run to stop after its current batch (it is kept, marked stopped)."""
        if self.current is not None:
            self.current.stop_requested.set()
            self._say("Stopping after this batch...")

    def wait(self, timeout=None):
        """Block until the current run is done (returns at once when nothing is training)."""
        if self.last_run is not None:
            self.last_run.done.wait(timeout)

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
        runs = dict(self.runs)
        run = self.current
        if run is not None and run.name not in self.runs:
            runs[f"{run.name} (in progress)"] = run.history
        if runs:
            compare_runs(runs, title="Training (solid) vs validation (dashed) loss", ax=axis)
            axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        figure.tight_layout()
        return figure

    def redraw(self):
        """Redraw the curves into the plot widget."""
        self.plot.value = to_png(self.draw())
