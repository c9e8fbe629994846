"""Install into this Python exactly what the homework's Colab cell installs, and fail if that
replaces any package already installed (on Colab that would mean a changed Colab and a restart).

Usage (scripts/test_colab_profile.sh runs it in the Colab profile): ``python
scripts/colab_homework_install.py``. The pip commands are read from the set-up cell of
``homework/hw1_losses_by_hand.ipynb`` (``tests/test_homework_colab.py`` checks that every homework
has the same ones); helpers comes from this checkout instead of GitHub.
"""

import ast
import json
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "homework" / "hw1_losses_by_hand.ipynb"


def colab_pip_commands(notebook):
    """Return the argument lists after ``pip`` that the notebook's Colab set-up cell runs."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and '"google.colab" in sys.modules' in source:
            break
    else:
        raise ValueError(f"{notebook}: no set-up cell with a 'google.colab' branch")
    commands = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.List)
                and ast.unparse(node.func) == "subprocess.run"):
            words = [ast.unparse(item) if not isinstance(item, ast.Constant) else item.value
                     for item in node.args[0].elts]
            if words[:3] == ["sys.executable", "-m", "pip"]:
                commands.append(words[3:])
    if not commands:
        raise ValueError(f"{notebook}: the Colab branch runs no pip command")
    return commands


def installed_versions():
    return {dist.metadata["Name"].lower().replace("_", "-"): dist.version
            for dist in distributions()}


def main():
    before = installed_versions()
    for command in colab_pip_commands(HOMEWORK):
        # Helpers from this checkout, editable as the profile has it, instead of from GitHub.
        command = [part for word in command for part in
                   (["-e", str(ROOT)] if word.startswith("loss-curves-lab @ ") else [word])]
        print("pip", " ".join(command), flush=True)
        subprocess.run([sys.executable, "-m", "pip", *command], check=True)
    after = installed_versions()
    changed = {name: (version, after.get(name)) for name, version in before.items()
               if after.get(name) != version and name != "loss-curves-lab"}
    added = sorted(set(after) - set(before))
    print("added:", ", ".join(f"{name} {after[name]}" for name in added) or "nothing")
    if changed:
        raise SystemExit("the homework's Colab cell changed installed packages: " + ", ".join(
            f"{name} {old} -> {new}" for name, (old, new) in sorted(changed.items())))


if __name__ == "__main__":
    main()
