"""The training lab: controls, Train / Stop / Clear, live curves and ``diagnose()``'s verdict.

Introduced in ``11_training_lab.ipynb``. Built from core ipywidgets only; the buttons call plain
methods (``train``, ``stop``, ``clear``), so tests drive the lab without a browser. A run is
recorded by the ``Recorder`` of ``train``; the lab listens to it (to redraw after each epoch and
to stop on request) and draws with ``lab_figure.draw_runs``.
"""

import html
import math
import threading
import weakref
from dataclasses import dataclass, field

import ipywidgets as widgets

from helpers import checks
from helpers.debugging import SCHEDULES
from helpers.diagnose import diagnose
from helpers.history import History, without_penalty
from helpers.lab_figure import (
    best_validation_loss,
    draw_runs,
    is_off_scale,
    loss_values,
    readable_number,
    runs_table,
)
from helpers.models import OPTIMIZERS
from helpers.plots import to_png
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
STOP_TIMEOUT = 60  # seconds a new lab waits for an earlier lab's run to stop
PNG_DPI = 100  # the lab's plot: sharper than the live plots' default, for a readable legend


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


def same_settings_run(settings, earlier):
    """Return the name of the first run in ``earlier`` ({name: settings}) with these settings, or None."""
    return next((name for name, other in earlier.items() if other == settings), None)


@dataclass
class LabRun:
    """The run in progress: its number, name and settings, its stop request, what is recorded so far."""

    number: int
    name: str
    settings: dict
    same_as: str | None = None  # an earlier run with the same settings (and seed): the same curves
    stop_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    history: History = field(default_factory=lambda: History(metrics={}))


