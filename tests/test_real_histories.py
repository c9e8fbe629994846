"""diagnose() on real training histories labelled by an expert: the held-out agreement CI keeps.

Two corpora, same schema (see their READMEs): the shared one at ``../shared/data/real_histories/``
(beside the repository, not copied into it) and the project's own at
``tests/data/real_histories/``. Each is skipped with a message where it is absent. Agreement means
diagnose's primary pattern equals the expert's label (strict: a label that diagnose lists only as
a secondary pattern counts as a miss). ``benchmarks/diagnose_accuracy.py`` prints the tables.
"""

import math
import sys
from pathlib import Path

import pytest

from helpers.diagnose import PATTERNS, diagnose
from helpers.diagnose.__main__ import run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from diagnose_accuracy import CORPORA, available_cases, load_cases  # noqa: E402

HELD_OUT_TARGET = 0.90  # issue 12's goal: agree with >= 90% of the clear held-out cases
# Measured after tuning on the tune halves only (the held-out halves were diagnosed between
# changes, several times; README says how often): 14 of the 15 clear held-out cases of the shared
# corpus, 43 of the 47 of the project corpus (57 of 62, 92%). A floor per corpus, so that no
# change makes diagnose worse on them unnoticed.
HELD_OUT_FLOOR = {"shared": 14, "project": 43}


@pytest.fixture(scope="module")
def cases():
    found, absent = available_cases()
    if not found:
        pytest.skip(f"no real-history corpus here: {'; '.join(absent)}")
    return found


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_each_corpus_is_well_formed(corpus):
    path = CORPORA[corpus]
    if not path.is_file():
        pytest.skip(f"the {corpus} corpus is absent: {path}")
    corpus_cases = load_cases(path, corpus)
    assert corpus_cases, f"{path} holds no cases"
    ids = [case["id"] for case in corpus_cases]
    assert len(ids) == len(set(ids)), f"{path}: repeated ids"
    for case in corpus_cases:
        assert case["label"] in PATTERNS, case["id"]
        assert set(case.get("also", [])) <= set(PATTERNS), case["id"]
        assert case["split"] in ("tune", "held_out"), case["id"]
        assert case["confidence"] in ("clear", "ambiguous"), case["id"]
        assert {"loss", "val_loss"} <= set(case["history"]), case["id"]
        assert case["source"], case["id"]


def _held_out_misses(cases):
    """Return the clear held-out cases and the lines describing those diagnose gets wrong."""
    held_out = [case for case in cases
                if case["split"] == "held_out" and case["confidence"] == "clear"]
    misses = []
    for case in held_out:
        verdict = diagnose(case["history"])
        if verdict.pattern != case["label"]:
            misses.append(f"{case['corpus']}/{case['id']}: label {case['label']}, diagnose "
                          f"{verdict.patterns}")
    return held_out, misses


@pytest.mark.parametrize("corpus", list(HELD_OUT_FLOOR))
def test_held_out_agreement_stays_at_least_as_measured(cases, corpus):
    chosen = [case for case in cases if case["corpus"] == corpus]
    if not chosen:
        pytest.skip(f"the {corpus} corpus is absent: {CORPORA[corpus]}")
    held_out, misses = _held_out_misses(chosen)
    agreed = len(held_out) - len(misses)
    assert agreed >= HELD_OUT_FLOOR[corpus], (
        f"{corpus}: diagnose agrees with {agreed} of {len(held_out)} clear held-out cases, fewer "
        f"than the {HELD_OUT_FLOOR[corpus]} measured; misses:\n" + "\n".join(misses))


def test_diagnose_agrees_with_90_percent_of_the_clear_held_out_cases(cases):
    held_out, misses = _held_out_misses(cases)
    agreement = 1 - len(misses) / len(held_out)
    assert agreement >= HELD_OUT_TARGET, (
        f"diagnose agrees with {len(held_out) - len(misses)} of {len(held_out)} clear held-out "
        f"cases ({agreement:.0%} < {HELD_OUT_TARGET:.0%}); misses:\n" + "\n".join(misses))


def _write_csv(history, path):
    """Write a corpus history as a Keras CSVLogger file would look (epoch column first)."""
    keys = list(history)
    lines = [",".join(["epoch", *keys])]
    count = len(history[keys[0]])
    for epoch in range(count):
        cells = [repr(float(history[key][epoch])) for key in keys]
        lines.append(",".join([str(epoch), *cells]))
    path.write_text("\n".join(lines) + "\n")


def test_the_command_line_reads_every_corpus_case(cases, tmp_path):
    for case in cases:
        path = tmp_path / f"{case['corpus']}_{case['id']}.csv"
        _write_csv(case["history"], path)
        expected = diagnose(case["history"])
        text = run(path)
        assert f"Diagnosis: {expected.pattern}" in text, (case["id"], text)
        assert f"{len(case['history']['loss'])} epochs" in text, case["id"]


def test_non_finite_values_survive_the_csv_round_trip(cases, tmp_path):
    with_nan = [case for case in cases
                if any(not math.isfinite(float(value)) for value in case["history"]["loss"])]
    if not with_nan:
        pytest.skip("no corpus case has a non-finite loss")
    path = tmp_path / "nan.csv"
    _write_csv(with_nan[0]["history"], path)
    assert "Diagnosis: diverged" in run(path)
