"""Stated run times are measured ones: the README's run-time column, the series table in 00 and
each notebook's "Run time" line agree within 25% with the table that
``benchmarks/notebook_table.py`` wrote (``benchmarks/results/notebooks-<mode>.json``).

A mode whose table has not been measured yet, or was measured while other work loaded the
machine (1-minute load average above its CPU count plus one: every time comes out too long), is
skipped with the command that measures it. The stated times must agree with each other in any case.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RESULTS = ROOT / "benchmarks" / "results"
TOLERANCE = 0.25
# A notebook's own training keeps every core busy, so a quiet machine's 1-minute load average sits
# near the CPU count while the table is measured; another job running beside it adds at least one.
BUSY_MARGIN = 1
DURATION = r"(\d+(?:\.\d+)?)\s*(seconds?|minutes?|min|s)\b"
ROW = re.compile(rf"^\|\s*\[?`(\d\d_\w+)`.*\|\s*{DURATION}\s*/\s*{DURATION}\s*\|\s*$", re.MULTILINE)
SENTENCE = re.compile(rf"(?:(about|under)\s+)?{DURATION}\s+in\s+(full|quick)\s+mode")


def seconds(number, unit):
    return float(number) * (60 if unit.startswith("min") else 1)


def table_times(text, source):
    """Run times in a Markdown table whose last column is 'full / quick': (source, name, mode,
    bound, seconds) for every row naming one notebook."""
    found = []
    for name, full, full_unit, quick, quick_unit in ROW.findall(text):
        found.append((source, name, "full", "about", seconds(full, full_unit)))
        found.append((source, name, "quick", "about", seconds(quick, quick_unit)))
    return found


def sentence_times(text, name, source):
    """Run times in a '**Run time** ...' paragraph: 'about 35 seconds in full mode, ...'."""
    paragraph = next((part for part in text.split("\n\n") if part.startswith("**Run time")), "")
    return [(source, name, mode, bound or "about", seconds(number, unit))
            for bound, number, unit, mode in SENTENCE.findall(" ".join(paragraph.split()))]


def stated_run_times():
    """Every run time the README and the notebooks state."""
    stated = table_times((ROOT / "README.md").read_text(), "README.md")
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        first = "".join(next(cell for cell in cells if cell["cell_type"] == "markdown")["source"])
        if path.stem == "00_start_here":
            stated += table_times(first, "00_start_here's table")
        else:
            stated += sentence_times(first, path.stem, f"{path.stem}'s Run time line")
    return stated


def disagreements(stated, measured, against="measured"):
    """The stated times more than TOLERANCE away from the measured seconds ({name: seconds})."""
    wrong = []
    for source, name, _, bound, value in stated:
        actual = measured[name]
        if bound == "under" and actual <= value * (1 + TOLERANCE):
            continue
        if bound == "about" and abs(value - actual) <= TOLERANCE * actual:
            continue
        wrong.append(f"{source}: {name} {bound} {value:g} s, {against} {actual:g} s")
    return wrong


def test_the_comparison_catches_a_stated_time_far_from_the_measured_one():
    text = ("**Run time** on a 2-core CPU: about 2.7 minutes in full mode (15 epochs; about 40\n"
            "seconds each), under 30 seconds in quick mode (measured).")
    stated = sentence_times(text, "02", "line")
    assert stated == [("line", "02", "full", "about", 162.0), ("line", "02", "quick", "under", 30)]
    assert disagreements(stated[:1], {"02": 150}) == []
    assert disagreements(stated[:1], {"02": 100}) == ["line: 02 about 162 s, measured 100 s"]
    assert disagreements(stated[1:], {"02": 10}) == []
    assert disagreements(stated[1:], {"02": 40}) == ["line: 02 under 30 s, measured 40 s"]
    row = "| [`01_loss`](notebooks/01_loss.ipynb) | definitions | 35 s / 1.5 min |"
    assert table_times(row, "README") == [("README", "01_loss", "full", "about", 35.0),
                                          ("README", "01_loss", "quick", "about", 90.0)]


def test_every_notebook_states_its_run_time_in_both_modes_in_the_readme_and_itself():
    """(00 states its own in its series table; the rows that table has are compared too.)"""
    stated = stated_run_times()
    for path in NOTEBOOKS:
        sources = {(source, mode) for source, name, mode, _, _ in stated if name == path.stem}
        own = "00_start_here's table" if path.stem == "00_start_here" else (
            f"{path.stem}'s Run time line")
        expected = {(source, mode) for source in ("README.md", own) for mode in ("full", "quick")}
        assert expected <= sources, f"{path.stem} lacks a stated run time: {expected - sources}"


def highest_load(table):
    """The highest 1-minute load average recorded while the table was measured."""
    loads = [table["load_average_before"][0], table["load_average_after"][0]]
    loads += [row["load_average_before"] for row in table["notebooks"]
              if "load_average_before" in row]
    return max(loads)


def test_a_table_measured_under_load_is_recognized():
    table = {"load_average_before": [0.4, 1, 1], "load_average_after": [1.1, 1, 1],
             "notebooks": [{"load_average_before": 3.5}, {}]}
    assert highest_load(table) == 3.5


def test_stated_run_times_agree_with_each_other():
    stated = stated_run_times()
    wrong = []
    for mode in ("full", "quick"):
        readme = {name: value for source, name, item_mode, _, value in stated
                  if source == "README.md" and item_mode == mode}
        others = [item for item in stated if item[0] != "README.md" and item[2] == mode]
        wrong += disagreements(others, readme, against="README.md says")
    assert not wrong, ("stated run times disagree with the README's by more than "
                       f"{TOLERANCE:.0%}:\n" + "\n".join(wrong))


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_stated_run_times_agree_with_the_measured_table(mode):
    path = RESULTS / f"notebooks-{mode}.json"
    command = (f".venv/bin/python benchmarks/notebook_table.py{' --quick' if mode == 'quick' else ''}"
               " on a quiet 2-core machine")
    if not path.exists():
        pytest.skip(f"no {mode}-mode table yet: run {command}")
    table = json.loads(path.read_text())
    if highest_load(table) > table["machine"]["cpus"] + BUSY_MARGIN:
        pytest.skip(f"{path.name} was measured with the load average up to "
                    f"{highest_load(table):g} on {table['machine']['cpus']} CPUs, so its times are "
                    f"too long to hold stated times to: run {command}")
    measured = {row["notebook"]: row["wall_seconds"] for row in table["notebooks"] if row["ok"]}
    missing = sorted({path.stem for path in NOTEBOOKS} - set(measured))
    assert not missing, f"{path.name} has no successful run of {missing}: measure again"
    stated = [item for item in stated_run_times() if item[2] == mode]
    wrong = disagreements(stated, measured)
    assert not wrong, (f"stated {mode}-mode run times disagree with {path.name} by more than "
                       f"{TOLERANCE:.0%}:\n" + "\n".join(wrong))
