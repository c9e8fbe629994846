"""Run every notebook in one mode, one after another, and tabulate wall time and kernel peak memory.

Usage: ``.venv/bin/python benchmarks/notebook_table.py --quick`` (quick mode, about 7-8 minutes on
2 cores) or without ``--quick`` (full mode, about 18-22 minutes). Each notebook runs as its own
``python -m nbconvert --to notebook --execute`` process, so each gets a fresh kernel, exactly as a
student who opens it gets one; the executed copies land in ``build/notebooks/<mode>/``. All
notebooks of one table share one fresh runs folder (``LCL_RUNS_DIR``), as one student's do.
Writes ``benchmarks/results/notebooks-<mode>.json`` and ``.md`` (``--results-dir`` elsewhere);
``tests/test_run_times.py`` holds the README's and the notebooks' stated run times to the JSON.

What is measured, per notebook:

- **wall time**: from starting the nbconvert process to its exit, so kernel start-up, imports and
  every cell count, as they do for a student (whole-process, not a sum of cell times);
- **kernel peak RSS**: the kernel process's own high-water mark of resident memory, as Linux
  counts it (``ru_maxrss``), read with ``os.wait4`` when nbconvert exits. Linux folds a reaped
  child's peak into its parent's, and nbconvert reaps its kernel, so this is the larger of the
  kernel's and nbconvert's peaks, which is the kernel's (nbconvert itself stays near 100 MB).
  Unlike polling it misses no short peak. Polling (psutil, every 0.25 s, all processes under
  nbconvert) is kept as ``sampled_kernel_rss_mb``, a lower bound that confirms whose peak it is.
  RSS counts shared libraries (TensorFlow's among them) once per process; Binder's limit counts
  the whole container, so the kernel's RSS is the least a notebook needs there.

Numbers from a shared or busy machine are slower than a free one: the JSON records the machine
and the load average before the run, before each notebook and after; ``tests/test_run_times.py``
does not hold stated run times to a table measured with the load above the number of CPUs.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SAMPLE_SECONDS = 0.25
MB = 1024 * 1024


def sample_children(pid, peak, stop):
    """Until ``stop`` is set, keep in ``peak[0]`` the largest summed RSS of pid's descendants."""
    try:
        parent = psutil.Process(pid)
        while not stop.is_set():
            total = 0
            for child in parent.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            stop.wait(SAMPLE_SECONDS)
    except psutil.Error:
        pass


def run_notebook(notebook, quick, executed_dir, runs_dir, timeout):
    """Execute one notebook in its own nbconvert process; return its row of the table."""
    environment = {**os.environ, "LCL_QUICK": "1" if quick else "0", "LCL_RUNS_DIR": str(runs_dir)}
    environment.pop("MPLBACKEND", None)  # the kernel's inline backend, so figures are kept
    log = executed_dir / f"{notebook.stem}.log"
    command = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", str(notebook),
               "--output-dir", str(executed_dir), "--ExecutePreprocessor.kernel_name=python3",
               f"--ExecutePreprocessor.timeout={timeout}", "--log-level", "WARN"]
    peak, stop = [0], threading.Event()
    with log.open("w") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   env=environment, cwd=ROOT)
        sampler = threading.Thread(target=sample_children, args=(process.pid, peak, stop))
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    row = {"notebook": notebook.stem, "ok": process.returncode == 0,
           "exit_code": process.returncode, "wall_seconds": round(wall, 1),
           "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB),  # Linux reports KiB
           "sampled_kernel_rss_mb": round(peak[0] / MB)}
    if not row["ok"]:
        row["error"] = log.read_text().strip().splitlines()[-20:]
    return row


def package_version(*names):
    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                  .splitlines() if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": model,
            "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
            "system": platform.platform()}


def git_commit():
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "notebooks", "helpers"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (result.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty else "")


