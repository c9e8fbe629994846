"""The homework: otter assign builds every master; solutions score full marks, the student
versions (blanks) and deliberately wrong answers score less; the grading script writes a CSV."""

import ast
import csv
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OTTER = str(Path(sys.executable).with_name("otter"))
HOMEWORK = ("hw1_losses_by_hand", "hw2_break_and_fix", "hw3_read_the_curves")
# Homework 2 grades stated criteria on the student's own curves: all its tests are visible.
WITH_HIDDEN_TESTS = ("hw1_losses_by_hand", "hw3_read_the_curves")
# One deliberately wrong answer per homework: (text in the solution, replacement).
WRONG_ANSWERS = {
    "hw1_losses_by_hand": ("return float(np.mean((y_true - y_pred) ** 2))",
                           "return float(np.sum((y_true - y_pred) ** 2))"),
    "hw2_break_and_fix": ("build_cnn(dropout=0.5, dense_units=512, augment=True)",
                          "build_cnn(dropout=0.0, dense_units=512)"),
    "hw3_read_the_curves": ('patterns["A"] = "overfitting"', 'patterns["A"] = "underfitting"'),
}

pytest.importorskip("otter", reason="otter-grader is in the 'homework' extra")
if os.environ.get("LCL_COLAB_PROFILE") == "1":
    pytest.skip("assigning and grading run on the instructor's machine, not on Colab (Colab's "
                "self-checks: tests/test_homework_colab.py)", allow_module_level=True)


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """Run otter assign on every master notebook, as scripts/homework.sh does."""
    output = tmp_path_factory.mktemp("homework")
    for name in HOMEWORK:
        subprocess.run([OTTER, "assign", f"{name}.ipynb", str(output / name)],
                       cwd=ROOT / "homework", check=True, capture_output=True)
    return output


def grade(notebook, autograder_folder, tmp_path):
    """Grade one notebook with otter run; return (score, max_score)."""
    (autograder,) = autograder_folder.glob("*-autograder_*.zip")
    results = tmp_path / f"results-{notebook.stem}-{len(list(tmp_path.iterdir()))}"
    results.mkdir()
    subprocess.run([OTTER, "run", "--no-logo", "-a", str(autograder), "-o", str(results),
                    str(notebook)], check=True, capture_output=True)
    tests = json.loads((results / "results.json").read_text())["tests"]
    scored = [test for test in tests if "max_score" in test]
    return sum(t["score"] for t in scored), sum(t["max_score"] for t in scored)


@pytest.mark.parametrize("name", HOMEWORK)
def test_assign_builds_student_and_autograder_versions_without_hidden_tests(assigned, name):
    student, autograder = assigned / name / "student", assigned / name / "autograder"
    assert (student / f"{name}.ipynb").exists() and list(autograder.glob("*.zip"))
    public = "".join(path.read_text() for path in (student / "tests").glob("*.py"))
    hidden = "".join(path.read_text() for path in (autograder / "tests").glob("*.py"))
    assert "'hidden': True" not in public
    assert ("'hidden': True" in hidden) == (name in WITH_HIDDEN_TESTS)
    notebook = nbformat.read(student / f"{name}.ipynb", as_version=4)
    sources = "\n".join(cell.source for cell in notebook.cells)
    assert "grader = otter.Notebook(" in sources and "# BEGIN SOLUTION" not in sources


def normalized(code):
    """Python code as ast.unparse writes it (otter rewrites test code the same way)."""
    return ast.unparse(ast.parse(code))


def hidden_cases(test_file_text):
    """The code of each hidden case in one of otter's generated OK-format test files."""
    namespace = {}
    exec(test_file_text, namespace)  # noqa: S102 - a test file otter assign just wrote
    return [normalized("\n".join(line[4:] for line in case["code"].splitlines()
                                 if line.startswith((">>> ", "... "))))
            for suite in namespace["test"]["suites"] for case in suite["cases"] if case["hidden"]]


@pytest.mark.parametrize("name", WITH_HIDDEN_TESTS)
def test_autograder_archive_holds_every_hidden_test_of_the_master(assigned, name):
    """The zip that grading uses (otter run here, or Gradescope) carries the hidden tests."""
    master = nbformat.read(ROOT / "homework" / f"{name}.ipynb", as_version=4)
    hidden = sorted(normalized(cell.source.split("\n", 1)[1]) for cell in master.cells
                    if cell.cell_type == "code" and cell.source.startswith("# HIDDEN"))
    assert hidden, f"{name} has no hidden test"
    (archive,) = (assigned / name / "autograder").glob(f"{name}-autograder_*.zip")
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        in_archive = sorted(case for item in names if item.startswith("tests/")
                            for case in hidden_cases(zipped.read(item).decode()))
    assert "run_autograder" in names
    assert in_archive == hidden


