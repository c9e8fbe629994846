from pathlib import Path

from helpers import data
from helpers.environment import PROJECT_NAME, build_folder, check_environment, repository_root

ROOT = Path(__file__).resolve().parent.parent


def test_environment_here_is_ready(monkeypatch):
    monkeypatch.setenv("LCL_QUICK", "1")
    report = check_environment()
    assert report["ready"], report["problems"]
    assert report["mode"] == "quick"
    assert report["tensorflow"] != "missing" and report["devices"]
    assert report["fashion_mnist"] == str(data.locate_fashion_mnist())


def test_wrong_dataset_variable_makes_it_not_ready(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DIRECTORY_VARIABLE, str(tmp_path))
    report = check_environment()
    assert not report["ready"]
    assert any(data.DIRECTORY_VARIABLE in problem for problem in report["problems"])


def test_missing_dataset_means_a_download(monkeypatch, tmp_path):
    monkeypatch.delenv(data.DIRECTORY_VARIABLE, raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIRECTORY", tmp_path / "none")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    report = check_environment()
    assert report["ready"] and "download" in report["fashion_mnist"]


def test_repository_root_is_found_from_the_notebooks_folder(monkeypatch):
    assert repository_root(ROOT / "notebooks") == ROOT
    monkeypatch.chdir(ROOT / "notebooks")  # where a notebook's kernel runs
    assert repository_root() == ROOT
    assert build_folder() == ROOT / "build"


def test_repository_root_needs_this_projects_pyproject(tmp_path, monkeypatch):
    nested = tmp_path / "checkout" / "notebooks" / "deeper"
    nested.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "{PROJECT_NAME}"\n')
    (tmp_path / "checkout" / "pyproject.toml").write_text('[project]\nname = "another-project"\n')
    (tmp_path / "checkout" / "notebooks" / "pyproject.toml").write_text("not [ toml")
    assert repository_root(nested) == tmp_path  # the other project's and the broken file skipped
    (tmp_path / "pyproject.toml").unlink()
    assert repository_root(nested) is None


def test_build_folder_outside_a_checkout_is_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as on Colab: /content, no checkout above it
    assert repository_root() is None
    assert build_folder() == tmp_path.resolve() / "build"
    assert build_folder(tmp_path / "a") == (tmp_path / "a").resolve() / "build"
