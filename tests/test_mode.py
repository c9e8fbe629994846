import pytest

from helpers.mode import is_quick, mode_name, pick


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("YES", True),
                                          ("0", False), ("", False), ("no", False)])
def test_mode_follows_the_environment_variable(monkeypatch, value, quick):
    monkeypatch.setenv("LCL_QUICK", value)
    assert is_quick() is quick
    assert mode_name() == ("quick" if quick else "full")
    assert pick(full=15, quick=2) == (2 if quick else 15)


def test_full_mode_is_the_default(monkeypatch):
    monkeypatch.delenv("LCL_QUICK", raising=False)
    assert pick(full="full", quick="quick") == "full"


def test_unknown_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("LCL_QUICK", "maybe")
    with pytest.raises(ValueError, match="LCL_QUICK"):
        is_quick()
