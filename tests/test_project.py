"""The project's own promises: clean notebooks, Colab-ready first cells, consistent set-up files."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HOMEWORK = sorted((ROOT / "homework").glob("hw*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]


def requirement_name(requirement):
    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].strip().lower()


def test_there_are_notebooks():
    assert [path.name for path in NOTEBOOKS][:1] == ["00_start_here.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS + HOMEWORK, ids=lambda path: path.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [index for index, cell in enumerate(notebook["cells"])
             if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"])]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_opens_with_title_badges_and_colab_cell(path):
    cells = json.loads(path.read_text())["cells"]
    title = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and title.startswith("# ")
    assert "colab.research.google.com/github/" in title and f"notebooks/{path.name}" in title
    assert "mybinder.org/v2/gh/" in title and f"lab/tree/notebooks/{path.name}" in title
    first_code = "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])
    code_lines = [line for line in first_code.splitlines() if not line.startswith("#")]
    assert code_lines == ['if "google.colab" in str(get_ipython()):',
                          f'    %pip install -q "loss-curves-lab @ git+{REPOSITORY}"']


# Each badge's alt text says where it leads: offline (a lab machine, a firewall) the badge's image
# does not load and the browser shows its alt text instead.
BADGE_ALT_TEXT = {"colab.research.google.com": "Open in Colab", "mybinder.org": "Launch on Binder"}
BADGE = re.compile(r"\[!\[(?P<alt>[^\]]*)\]\((?P<image>[^)\s]+)\)\]\((?P<link>[^)\s]+)\)")


def badge_problems(markdown):
    """What is wrong with the Colab and Binder badges in ``markdown``: one of each is wanted, each
    with the alt text that says where it leads."""
    problems, found = [], []
    for badge in BADGE.finditer(markdown):
        host = re.match(r"https://([^/]+)/", badge["link"])
        expected = BADGE_ALT_TEXT.get(host[1] if host else "")
        if expected is None:
            problems.append(f"a badge leads to {badge['link']}, not Colab or Binder")
            continue
        found.append(expected)
        if badge["alt"] != expected:
            problems.append(f"the badge to {host[1]} has alt text {badge['alt']!r}, not {expected!r}")
        if host[1] not in badge["image"]:
            problems.append(f"the badge to {host[1]} shows {badge['image']}")
    if sorted(found) != sorted(BADGE_ALT_TEXT.values()):
        problems.append(f"badges found: {found}, wanted one of each of {list(BADGE_ALT_TEXT.values())}")
    return problems


@pytest.mark.parametrize("path", [*NOTEBOOKS, ROOT / "README.md"], ids=lambda path: path.name)
def test_badges_have_alt_text_that_says_where_they_lead(path):
    if path.suffix == ".ipynb":
        text = "".join(json.loads(path.read_text())["cells"][0]["source"])  # the title cell
    else:
        text = path.read_text()
    assert badge_problems(text) == []


def test_the_badge_test_can_fail():
    colab = ("[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             "(https://colab.research.google.com/github/a/b/blob/main/notebooks/x.ipynb)")
    binder = ("[![Binder](https://mybinder.org/badge_logo.svg)]"
              "(https://mybinder.org/v2/gh/a/b/main?urlpath=lab/tree/notebooks/x.ipynb)")
    assert badge_problems(colab + "\n" + binder) == [
        "the badge to mybinder.org has alt text 'Binder', not 'Launch on Binder'"]
    assert badge_problems(colab + "\n" + binder.replace("[![Binder]", "[![Launch on Binder]")) == []
    assert len(badge_problems(colab)) == 1  # the Binder badge is missing
    assert badge_problems(colab.replace("[![Open in Colab]", "[![]") + binder)[0].endswith(
        "has alt text '', not 'Open in Colab'")


def test_the_repository_address_is_the_one_in_pyproject_everywhere():
    texts = {path.name: path.read_text() for path in [*NOTEBOOKS, *HOMEWORK, ROOT / "README.md"]}
    owner_and_name = REPOSITORY.removeprefix("https://github.com/")
    for name, text in texts.items():
        for address in re.findall(r"(?:github\.com|gh)/([\w.-]+/[\w.-]+?)(?:/blob|/main|\"|\)|\s)",
                                  text):
            assert address == owner_and_name, f"{name} names {address}, pyproject {owner_and_name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_checks_its_claims_and_is_listed_in_the_readme(path):
    source = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                       if cell["cell_type"] == "code")
    assert re.search(r"^\s*(assert |check\()", source, re.MULTILINE), f"{path.name} checks nothing"
    assert path.stem in README


@pytest.mark.parametrize("environment_file", ["environment.yml", "binder/environment.yml"])
def test_environment_file_matches_pyproject(environment_file):
    environment = yaml.safe_load((ROOT / environment_file).read_text())
    conda = [item for item in environment["dependencies"] if isinstance(item, str)]
    pip = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    python = next(item for item in conda if item.startswith("python"))
    assert python in ("python=3.11", "python=3.12"), "pin Python: Binder defaults to 3.10"
    listed = {requirement_name(item): item.replace(" ", "") for item in conda + pip}
    extras = PYPROJECT["project"]["optional-dependencies"]
    for requirement in (PYPROJECT["project"]["dependencies"] + extras["tensorflow"]
                        + extras["lab"] + extras["homework"]):
        name = requirement_name(requirement)
        assert name in listed, f"{environment_file} lacks {requirement}"
        assert listed[name].replace("==", "=").endswith(
            requirement.replace(" ", "")[len(name):].replace("==", "=")), (
            f"{environment_file} has {listed[name]}, pyproject.toml has {requirement}")
    if environment_file == "environment.yml":
        assert "-e ." in pip
    else:
        assert "-e ." not in pip and (ROOT / "binder" / "postBuild").is_file()


def test_colab_does_not_get_a_second_tensorflow():
    dependencies = " ".join(PYPROJECT["project"]["dependencies"]).lower()
    assert "tensorflow" not in dependencies


def test_ci_runs_exactly_the_readme_test_command():
    commands = re.findall(r"^\s*(bash scripts/\S+\.sh)\s*$", README, re.MULTILINE)
    assert "bash scripts/lab.sh" in commands and "bash scripts/test.sh" in commands
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "bash scripts/test.sh"


def normalized(text):
    """Lower case, markdown emphasis and code marks removed, whitespace collapsed."""
    return " ".join(re.sub(r"[*`]", "", text).lower().split())


def claims_in(source):
    """The claim texts of the check(...) calls in one code cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics (the Colab cell)
        return []
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check"
                and node.args):
            claim = node.args[0]
            assert isinstance(claim, ast.Constant) and isinstance(claim.value, str), (
                f"line {node.lineno}: a check's claim must be a plain string, so it can be "
                f"found in the markdown above it")
            found.append(claim.value)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_checked_claim_is_stated_in_the_markdown_above_it(path):
    markdown_so_far = ""
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            markdown_so_far += " " + normalized(source)
        elif cell["cell_type"] == "code":
            for claim in claims_in(source):
                assert normalized(claim) in markdown_so_far, (
                    f"{path.name}: check({claim!r}) is not stated in a markdown cell above it")


