"""Command line: ``python -m helpers.diagnose LOG [--plot OUT.png] [--json] [--baseline-loss X]``.

``LOG`` is anything ``helpers.history.as_history`` reads from disk: a Keras ``CSVLogger`` file,
a JSON history, a PyTorch Lightning ``metrics.csv``, a TensorBoard log folder or a saved run.
Prints the verdict, its evidence and the advice (or, with ``--json``, the same as JSON), draws
the annotated curves with ``--plot``, and exits with status 1 and a message naming the file when
it cannot read the log.
"""

import argparse
import json
import sys

from helpers.diagnose import diagnose
from helpers.history import as_history

UNREADABLE_STATUS = 1  # exit status for a log that cannot be read or diagnosed


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m helpers.diagnose",
        description="Name the pattern in a training log's loss curves, with the numbers that "
                    "decided it and advice.")
    parser.add_argument("log", help="CSVLogger CSV, JSON history, Lightning metrics.csv, "
                                    "TensorBoard log folder or saved run")
    parser.add_argument("--plot", metavar="OUT.png", help="also draw the annotated curves to this file")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    parser.add_argument("--baseline-loss", type=float, default=None, metavar="X",
                        help="loss of a model that learned nothing (ln K for K-class "
                             "cross-entropy); enables the 'far above the baseline' rules")
    return parser


def run(log, plot=None, as_json=False, baseline_loss=None):
    """Diagnose one log; return the text to print (and write the plot when asked)."""
    history = as_history(log)
    verdict = diagnose(history, baseline_loss=baseline_loss)
    if plot:
        import matplotlib

        matplotlib.use("Agg")  # draw to a file, no window
        from helpers.plots import plot_history

        figure, _ = plot_history(history, title=str(log), diagnosis=verdict)
        figure.savefig(plot, dpi=110, bbox_inches="tight")
        matplotlib.pyplot.close(figure)
    if as_json:
        return json.dumps({"log": str(log), "epochs": history.epochs, **verdict.to_dict()},
                          indent=1)
    return f"{log}: {history.epochs} epochs, {', '.join(history.keys())}\n{verdict}"


def main(argv=None):
    """Run the command line; return the exit status (0, or 1 for a log it cannot read)."""
    arguments = _parser().parse_args(argv)
    try:
        text = run(arguments.log, arguments.plot, arguments.json, arguments.baseline_loss)
    except (OSError, ValueError, KeyError) as error:
        message = str(error)
        if str(arguments.log) not in message:
            message = f"{arguments.log}: {message}"
        print(f"error: {message}", file=sys.stderr)
        return UNREADABLE_STATUS
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
