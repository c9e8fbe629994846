"""A pytest plugin that keeps what nbval executed: each notebook with its outputs, and a table.

``python -m pytest -p tests.nbval_record --record-notebooks DIR notebooks --nbval-lax
--nbval-current-env`` (scripts/test.sh step 2) runs every notebook under nbval, as before, and
also writes ``DIR/NAME.ipynb`` (the notebook with the outputs its kernel produced, errors
included) and ``DIR/notebooks-<mode>.json``: per notebook, whether every cell passed, the wall
time from kernel start to the last cell, and the kernel's peak resident memory (``VmHWM``, read
just before nbval stops the kernel). ``scripts/build_site.py`` builds the site from them, so the
series is executed once for both the tests and the site.

nbval keeps a figure's first display only; a display updated in place (03's live plot) is written
with its last update, as a student sees it at the end.
"""

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import notebook_table  # noqa: E402  (machine(), git_commit(), package_version(): one place)

MB = 1024 * 1024


def pytest_addoption(parser):
    parser.addoption("--record-notebooks", metavar="DIR", type=Path,
                     help="write each executed notebook and notebooks-<mode>.json to DIR")


def pytest_configure(config):
    folder = config.getoption("--record-notebooks")
    if folder is not None:
        config.pluginmanager.register(NotebookRecorder(folder.resolve()), "nbval-record")


def kernel_peak_mb(kernel):
    """The kernel process's peak resident memory in MB (Linux's VmHWM), or None if unknown."""
    pid = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "pid", None)
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return None
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(kib * 1024 / MB)


def content_key(data):
    """A key for one display's content (nbval keeps the content but not the display's id)."""
    return json.dumps(data, sort_keys=True, default=str)


class NotebookRecorder:
    """Collects each nbval cell's outputs and each notebook's time and memory."""

    def __init__(self, folder):
        self.folder = folder
        self.rows = {}          # notebook file -> its row of the table
        self.displays = {}      # display id -> (data, metadata) of its latest display or update
        self.display_ids = {}   # a displayed content's key -> its display id
        self.shown = {}         # notebook file -> its display outputs, refreshed when written
        self.quick = os.environ.get("LCL_QUICK", "") not in ("", "0")
        self.table = {"mode": "quick" if self.quick else "full",
                      "measured_at": datetime.datetime.now(datetime.UTC)
                      .strftime("%Y-%m-%d %H:%M UTC"),
                      "commit": notebook_table.git_commit(), "machine": notebook_table.machine(),
                      "versions": {"python": platform.python_version(),
                                   "tensorflow": notebook_table.package_version(
                                       "tensorflow-cpu", "tensorflow"),
                                   "keras": notebook_table.package_version("keras")},
                      "load_average_before": [round(value, 2) for value in os.getloadavg()],
                      "measured_by": "nbval (scripts/test.sh)", "notebooks": []}

    def watch_displays(self, notebook_file):
        """Wrap nbval's message reader so displays updated in place are known by their id."""
        if getattr(notebook_file, "_recorded", False):
            return
        read = notebook_file.get_kernel_message

        def get_kernel_message(*args, **kwargs):
            message = read(*args, **kwargs)
            content = message.get("content", {})
            display_id = content.get("transient", {}).get("display_id")
            if message["msg_type"] in ("display_data", "update_display_data") and display_id:
                self.displays[display_id] = (content.get("data"), content.get("metadata"))
                if message["msg_type"] == "display_data":
                    self.display_ids[content_key(content.get("data"))] = display_id
            return message

        notebook_file.get_kernel_message = get_kernel_message
        notebook_file._recorded = True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        if hasattr(item, "cell_num") and item.parent not in self.rows:
            self.rows[item.parent] = {"notebook": Path(str(item.parent.fspath)).stem, "ok": True,
                                      "load_average_before": round(os.getloadavg()[0], 2),
                                      "start": time.perf_counter()}
        yield
        if hasattr(item, "cell_num"):
            self.watch_displays(item.parent)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if not hasattr(item, "cell_num") or call.when != "call":
            return
        row = self.rows[item.parent]
        row["ok"] = row["ok"] and outcome.get_result().outcome != "failed"
        outputs = list(item.test_outputs or [])
        item.cell.outputs = outputs
        item.cell.execution_count = item.cell_num + 1
        self.shown.setdefault(item.parent, []).extend(
            [output for output in outputs if output.output_type == "display_data"])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        last_cell = hasattr(item, "cell_num") and (
            nextitem is None or nextitem.parent is not item.parent)
        if last_cell:  # nbval stops the kernel in this teardown: read its peak first
            row = self.rows[item.parent]
            row["wall_seconds"] = round(time.perf_counter() - row.pop("start"), 1)
            row["peak_rss_mb"] = kernel_peak_mb(item.parent.kernel)
        yield
        if last_cell:
            self.write(item.parent)

    def write(self, notebook_file):
        """Write one executed notebook, each display at its last update, and its table row."""
        for output in self.shown.pop(notebook_file, []):
            display_id = self.display_ids.get(content_key(output.get("data")))
            if display_id in self.displays:
                data, metadata = self.displays[display_id]
                output.data, output.metadata = nbformat.from_dict(data), nbformat.from_dict(metadata)
        self.folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook_file.nb, self.folder / Path(str(notebook_file.fspath)).name)
        self.table["notebooks"].append(self.rows[notebook_file])

    def pytest_sessionfinish(self, session):
        if not self.table["notebooks"]:
            return
        self.table["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
        self.table["total_seconds"] = round(
            sum(row["wall_seconds"] for row in self.table["notebooks"]), 1)
        path = self.folder / f"notebooks-{self.table['mode']}.json"
        path.write_text(json.dumps(self.table, indent=1) + "\n")