def test_the_claims_test_can_fail():
    assert claims_in('check("the loss rises", True)') == ["the loss rises"]
    with pytest.raises(AssertionError, match="plain string"):
        claims_in('check(f"the loss rises {x}", True)')
    assert normalized("The **validation** loss `rises`") == "the validation loss rises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_imports_helpers_before_keras_or_tensorflow(path):
    """Importing helpers first keeps TensorFlow's C++ log lines out of the notebook."""
    lines = [line for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()]
    helpers = next(index for index, line in enumerate(lines)
                   if re.match(r"\s*(from|import) helpers\b", line))
    tensorflow = [index for index, line in enumerate(lines)
                  if re.match(r"\s*(from|import) (keras|tensorflow)\b", line)]
    assert all(index > helpers for index in tensorflow), \
        f"{path.name} imports Keras or TensorFlow before helpers: {lines[tensorflow[0]]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_a_widget_cell_follows_a_hint_to_run_the_cells(path):
    """Reopened without running, a widget shows 'Error displaying widget': the text says why."""
    cells = json.loads(path.read_text())["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and re.search(r"display\(\w+\.widget\)",
                                                     "".join(cell["source"])):
            before = "".join(cells[index - 1]["source"])
            assert cells[index - 1]["cell_type"] == "markdown"
            assert "Error displaying widget" in before and "Run All Cells" in before, path.name
