"""Copy the repository address from pyproject.toml into every notebook, homework and the README.

Usage: edit ``[project.urls] Repository`` in pyproject.toml, then run
``python scripts/set_repository.py OLD_OWNER/OLD_NAME`` (the address written there now).
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    if len(sys.argv) != 2 or sys.argv[1].count("/") != 1:
        raise SystemExit("usage: python scripts/set_repository.py OLD_OWNER/OLD_NAME")
    old = sys.argv[1]
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    new = url.removeprefix("https://github.com/").rstrip("/")
    paths = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("homework/*.ipynb"), ROOT / "README.md"]
    for path in paths:
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new))
            print(f"{path.relative_to(ROOT)}: {old} -> {new}")


if __name__ == "__main__":
    main()
