"""How often ``diagnose()`` agrees with an expert on real training histories, per pattern.

Reads the labelled corpora (the shared one at ``../shared/data/real_histories/`` and the
project's own at ``tests/data/real_histories/``), runs ``diagnose`` on every case and prints,
per split, a confusion table (rows: the expert's label, columns: diagnose's primary pattern) and
the cases it gets wrong. Agreement means the primary pattern equals the label. Only clear cases
count; ambiguous ones are listed apart. ``--split tune`` prints the tune half only (tune with
that; look at ``held_out`` once, at the end). Run:
``.venv/bin/python benchmarks/diagnose_accuracy.py [--split tune|held_out|all]`` (seconds).
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpers.diagnose import PATTERNS, diagnose  # noqa: E402

SHARED_CORPUS = ROOT.parent / "shared" / "data" / "real_histories" / "real_histories.json"
PROJECT_CORPUS = ROOT / "tests" / "data" / "real_histories" / "real_histories.json"
CORPORA = {"shared": SHARED_CORPUS, "project": PROJECT_CORPUS}
SPLITS = ("tune", "held_out")


def load_cases(path, corpus):
    """Return the labelled cases of one corpus file, each tagged with its corpus name."""
    cases = json.loads(Path(path).read_text())
    if not isinstance(cases, list):
        raise ValueError(f"{path} must hold a JSON list of cases, got {type(cases).__name__}")
    for case in cases:
        missing = {"id", "history", "label", "confidence", "split"} - set(case)
        if missing:
            raise ValueError(f"{path}: case {case.get('id', '?')!r} lacks {', '.join(sorted(missing))}")
        case["corpus"] = corpus
    return cases


def available_cases():
    """Return the cases of every corpus file that exists, and the names of those that do not."""
    cases, absent = [], []
    for corpus, path in CORPORA.items():
        if path.is_file():
            cases += load_cases(path, corpus)
        else:
            absent.append(f"{corpus} ({path})")
    return cases, absent


def verdicts(cases):
    """Return ``[(case, Diagnosis)]`` for the given cases."""
    return [(case, diagnose(case["history"])) for case in cases]


def confusion_table(results):
    """Return a plain-text confusion table: one row per label, one column per primary pattern."""
    labels = [p for p in PATTERNS if any(case["label"] == p for case, _ in results)]
    columns = [p for p in PATTERNS if any(case["label"] == p or verdict.pattern == p
                                          for case, verdict in results)]
    short = {p: p.replace("val_below_train", "val<train").replace("not_converged", "not_conv")
             for p in PATTERNS}
    header = "label \\ diagnose".ljust(18) + " ".join(short[p] for p in columns)
    lines = [header + "   agree"]
    for label in labels:
        row = [verdict.pattern for case, verdict in results if case["label"] == label]
        counts = " ".join(str(row.count(p) or ".").rjust(len(short[p])) for p in columns)
        lines.append(f"{label:<18}{counts}   {row.count(label)}/{len(row)}".rstrip())
    agree = sum(case["label"] == verdict.pattern for case, verdict in results)
    lines.append(f"{'all':<18}{' ' * (len(header) - 18)}   {agree}/{len(results)}"
                 + (f" = {agree / len(results):.0%}" if results else ""))
    return "\n".join(lines)


def report(results, title):
    """Print a confusion table of the clear cases and every disagreement."""
    clear = [(case, verdict) for case, verdict in results if case["confidence"] == "clear"]
    print(f"\n== {title}: {len(clear)} clear cases ==")
    print(confusion_table(clear))
    per_corpus = []
    for corpus in CORPORA:
        chosen = [(case, verdict) for case, verdict in clear if case["corpus"] == corpus]
        if chosen:
            agree = sum(case["label"] == verdict.pattern for case, verdict in chosen)
            per_corpus.append(f"{corpus} {agree}/{len(chosen)}")
    print("per corpus: " + ", ".join(per_corpus))
    for case, verdict in results:
        if verdict.pattern != case["label"]:
            tag = "" if case["confidence"] == "clear" else " (ambiguous)"
            print(f"  miss{tag}: {case['corpus']}/{case['id']}: label {case['label']}"
                  f" (also {case.get('also') or '-'}), diagnose {verdict.pattern} "
                  f"{verdict.patterns[1:] or ''}")
            for line in verdict.evidence:
                print(f"      {line}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all",
                        help="which split to print (tune while tuning; held_out once at the end)")
    parser.add_argument("--project-corpus", type=Path, default=None, metavar="JSON",
                        help=f"read the project corpus from here (default {PROJECT_CORPUS})")
    arguments = parser.parse_args(argv)
    if arguments.project_corpus:
        CORPORA["project"] = arguments.project_corpus
    cases, absent = available_cases()
    for name in absent:
        print(f"corpus absent, skipped: {name}")
    splits = SPLITS if arguments.split == "all" else (arguments.split,)
    for split in splits:
        chosen = [case for case in cases if case["split"] == split]
        report(verdicts(chosen), split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
