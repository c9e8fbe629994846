"""Shared fixtures: the real Fashion-MNIST (loaded once) and an isolated runs folder."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # no windows from tests, before pyplot is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def fashion_mnist():
    from helpers.data import load_fashion_mnist

    return load_fashion_mnist(verbose=False)


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LCL_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture(autouse=True)
def close_figures():
    """Close every pyplot figure a test opened, even when it fails."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