@pytest.mark.parametrize("name", HOMEWORK)
def test_autograder_archive_installs_tensorflow_and_helpers_for_gradescope(assigned, name):
    """Gradescope and otter grade build a container from the archive's environment.yml."""
    (archive,) = (assigned / name / "autograder").glob(f"{name}-autograder_*.zip")
    with zipfile.ZipFile(archive) as zipped:
        environment = yaml.safe_load(zipped.read("environment.yml"))
    pip = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    tensorflow = next(requirement for requirement
                      in PYPROJECT["project"]["optional-dependencies"]["tensorflow"]
                      if requirement.startswith("tensorflow-cpu"))
    repository = PYPROJECT["project"]["urls"]["Repository"]
    assert tensorflow in pip and f"loss-curves-lab @ git+{repository}" in pip, pip


@pytest.mark.parametrize("name", HOMEWORK)
def test_solutions_score_full_marks_and_blanks_and_wrong_answers_score_less(assigned, name,
                                                                             tmp_path):
    solution = assigned / name / "autograder" / f"{name}.ipynb"
    score, maximum = grade(solution, assigned / name / "autograder", tmp_path)
    assert maximum > 0 and score == maximum

    student = assigned / name / "student" / f"{name}.ipynb"
    assert grade(student, assigned / name / "autograder", tmp_path)[0] < maximum

    right, wrong = WRONG_ANSWERS[name]
    notebook = nbformat.read(solution, as_version=4)
    hits = [cell for cell in notebook.cells if right in cell.source]
    assert len(hits) == 1, f"the wrong-answer edit must match one cell in {name}"
    hits[0].source = hits[0].source.replace(right, wrong)
    wrong_path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, wrong_path)
    wrong_score = grade(wrong_path, assigned / name / "autograder", tmp_path)[0]
    assert 0 < wrong_score < maximum


def test_grading_script_writes_one_csv_row_per_submission(assigned, tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import grade_homework

    name = "hw3_read_the_curves"
    monkeypatch.setattr(grade_homework, "ROOT", tmp_path)
    shutil.copytree(assigned / name, tmp_path / "build" / "homework" / name)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(assigned / name / "autograder" / f"{name}.ipynb", submissions / "alice.ipynb")
    shutil.copy(assigned / name / "student" / f"{name}.ipynb", submissions / "bob.ipynb")
    grade_homework.main(name, submissions, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open() as file:
        rows = {row["submission"]: row for row in csv.DictReader(file)}
    assert set(rows) == {"alice.ipynb", "bob.ipynb"}
    assert float(rows["alice.ipynb"]["total"]) == float(rows["alice.ipynb"]["max"]) == 16
    # Blanks: only the three "one answer per run" checks pass (0.75 + 0.75 + 0.67 points).
    assert float(rows["bob.ipynb"]["total"]) < 2.5
    assert all(question in rows["alice.ipynb"] for question in ("q1_patterns", "q2_cures", "q3_bugs"))


def test_an_early_stopping_fix_is_graded_on_the_epochs_it_keeps(assigned, tmp_path):
    # The same overfitting model as the broken run, stopped early with the best weights restored:
    # its last epochs still rise, but the model kept is the best epoch's, and that is graded.
    name = "hw2_break_and_fix"
    notebook = nbformat.read(assigned / name / "autograder" / f"{name}.ipynb", as_version=4)
    (cell,) = [cell for cell in notebook.cells if "fixed_model = compile_cnn(" in cell.source]
    cell.source = (
        "import keras\n"
        "set_seed(SEED)\n"
        "fixed_model = compile_cnn(build_cnn(dropout=0.0, dense_units=512))\n"
        "fixed_history = train(fixed_model, x_small, y_small, epochs=20, batch_size=32,\n"
        "                      validation_split=0.2, verbose=0, callbacks=[\n"
        "                          keras.callbacks.EarlyStopping(patience=3,\n"
        "                                                        restore_best_weights=True)])\n"
        "assert fixed_history.epochs < 20  # it did stop early\n"
        "assert diagnose(fixed_history).pattern == 'overfitting'  # on all its epochs\n")
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    score, maximum = grade(path, assigned / name / "autograder", tmp_path)
    assert score == maximum
