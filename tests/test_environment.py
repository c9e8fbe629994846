from helpers import data
from helpers.environment import check_environment


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
