"""Shared fixtures: the real Fashion-MNIST (loaded once) and an isolated runs folder."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def fashion_mnist():
    from helpers.data import load_fashion_mnist

    return load_fashion_mnist(verbose=False)


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LCL_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"
