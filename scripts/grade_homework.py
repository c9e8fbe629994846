"""Grade a folder of submitted notebooks with ``otter run`` (no Docker) and write a CSV of scores.

Usage: ``python scripts/grade_homework.py HOMEWORK SUBMISSIONS_FOLDER OUTPUT_CSV``, after
``bash scripts/homework.sh assign`` built ``build/homework/HOMEWORK/autograder/*.zip``. One row
per notebook: its file name, the score of each question, the total and the maximum. A notebook
that cannot be graded at all gets an empty row and its error in the ``error`` column.
"""

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def autograder_zip(homework):
    """Return the newest autograder zip that ``otter assign`` built for ``homework``."""
    zips = sorted((ROOT / "build" / "homework" / homework / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise SystemExit(f"no autograder for {homework!r}: run `bash scripts/homework.sh assign`")
    return zips[-1]


def grade_notebook(notebook, autograder):
    """Run ``otter run`` on one notebook; return {question: (score, max_score)}."""
    with tempfile.TemporaryDirectory() as output:
        subprocess.run([str(Path(sys.executable).with_name("otter")), "run", "--no-logo",
                        "-a", str(autograder), "-o", output, str(notebook)],
                       check=True, capture_output=True, text=True)
        results = json.loads((Path(output) / "results.json").read_text())
    return {test["name"]: (test["score"], test["max_score"]) for test in results["tests"]
            if "max_score" in test}


def main(homework, submissions, output_csv):
    """Grade every .ipynb in ``submissions`` and write ``output_csv``; return the rows."""
    autograder = autograder_zip(homework)
    notebooks = sorted(Path(submissions).glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no .ipynb files in {submissions}")
    rows, questions = [], []
    for notebook in notebooks:
        try:
            scores = grade_notebook(notebook, autograder)
            error = ""
        except subprocess.CalledProcessError as failure:
            scores, error = {}, (failure.stderr or str(failure)).strip().splitlines()[-1]
        for question in scores:
            if question not in questions:
                questions.append(question)
        rows.append((notebook.name, scores, error))
        total = sum(score for score, _ in scores.values())
        print(f"{notebook.name}: {total:g} / {sum(m for _, m in scores.values()):g} {error}")
    output_csv = Path(output_csv)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    with output_csv.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", *questions, "total", "max", "error"])
        for name, scores, error in rows:
            writer.writerow([name, *(scores.get(q, ("", ""))[0] for q in questions),
                             sum(s for s, _ in scores.values()) if scores else "",
                             sum(m for _, m in scores.values()) if scores else "", error])
    print(f"wrote {output_csv}")
    return rows


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.splitlines()[2])
    main(*sys.argv[1:])
