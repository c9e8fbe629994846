import numpy as np

from helpers.history import History
from helpers.live import LiveLossPlot
from helpers.models import build_cnn, compile_cnn
from helpers.training import Recorder


class FakeRecorder:
    """What a listener reads: the recorder's history, one epoch added at a time."""

    def __init__(self):
        self.history = History(metrics={})


def feed(listener, epochs):
    recorder = FakeRecorder()
    listener.on_train_begin(recorder)
    for loss, val_loss in epochs:
        recorder.history.append_epoch({"loss": loss, "val_loss": val_loss, "accuracy": 0.5,
                                       "val_accuracy": 0.5, "learning_rate": 0.001})
        listener.on_epoch(recorder)


def test_outside_a_notebook_it_prints_one_line_per_epoch(capsys):
    feed(LiveLossPlot(in_notebook=False), [(1.0, 1.1), (0.8, 0.9), (0.6, 0.7)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch   1") and "val_loss 1.1000" in lines[0]
    assert "diagnosis: too_short" in lines[0] and "diagnosis:" in lines[2]
def test_in_a_notebook_one_display_is_updated_in_place(monkeypatch):
    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image))

    def display(image, display_id=False):
        assert display_id is True
        shown.append(("display", image))
        return Handle()

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", display)
    callback = LiveLossPlot(in_notebook=True)
    feed(callback, [(1.0, 1.1), (0.8, 0.9), (0.6, 0.7), (0.5, 0.8)])
    assert [kind for kind, _ in shown] == ["display", "update", "update", "update"]
    assert shown[-1][1].data.startswith(b"\x89PNG")
    loss_axis = callback.figure.axes[0]
    lines = {line.get_label(): line for line in loss_axis.get_lines()}
    assert list(lines["Validation loss"].get_ydata()) == [1.1, 0.9, 0.7, 0.8]
    assert "Diagnosis so far" in callback.figure.texts[0].get_text()


def test_works_inside_a_real_fit(capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(64, 28, 28, 1)).astype("float32") / 255
    labels = np.eye(10, dtype="float32")[rng.integers(0, 10, size=64)]
    model = compile_cnn(build_cnn(filters=2, dense_units=4))
    recorder = Recorder(listeners=[LiveLossPlot(in_notebook=False)])
    model.fit(images, labels, epochs=3, batch_size=32, validation_split=0.25, verbose=0,
              callbacks=[recorder])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("epoch   3")
    assert recorder.history.epochs == 3  # the plot kept no copy: it read the recorder
