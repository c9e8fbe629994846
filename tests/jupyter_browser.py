"""Drive JupyterLab and Notebook 7, started by scripts/lab.sh, in Debian's Chromium with Playwright.

Used by ``test_browser.py``. ``JupyterServer`` starts the README's command with a free loopback
port, no token, quick mode and temporary settings, runtime and runs folders, and stops it (and
its kernels). ``NotebookPage`` opens a notebook by URL, runs all its cells from the menu, waits
for them, and reads what each cell shows. Screenshots go to ``build/browser/``.
"""

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from helpers.tensorflow_logs import LOG_LINE  # TensorFlow's C++ log lines

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT = 180  # seconds; a busy 2-core machine is slow
KERNEL_START_TIMEOUT = 180
NOTEBOOK_TIMEOUT = 900  # seconds for all the cells of one notebook
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*:",
                       re.MULTILINE)
# Settings a fresh user would not have: no autosave (the tests must not write outputs into the
# repository's notebooks), every cell attached to the page. Nothing about the news question or the
# update check: scripts/lab.sh turns them off for students too, and test_browser.py checks it.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_chromium(playwright):
    """Start Debian's Chromium headless (never a browser downloaded by Playwright)."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} is missing: bash scripts/setup.sh installs Debian's "
                           f"chromium package")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class JupyterServer:
    """JupyterLab started the README's way (scripts/lab.sh), on loopback, for one test module."""

    def __init__(self, home):
        self.home = Path(home)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = SCREENSHOTS / "jupyter-server.log"
        self.data_dir = self.home / "data"  # the notebook-signing key and trusted notebooks
        self.process = None
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def environment(self):
        """The server's environment: quick mode, this checkout's helpers, temporary folders."""
        settings = self.home / "settings"
        for name, values in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        # A student's kernel has neither: the tests' Agg backend would hide every plot, and a log
        # level set here would hide whether helpers sets it.
        inherited = {name: value for name, value in os.environ.items()
                     if name not in ("MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL")}
        return {**inherited, "LCL_SKIP_SETUP": "1", "LCL_QUICK": "1", "PYTHONPATH": python_path,
                "LCL_RUNS_DIR": str(self.home / "runs"),
                "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
                "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
                "JUPYTER_DATA_DIR": str(self.data_dir),
                "JUPYTER_CONFIG_DIR": str(self.home / "config")}

    def start(self):
        """Run ``bash scripts/lab.sh`` with test flags and wait until the server answers."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        command = ["bash", "scripts/lab.sh", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   "--IdentityProvider.token=",
                   f"--FileCheckpoints.root_dir={self.home / 'checkpoints'}"]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/lab.sh exited with {self.process.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            try:
                self.request("GET", "/api/status")
                self.request("GET", "/lab")  # sets the _xsrf cookie the REST calls below need
                return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer on {self.base_url} within "
                           f"{SERVER_START_TIMEOUT} s:\n{self.log_path.read_text()[-3000:]}")

    def request(self, method, path):
        """Send one REST request to the server; return the decoded JSON (or None)."""
        xsrf = next((cookie.value for cookie in self.cookies if cookie.name == "_xsrf"), "")
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"X-XSRFToken": xsrf})
        with self.opener.open(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body and "/api/" in path else None  # also /lab/api/

    def wait_for_idle_kernel(self, notebook, timeout=KERNEL_START_TIMEOUT, steady=3):
        """Wait until ``notebook``'s one kernel has been idle for ``steady`` seconds in a row.

        JupyterLab may replace the first kernel it starts; cells run before that are lost.
        """
        deadline, seen, since = time.monotonic() + timeout, None, None
        while time.monotonic() < deadline:
            kernels = [session["kernel"] for session in self.request("GET", "/api/sessions")
                       if session["path"] == notebook]
            state = (kernels[0]["id"], kernels[0]["execution_state"]) if len(kernels) == 1 \
                else None
            if state is not None and state[1] == "idle":
                if state != seen:
                    seen, since = state, time.monotonic()
                elif time.monotonic() - since >= steady:
                    return
            else:
                seen = None
            time.sleep(0.5)
        raise AssertionError(f"{notebook}: no idle kernel after {timeout} s")

    def url(self, notebook, ui="lab"):
        """The address that opens ``notebook`` in JupyterLab (a fresh workspace) or Notebook 7."""
        if ui == "lab":
            return f"{self.base_url}/lab/workspaces/test-{time.monotonic_ns()}/tree/{notebook}"
        return f"{self.base_url}/notebooks/{notebook}"

    def shut_down_kernels(self):
        """Shut down every session and kernel (each test starts its notebook's own)."""
        for session in self.request("GET", "/api/sessions"):
            self.request("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.request("GET", "/api/kernels"):
            self.request("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self):
        """Shut the kernels down and stop the server (the whole process group if it hangs)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.shut_down_kernels()
        except OSError:
            pass
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def screenshot(target, name):
    """Save a screenshot of a page or an element as build/browser/NAME.png; return its path."""
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


READ_CELLS = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')].map(cell => ({
    source: cell.querySelector('.jp-InputArea .cm-content')?.innerText ?? '',
    prompt: cell.querySelector('.jp-InputArea .jp-InputPrompt')?.innerText ?? '',
    executeResult: cell.querySelectorAll('.jp-OutputArea-executeResult').length,
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(output => ({
        mime: output.getAttribute('data-mime-type') ?? '',
        text: output.innerText,
    })),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(image => ({
        width: image.naturalWidth, visible: image.offsetParent !== null,
    })),
}))"""


class NotebookPage:
    """One notebook open in a browser page: run all cells, wait, read and check what they show."""

    def __init__(self, page, server, notebook, ui="lab"):
        self.page, self.server, self.notebook, self.ui = page, server, notebook, ui
        self.name = Path(notebook).stem + ("" if ui == "lab" else f"-{ui}")

    def open(self):
        """Load the notebook by URL; wait until its cells are on the page and its kernel is idle."""
        self.page.goto(self.server.url(self.notebook, self.ui))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell.jp-CodeCell", timeout=120_000)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .cm-content')]"
            ".every(editor => editor.innerText.length > 0)", timeout=60_000)
        self.server.wait_for_idle_kernel(self.notebook)
        return self

    def run_all(self):
        """Run all cells from the Run menu, as a student does."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
            ".some(prompt => prompt.innerText.includes('*'))", timeout=60_000)
        return self

    def cells(self):
        """What each code cell shows now: source, prompt, outputs (mime type, text), images."""
        return self.page.evaluate(READ_CELLS)

    def wait_until_done(self, timeout=NOTEBOOK_TIMEOUT):
        """Wait until no cell is queued or running; return the cells (also when one failed)."""
        deadline, quiet = time.monotonic() + timeout, 0
        while True:
            cells = self.cells()
            prompts = [cell["prompt"] for cell in cells]
            quiet = 0 if any("*" in prompt for prompt in prompts) else quiet + 1
            if quiet >= 3:  # nothing queued or running for 3 s: finished, failed or cut short
                return cells
            if time.monotonic() > deadline:
                screenshot(self.page, f"{self.name}-timeout")
                raise AssertionError(f"{self.notebook}: cells still running after {timeout} s: "
                                     f"{prompts}")
            time.sleep(1)

    def run_and_check(self):
        """Run all cells, wait, screenshot, and check that no cell shows an error or C++ log line."""
        self.run_all()
        cells = self.wait_until_done()
        screenshot(self.page, f"{self.name}-done")
        check_cells(self.notebook, cells)
        return cells

    def cell(self, source_part):
        """The locator of the code cell whose source contains ``source_part``."""
        return self.page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").filter(
            has=self.page.locator(".cm-content", has_text=source_part))


def errors(cells):
    """The outputs that show an exception (a traceback), as (cell source's first line, text)."""
    return [(cell["source"].splitlines()[0] if cell["source"] else "", output["text"][:2000])
            for cell in cells for output in cell["outputs"]
            if "stderr" in output["mime"] and TRACEBACK.search(output["text"])]


def log_lines(cells):
    """The outputs that show TensorFlow's C++ log lines, as (cell source's first line, text)."""
    return [(cell["source"].splitlines()[0] if cell["source"] else "", output["text"][:2000])
            for cell in cells for output in cell["outputs"] if LOG_LINE.search(output["text"])]


def check_cells(notebook, cells):
    """Every cell ran; none shows an error, a C++ log line, a broken image or a widget error."""
    assert cells, f"{notebook}: no code cells on the page"
    assert not errors(cells), f"{notebook}: errors shown: {errors(cells)}"
    assert not log_lines(cells), f"{notebook}: TensorFlow C++ log lines shown: {log_lines(cells)}"
    not_run = [cell["source"][:80] for cell in cells if not re.search(r"\[\d+\]", cell["prompt"])]
    assert not not_run, f"{notebook}: cells not run: {not_run}"
    broken = [cell["source"][:80] for cell in cells
              for image in cell["images"] if image["visible"] and image["width"] == 0]
    assert not broken, f"{notebook}: broken images in {broken}"
    widget_errors = [cell["source"][:80] for cell in cells for output in cell["outputs"]
                     if "Error displaying widget" in output["text"]]
    assert not widget_errors, f"{notebook}: widgets not displayed in {widget_errors}"


def remove(path):
    """Delete a file or folder the tests wrote (if it is there)."""
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
