"""Write the measured run times where the series states them: the README's notebook table, the
series table in 00 and each notebook's "Run time" line.

Usage: ``.venv/bin/python benchmarks/stated_run_times.py`` after ``benchmarks/notebook_table.py``
has written ``benchmarks/results/notebooks-full.json`` and ``notebooks-quick.json``. Each stated
time becomes "about" the measured one (whole seconds below 30 seconds, 5 seconds below 100, a
tenth of a minute above); ``tests/test_run_times.py`` checks they stay within 25% of the tables.
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_run_times import DURATION, NOTEBOOKS, RESULTS, ROOT  # noqa: E402  (one set of patterns)


def rounded(seconds):
    """Whole seconds below 30 s, else the nearest 5 seconds (below 100 s)."""
    return round(seconds) if seconds < 30 else round(seconds / 5) * 5


def short(seconds):
    """'45 s' or '2.7 min', as the tables write times."""
    return f"{rounded(seconds)} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def long(seconds):
    """'45 seconds' or '2.7 minutes', as the Run time lines write them."""
    return f"{rounded(seconds)} seconds" if seconds < 100 else f"{seconds / 60:.1f} minutes"


def update_table(text, measured):
    """Rewrite the 'full / quick' column of every row naming a notebook that was measured."""
    row = re.compile(rf"^(\|\s*\[?`(\d\d_\w+)`.*\|\s*){DURATION}\s*/\s*{DURATION}(\s*\|\s*)$",
                     re.MULTILINE)

    def replace(match):
        name = match.group(2)
        if name not in measured["full"] or name not in measured["quick"]:
            return match.group(0)
        return (f"{match.group(1)}{short(measured['full'][name])} / "
                f"{short(measured['quick'][name])}{match.group(7)}")

    return row.sub(replace, text)


def update_sentence(text, name, measured):
    """Rewrite 'about N unit in full mode' and '... in quick mode' in a Run time paragraph."""
    sentence = re.compile(rf"(?:(?:about|under)\s+)?{DURATION}(\s+in\s+)(full|quick)(\s+mode)")
    return sentence.sub(lambda match: f"about {long(measured[match.group(4)][name])}"
                        f"{match.group(3)}{match.group(4)}{match.group(5)}", text)


def main():
    measured = {}
    for mode in ("full", "quick"):
        table = json.loads((RESULTS / f"notebooks-{mode}.json").read_text())
        measured[mode] = {row["notebook"]: row["wall_seconds"] for row in table["notebooks"]
                          if row["ok"]}
    readme = ROOT / "README.md"
    readme.write_text(update_table(readme.read_text(), measured))
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text())
        cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "markdown")
        source = "".join(cell["source"])
        if path.stem == "00_start_here":
            source = update_table(source, measured)
        elif path.stem in measured["full"] and path.stem in measured["quick"]:
            paragraphs = source.split("\n\n")
            paragraphs = [update_sentence(part, path.stem, measured)
                          if part.startswith("**Run time") else part for part in paragraphs]
            source = "\n\n".join(paragraphs)
        cell["source"] = source.splitlines(keepends=True)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    print("stated run times written from", ", ".join(f"notebooks-{mode}.json" for mode in measured))


if __name__ == "__main__":
    main()