def format_seconds(seconds):
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def markdown(table):
    mode, rows = table["mode"], table["notebooks"]
    lines = [f"# Notebooks in {mode} mode: wall time and kernel peak memory", "",
             f"Measured {table['measured_at']} at commit {table['commit']} on "
             f"{table['machine']['cpus']} CPUs ({table['machine']['cpu']}), Python "
             f"{table['versions']['python']}, TensorFlow {table['versions']['tensorflow']}; "
             f"load average {table['load_average_before']} before, "
             f"{table['load_average_after']} after. Written by "
             + (f"{table['measured_by']}" if "measured_by" in table else
                f"`benchmarks/notebook_table.py{' --quick' if mode == 'quick' else ''}`") + ".", "",
             "| notebook | wall time | kernel peak RSS | (sampled) |", "|---|---|---|---|"]
    for row in rows:
        wall = format_seconds(row["wall_seconds"]) if row["ok"] else "**failed**"
        sampled = row.get("sampled_kernel_rss_mb")  # tables kept by tests/nbval_record.py lack it
        lines.append(f"| {row['notebook']} | {wall} | {row['peak_rss_mb']} MB | "
                     f"{f'{sampled} MB' if sampled is not None else 'not sampled'} |")
    over = sum(row["peak_rss_mb"] > 1024 for row in rows)
    lines.append(f"| **all, one after another** | **{format_seconds(table['total_seconds'])}** | "
                 f"{over} of {len(rows)} over 1 GB | |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (LCL_QUICK=1)")
    parser.add_argument("--notebooks", nargs="+", metavar="NAME",
                        help="only these notebooks (e.g. 00_start_here); default: all")
    parser.add_argument("--executed-dir", type=Path, help="default: build/notebooks/<mode>")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--markdown-from", type=Path, metavar="JSON",
                        help="only write the .md of a table already measured (e.g. the one "
                             "scripts/test.sh keeps in build/notebooks/quick/) beside it")
    args = parser.parse_args(argv)
    if args.markdown_from:
        table = json.loads(args.markdown_from.read_text())
        args.markdown_from.with_suffix(".md").write_text(markdown(table))
        print(markdown(table))
        return 0
    mode = "quick" if args.quick else "full"
    notebooks = NOTEBOOKS
    if args.notebooks:
        known = {path.stem: path for path in NOTEBOOKS}
        unknown = [name for name in args.notebooks if name not in known]
        if unknown:
            parser.error(f"no notebook named {unknown}; the notebooks are {sorted(known)}")
        notebooks = [known[name] for name in args.notebooks]
        if args.results_dir == parser.get_default("results_dir"):
            parser.error("a table of some notebooks only needs --results-dir (benchmarks/results "
                         "holds the tables of the whole series)")
    executed_dir = (args.executed_dir or ROOT / "build" / "notebooks" / mode).resolve()
    executed_dir.mkdir(parents=True, exist_ok=True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (ROOT / "build").mkdir(exist_ok=True)
    table = {"mode": mode,
             "measured_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
             "commit": git_commit(), "machine": machine(),
             "versions": {"python": platform.python_version(),
                          "tensorflow": package_version("tensorflow-cpu", "tensorflow"),
                          "keras": package_version("keras")},
             "load_average_before": [round(value, 2) for value in os.getloadavg()],
             "notebooks": []}
    with tempfile.TemporaryDirectory(prefix="runs-", dir=ROOT / "build") as runs_dir:
        for notebook in notebooks:
            print(f"== {notebook.name} ({mode} mode)", flush=True)
            load = round(os.getloadavg()[0], 2)
            row = run_notebook(notebook, args.quick, executed_dir, runs_dir, args.timeout)
            row["load_average_before"] = load  # 1 minute; above the CPU count, others compete
            table["notebooks"].append(row)
            print(f"   {'ok' if row['ok'] else 'FAILED'} in {row['wall_seconds']} s, kernel peak "
                  f"{row['peak_rss_mb']} MB (sampled {row['sampled_kernel_rss_mb']} MB)",
                  flush=True)
            if not row["ok"]:
                print("\n".join(row["error"]), file=sys.stderr)
    table["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    table["total_seconds"] = round(sum(row["wall_seconds"] for row in table["notebooks"]), 1)
    json_path = args.results_dir / f"notebooks-{mode}.json"
    json_path.write_text(json.dumps(table, indent=1) + "\n")
    (args.results_dir / f"notebooks-{mode}.md").write_text(markdown(table))
    print(markdown(table))
    print(f"wrote {json_path} and its .md; executed notebooks in {executed_dir}")
    failed = [row["notebook"] for row in table["notebooks"] if not row["ok"]]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
