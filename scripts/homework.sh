#!/usr/bin/env bash
# Homework with otter-grader (see docs/instructors.md).
#   bash scripts/homework.sh assign                     build student + autograder versions of
#                                                       every homework/hw*.ipynb into build/homework/
#   bash scripts/homework.sh grade HW SUBMISSIONS [CSV] grade every .ipynb in the folder SUBMISSIONS
#                                                       for homework HW (e.g. hw2_break_and_fix),
#                                                       without Docker; scores to CSV (default
#                                                       build/homework/grades/HW.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export LCL_RUNS_DIR="${LCL_RUNS_DIR:-$PWD/build/runs}"
case "${1:-}" in
    assign)
        for master in homework/hw*.ipynb; do
            name=$(basename "$master" .ipynb)
            rm -rf "build/homework/$name"
            echo "== otter assign $master -> build/homework/$name"
            (cd homework && ../.venv/bin/otter assign "$name.ipynb" "../build/homework/$name")
        done
        ;;
    grade)
        [ $# -ge 3 ] || { echo "usage: bash scripts/homework.sh grade HW SUBMISSIONS [CSV]" >&2; exit 2; }
        .venv/bin/python scripts/grade_homework.py "$2" "$3" "${4:-build/homework/grades/$2.csv}"
        ;;
    *)
        echo "usage: bash scripts/homework.sh assign | grade HW SUBMISSIONS [CSV]" >&2
        exit 2
        ;;
esac
