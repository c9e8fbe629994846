import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.tensorflow_logs import LOG_LEVEL_VARIABLE, LOG_LINE, silenced_native_stderr

ROOT = Path(__file__).resolve().parent.parent
# A notebook's first steps: Keras (and so TensorFlow) loads, a seeded model evaluates real data;
# TensorFlow logs "I0000 ... oneDNN" at start-up and "E0000 ... NodeDef mentions attribute" here.
NOTEBOOK_START = """
import numpy as np
import keras
from helpers.data import load_fashion_mnist
from helpers.models import build_cnn, compile_cnn
from helpers.training import set_seed
set_seed(42)
(images, labels), _ = load_fashion_mnist(verbose=False)
model = compile_cnn(build_cnn())
loss, accuracy = model.evaluate(images[:512, ..., None] / 255.0,
                                keras.utils.to_categorical(labels[:512], 10), verbose=0)
print(f"loss {loss:.6f}")
"""


def run_python(code, **environment):
    env = {name: value for name, value in os.environ.items() if name != LOG_LEVEL_VARIABLE}
    env.update(environment, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def helpers_first():
    return run_python("import helpers\n" + NOTEBOOK_START)


def test_importing_helpers_first_keeps_tensorflow_log_lines_out(helpers_first):
    assert not LOG_LINE.search(helpers_first.stderr), helpers_first.stderr


def test_keras_first_shows_them_and_the_numbers_do_not_change(helpers_first):
    keras_first = run_python(NOTEBOOK_START)  # what a notebook that imports Keras first gets
    assert LOG_LINE.search(keras_first.stderr), "expected TensorFlow's start-up lines"
    assert keras_first.stdout == helpers_first.stdout and keras_first.stdout.startswith("loss ")


def test_a_log_level_of_0_shows_every_line_again():
    shown = run_python("import helpers\nimport tensorflow", TF_CPP_MIN_LOG_LEVEL="0")
    assert LOG_LINE.search(shown.stderr)


def test_silenced_native_stderr_drops_writes_to_descriptor_2_and_restores_it():
    done = run_python("import os\nfrom helpers.tensorflow_logs import silenced_native_stderr\n"
                      "with silenced_native_stderr():\n    os.write(2, b'hidden\\n')\n"
                      "os.write(2, b'shown\\n')")
    assert done.stderr == "shown\n"
    before = os.fstat(2)
    with silenced_native_stderr():
        assert os.path.samestat(os.fstat(2), os.stat(os.devnull))
    assert os.path.samestat(os.fstat(2), before)


def test_log_line_finds_tensorflows_cpp_lines_and_nothing_a_notebook_prints():
    for line in ("I0000 00:00:1732960000.123456  1234 port.cc:153] oneDNN custom operations are on",
                 "2026-11-30 16:31:51.075180: I tensorflow/core/util/port.cc:153] oneDNN custom "
                 "operations are on.",  # TensorFlow 2.20 (Colab) writes its own format
                 "2026-11-30 16:31:51.075180: E tensorflow/core/grappler/optimizers/meta_optimizer"
                 ".cc:966] NodeDef mentions attribute",
                 "E0000 00:00:1732960001.5 1234 meta_optimizer.cc:966] NodeDef mentions attribute "
                 "use_unbounded_threadpool",
                 "WARNING: All log messages before absl::InitializeLog() is called are written to "
                 "STDERR"):
        assert LOG_LINE.search("Epoch 1/4\n" + line + "\n"), line
    for text in ("Epoch 1/4\n750/750 - 9s - 12ms/step - accuracy: 0.7 - loss: 0.8\n",
                 "✓ the loss falls (first 2.302, last 0.512)\n", "E0 is a note, not a log line\n"):
        assert not LOG_LINE.search(text), text
