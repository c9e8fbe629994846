"""Homework on Colab: the set-up cell adds otter-grader's self-checks without replacing any of
Colab's packages, and ``grader.check`` works the way Colab runs it.

Under the Colab profile (scripts/test_colab_profile.sh) otter-grader is installed exactly as the
cell installs it, so the self-check below runs with Colab's IPython, ipywidgets and wrapt.
"""

import json
import re
import sys
import tomllib
import types
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = sorted((ROOT / "homework").glob("hw*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))
from colab_homework_install import colab_pip_commands  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OTTER_TEST = """OK_FORMAT = True

test = {'name': 'q1', 'points': 1,
        'suites': [{'cases': [{'code': ">>> assert answer == 42, 'answer must be 42'", 'hidden': False,
                               'locked': False}],
                    'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}
"""


def test_every_homework_installs_the_same_on_colab():
    commands = {path.name: colab_pip_commands(path) for path in HOMEWORK}
    assert len(commands) == 3
    assert len({repr(command) for command in commands.values()}) == 1, commands


def test_the_colab_cell_adds_otter_without_the_requirements_that_would_replace_colabs():
    otter_command, helpers_command = colab_pip_commands(HOMEWORK[0])
    assert otter_command[:3] == ["install", "-q", "--no-deps"]
    pins = [Requirement(word) for word in otter_command[3:]]
    unpinned = [str(pin) for pin in pins if not re.fullmatch(r"==\d+(\.\d+)*", str(pin.specifier))]
    assert not unpinned, f"pin every package installed without its dependencies: {unpinned}"
    (otter,) = [pin for pin in pins if pin.name == "otter-grader"]
    (homework_extra,) = [Requirement(item) for item in
                         PYPROJECT["project"]["optional-dependencies"]["homework"]]
    assert homework_extra.specifier.contains(next(iter(otter.specifier)).version), (
        f"Colab gets {otter}, instructors {homework_extra}: they must agree")
    names = {pin.name for pin in pins}
    assert not names & {"ipywidgets", "wrapt", "widgetsnbextension", "jupyterlab-widgets"}
    assert helpers_command[:2] == ["install", "-q"] and "--no-deps" not in helpers_command
    assert helpers_command[2].startswith("loss-curves-lab @ git+")


@pytest.fixture
def colab_shell(monkeypatch, tmp_path):
    """An IPython shell that otter and the homework take for Colab's, in a folder with a test but
    without the notebook file (Colab keeps notebooks off the machine's disk)."""
    pytest.importorskip("otter", reason="otter-grader is in the 'homework' extra")
    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        pass

    Shell.__module__ = "google.colab._shell"  # otter looks for 'google.colab' in the shell's name
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "q1.py").write_text(OTTER_TEST)
    monkeypatch.chdir(tmp_path)
    shell = Shell.instance()
    yield shell
    Shell.clear_instance()


@pytest.mark.parametrize("path", HOMEWORK, ids=lambda path: path.stem)
def test_self_check_passes_a_right_answer_and_fails_a_wrong_one_as_on_colab(colab_shell, path):
    cells = json.loads(path.read_text())["cells"]
    setup = next("".join(cell["source"]) for cell in cells
                 if "grader = otter.Notebook(" in "".join(cell["source"]))
    # The cell's own lines from `import otter` on (its pip commands are checked above).
    cell = colab_shell.run_cell("import sys\n" + setup[setup.index("import otter"):]
                                + "\ncolab = grader.interpreter.name")
    assert cell.success, cell.error_in_exec
    assert colab_shell.user_ns["colab"] == "COLAB"
    for answer, passed in ((42, True), (41, False)):
        cell = colab_shell.run_cell(f"answer = {answer}\nresult = grader.check('q1')")
        assert cell.success, cell.error_in_exec
        assert colab_shell.user_ns["result"].passed_all is passed, answer
