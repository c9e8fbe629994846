"""Loss Curves Lab helpers: data, models, training, history records and plots for the notebooks.

Import the modules you need (``from helpers import data, models, training, plots``); importing
``helpers`` itself stays light and does not load TensorFlow.
"""

__version__ = "0.1.0"