class TrainingLab:
    """Controls, Train / Stop / Clear buttons, live curves, a runs table and the ``diagnose()`` verdict.

    Show it with ``TrainingLab(images, labels).widget``. Each run trains the healthy recipe with
    the chosen settings on a seeded subset; finished runs stay in ``runs`` (name -> History) and
    are overlaid on the plot. ``background=True`` trains in a thread, so the Stop button works
    while a run is going; ``wait()`` blocks until the current run is done. ``last_run`` is the
    one place that says whether a run is going (``current`` is it while it is not done).
    ``status`` tells the run's story; ``message`` is the last note in plain text (a refused
    setting, a click while training), cleared when a setting changes. Creating a lab stops the
    runs of every earlier lab in the kernel (running all cells again must not leave one going).
    """

    _labs = weakref.WeakSet()  # every lab created in this kernel

    def __init__(self, images, labels, seed=42, background=True, **defaults):
        unknown = set(defaults) - set(LAB_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown lab setting(s) {', '.join(sorted(unknown))}; "
                             f"settings are {', '.join(LAB_DEFAULTS)}")
        for earlier in list(TrainingLab._labs):
            earlier.stop("a new lab was started in this kernel")
            earlier.wait(STOP_TIMEOUT)
        TrainingLab._labs.add(self)
        self.images, self.labels, self.seed = images, labels, seed
        self.background = background
        self.defaults = {**LAB_DEFAULTS, **defaults}
        self.runs = {}
        self.verdicts = {}  # name -> Diagnosis of each finished run
        self.run_settings = {}  # name -> the settings each finished run was trained with
        self.last_run = None
        self.verdict = None  # the last finished run's Diagnosis
        self.message = ""
        self._note_ends_with_run = False
        self.controls = self._make_controls(self.defaults, len(images))
        for control in self.controls.values():
            control.observe(lambda change: self._note(""), names="value")
        self.train_button = widgets.Button(description="Train", button_style="success",
                                           icon="play")
        self.stop_button = widgets.Button(description="Stop", button_style="danger",
                                          icon="stop", disabled=True)
        self.clear_button = widgets.Button(description="Clear runs", icon="trash")
        self.train_button.on_click(lambda button: self.train())
        self.stop_button.on_click(lambda button: self.stop())
        self.clear_button.on_click(lambda button: self.clear())
        self.notice = widgets.HTML("")
        self.status = widgets.HTML("<p>Choose settings and press <b>Train</b>.</p>")
        self.plot = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.table = widgets.HTML("")
        controls = list(self.controls.values())
        half = (len(controls) + 1) // 2
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox(controls[:half]), widgets.VBox(controls[half:])]),
            widgets.HBox([self.train_button, self.stop_button, self.clear_button]),
            self.notice,
            self.status,
            self.plot,
            self.table,
        ])
        for widget, css_class in ((self.widget, "training-lab"), (self.notice, "lab-notice"),
                                  (self.status, "lab-status"), (self.plot, "lab-plot"),
                                  (self.table, "lab-runs")):
            widget.add_class(css_class)  # names for the browser tests and for styling

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

    def _say(self, message):
        self.status.value = f"<p>{message}</p>"

    def _note(self, text, colour="black", until_run_ends=False):
        """Show ``text`` (plain text) on the note line above the status; '' clears it.

        ``until_run_ends`` notes (a click while training) go when the run ends; others stay until
        a setting changes or a run starts.
        """
        self.message = text
        self.notice.value = f"<p style='color:{colour}'>{html.escape(text)}</p>" if text else ""
        self._note_ends_with_run = until_run_ends

    def _show_buttons(self, running):
        self.train_button.disabled, self.stop_button.disabled = running, not running

    def train(self):
        """Check the settings and train one run (in a thread if ``background``); refuse bad ones."""
        current = self.current
        if current is not None:
            self._note(f"Already training {short_name(current.name)}: press Stop or wait for it "
                       f"to finish.", "darkorange", until_run_ends=True)
            return
        settings = self.settings()
        problems = check_lab_settings(settings, available_images=len(self.images))
        if problems:
            self._note("Not trained: " + "; ".join(problems) + ".", "red")
            return
        self._note("")
        number = (self.last_run.number if self.last_run is not None else 0) + 1
        same_as = same_settings_run(settings, self.run_settings)
        name = f"run {number}: {describe_settings(settings, self.defaults)}"
        if same_as is not None:
            name += f" (same as {short_name(same_as)})"
        run = LabRun(number, name, settings, same_as)
        self.last_run = run
        self._show_buttons(running=True)
        self._say(f"Training <b>{html.escape(run.name)}</b>...")
        if self.background:
            threading.Thread(target=self._train, args=(run,), daemon=True).start()
        else:
            self._train(run)

    def _train(self, run):
        try:
            self._train_and_report(run)
        except Exception as error:  # shown in the widget: a thread's traceback would be lost
            self._say(f"<span style='color:red'>The run failed: "
                      f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</span>")
        finally:
            if self._note_ends_with_run:
                self._note("")
            self._show_buttons(running=False)
            run.done.set()

    def _train_and_report(self, run):
        history = run_recipe(HEALTHY, self.images, self.labels, seed=self.seed,
                             listeners=[self], **lab_changes(run.settings))
        if history.epochs == 0:
            self._say(f"{html.escape(run.name)} was stopped before its first epoch ended.")
            return
        verdict = diagnose(without_penalty(history))  # an L2 penalty does not sway the verdict
        self.runs[run.name] = history
        self.verdicts[run.name] = verdict
        self.run_settings[run.name] = run.settings
        self.redraw()
        notes = []
        if is_off_scale(history):
            notes.append(f"Its loss went off the scale (up to {readable_number(max_loss(history))})"
                         f": the plot keeps its axis on the values it can show.")
        if run.same_as is not None:
            notes.append(f"Same settings and seed as {html.escape(short_name(run.same_as))}: the "
                         f"same curves, drawn exactly on top of each other. Change a setting to "
                         f"see a difference.")
        accuracy = history["val_accuracy"][-1] if "val_accuracy" in history else math.nan
        self._say(
            f"<b>{html.escape(run.name)}</b>{' (stopped)' if run.stop_requested.is_set() else ''}"
            f": <b>{verdict.pattern}</b>. {html.escape(verdict.explanation)}<br>"
            f"Advice: {html.escape(verdict.advice)}<br>Best validation loss "
            f"{readable_number(best_validation_loss(history))}, final validation accuracy "
            f"{readable_number(accuracy)}, {sum(history.seconds_per_epoch):.0f} s."
            + "".join(f"<br>{note}" for note in notes))
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

    def stop(self, reason=None):
        """Ask the current run to stop after its current batch (it is kept, marked stopped)."""
        if self.current is not None:
            self.current.stop_requested.set()
            self._say("Stopping after this batch" + (f": {html.escape(reason)}" if reason else "")
                      + "...")

    def wait(self, timeout=None):
        """Block until the current run is done (returns at once when nothing is training)."""
        if self.last_run is not None:
            self.last_run.done.wait(timeout)

    def clear(self):
        """Forget the finished runs and hide the plot."""
        if self.running:
            self._note("Stop the current run before clearing.", "darkorange", until_run_ends=True)
            return
        self.runs.clear()
        self.verdicts.clear()
        self.run_settings.clear()
        self.redraw()
        self._say("Runs cleared.")

    def shown_runs(self):
        """Return {name: History} of every finished run, then the run in progress (if any)."""
        runs = dict(self.runs)
        run = self.current
        if run is not None and run.name not in runs:
            runs[run.name] = run.history
        return runs

    def draw(self):
        """Return a figure: every finished run and the live one, training solid, validation dashed."""
        return self._draw()[0]

    def _draw(self):
        runs = self.shown_runs()
        labels = {name: self._label(name, history) for name, history in runs.items()}
        return draw_runs(runs, labels)

    def _label(self, name, history):
        tags = [self.verdicts[name].pattern if name in self.verdicts else "training"]
        if is_off_scale(history):
            tags.append("off the scale")
        return f"{short_name(name)} ({', '.join(tags)})"

    def redraw(self):
        """Redraw the curves into the plot widget and the runs table; hide the plot when empty."""
        figure, colours = self._draw()
        if colours:
            self.plot.value = to_png(figure, dpi=PNG_DPI)
            self.plot.layout.display = None
        else:
            self.plot.layout.display = "none"
            self.plot.value = b""
        self.table.value = runs_table([self._row(name, history, colours[name])
                                       for name, history in self.shown_runs().items()
                                       if name in colours])

    def _row(self, name, history, colour):
        training = name not in self.verdicts
        return {"name": name, "colour": colour,
                "verdict": "training..." if training else self.verdicts[name].pattern,
                "best": best_validation_loss(history),
                "epochs": f"{history.epochs} of {history.info.get('epochs', '?')}" if training
                else history.epochs,
                "seconds": sum(history.seconds_per_epoch)}


def short_name(name):
    """'run 2' from a run's full name 'run 2: learning rate 0.01'."""
    return name.split(":", 1)[0]


def max_loss(history):
    """The largest loss of ``history``: NaN or inf when it has one, else the largest value."""
    values = loss_values(history)
    not_finite = [value for value in values if not math.isfinite(value)]
    return not_finite[0] if not_finite else max(values)
