"""How long grading one submission of each homework takes with ``otter run`` (no Docker).

Usage: ``bash scripts/homework.sh assign`` first (it builds ``build/homework/``), then
``.venv/bin/python benchmarks/grading_time.py [--rounds 2]``. Grades each homework's solution
notebook (a complete submission: every cell runs, hw2's trainings included) ``--rounds`` times,
one after another, exactly as ``scripts/grade_homework.py`` grades a class, and prints the wall
time of each ``otter run`` process (start-up, the notebook and the tests) and what it means for a
class graded one submission after another on this machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from grade_homework import autograder_zip  # noqa: E402

HOMEWORK = ("hw1_losses_by_hand", "hw2_break_and_fix", "hw3_read_the_curves")


def grade_once(homework):
    """Grade the solution notebook once; return (seconds, score, maximum)."""
    solution = ROOT / "build" / "homework" / homework / "autograder" / f"{homework}.ipynb"
    with tempfile.TemporaryDirectory() as output:
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("otter")), "run", "--no-logo", "-a",
                        str(autograder_zip(homework)), "-o", output, str(solution)],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - start
        tests = json.loads((Path(output) / "results.json").read_text())["tests"]
    scored = [test for test in tests if "max_score" in test]
    return seconds, sum(t["score"] for t in scored), sum(t["max_score"] for t in scored)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--class-size", type=int, default=300)
    args = parser.parse_args()
    if args.rounds < 1 or args.class_size < 1:
        parser.error("--rounds and --class-size must be at least 1")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    medians = {}
    for homework in HOMEWORK:
        times = []
        for _ in range(args.rounds):
            seconds, score, maximum = grade_once(homework)
            if score != maximum:
                raise SystemExit(f"{homework}: the solution scored {score}/{maximum}")
            times.append(seconds)
        medians[homework] = statistics.median(times)
        print(f"{homework}: {', '.join(f'{t:.1f}' for t in times)} s per submission "
              f"(median {medians[homework]:.1f} s)")
    total = sum(medians.values())
    print(f"one student's three homework: {total:.0f} s; a class of {args.class_size}, one "
          f"submission after another: " + ", ".join(
              f"{name.split('_')[0]} {args.class_size * seconds / 3600:.1f} h"
              for name, seconds in medians.items()))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
