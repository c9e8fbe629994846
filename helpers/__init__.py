"""Loss Curves Lab helpers: data, models, training, history records and plots for the notebooks.

Import the modules you need (``from helpers import data, models, training, plots``); importing
``helpers`` itself stays light and does not load TensorFlow. It does set TensorFlow's C++ log
level and silence its start-up lines for when TensorFlow loads (``helpers.tensorflow_logs``), so
notebooks import helpers before Keras or TensorFlow and show none of those lines. In an IPython
kernel it also gives every matplotlib figure its alt text (``helpers.alt_text``), whichever
helpers module a notebook uses.
"""

from helpers.alt_text import enable_alt_text
from helpers.tensorflow_logs import quiet_tensorflow_logs

quiet_tensorflow_logs()
enable_alt_text()

__version__ = "0.1.0"
