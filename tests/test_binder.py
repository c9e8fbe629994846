"""Binder: the build repo2docker would run uses binder/, and the server it starts culls idle kernels
and opens without first-run prompts (the settings scripts/lab.sh uses too).

A Binder build needs a container daemon, which CI does not have; ``repo2docker --no-build``
writes the Dockerfile it would build from, and that is checked here.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
SERVER_CONFIG = json.loads((BINDER / "jupyter_server_config.json").read_text())
# The defaults scripts/lab.sh (through JUPYTER_CONFIG_PATH) and binder/postBuild give JupyterLab.
LAB_DEFAULTS_FILE = ROOT / "jupyter-config" / "labconfig" / "default_setting_overrides.json"
LAB_DEFAULTS = json.loads(LAB_DEFAULTS_FILE.read_text())
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def test_idle_kernels_are_culled_with_settings_jupyter_server_knows():
    kernelmanager = pytest.importorskip("jupyter_server.services.kernels.kernelmanager",
                                        reason="jupyter_server comes with the 'lab' extra")
    known = kernelmanager.MappingKernelManager.class_traits(config=True)
    settings = SERVER_CONFIG["MappingKernelManager"]
    unknown = sorted(set(settings) - set(known))
    assert not unknown, f"jupyter_server's MappingKernelManager has no setting {unknown}"
    assert settings["cull_idle_timeout"] > settings["cull_interval"] > 0
    assert settings["cull_connected"] is True, "a tab left open must not keep a kernel alive"
    assert settings["cull_busy"] is False, "a kernel that is training must never be culled"


def test_notebook_00_says_when_and_why_binder_culls_kernels():
    cells = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"]
    text = " ".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    text = " ".join(text.split())
    minutes = SERVER_CONFIG["MappingKernelManager"]["cull_idle_timeout"] // 60
    assert f"on Binder a kernel that has run nothing for {minutes} minutes is shut down" in text
    assert "keeps its memory until it is shut down" in text


def postbuild_folders(tmp_path):
    """A bin folder whose python skips postBuild's pip install, and an empty Jupyter config dir."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "python").chmod(0o755)
    (fake_bin / "jupyter").symlink_to(Path(sys.executable).with_name("jupyter"))
    return fake_bin, tmp_path / "jupyter-config"


def test_postbuild_installs_the_server_config_where_the_server_reads_it(tmp_path):
    pytest.importorskip("jupyter_server", reason="jupyter_server comes with the 'lab' extra")
    fake_bin, config_dir = postbuild_folders(tmp_path)
    environment = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}",
                   "JUPYTER_CONFIG_DIR": str(config_dir)}
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=environment, check=True)
    loaded = subprocess.run(
        [sys.executable, "-c", "from jupyter_server.serverapp import ServerApp\n"
         "app = ServerApp(); app.load_config_file()\n"
         "import json; print(json.dumps(dict(app.config.MappingKernelManager)))"],
        env=environment, check=True, capture_output=True, text=True).stdout
    assert json.loads(loaded.strip().splitlines()[-1]) == SERVER_CONFIG["MappingKernelManager"]


def test_first_run_prompts_are_off_with_settings_jupyterlab_knows():
    commands = pytest.importorskip("jupyterlab.commands", reason="JupyterLab comes with the 'lab' extra")
    assert LAB_DEFAULTS[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}, \
        "no news question, no update check"
    for plugin, settings in LAB_DEFAULTS.items():
        package, name = plugin.split(":")
        schema_file = Path(commands.get_app_dir()) / "schemas" / package / f"{name}.json"
        assert schema_file.is_file(), f"JupyterLab has no plugin {plugin}"
        properties = json.loads(schema_file.read_text())["properties"]
        for key, value in settings.items():
            assert key in properties, f"{plugin} has no setting {key}"
            allowed = [choice["const"] for choice in properties[key].get("oneOf", [])]
            assert not allowed or value in allowed, f"{plugin}'s {key} is one of {allowed}"
            kind = {"string": str, "boolean": bool}[properties[key]["type"]]
            assert isinstance(value, kind), f"{plugin}'s {key} must be a {kind.__name__}"


def test_lab_sh_gives_jupyter_the_settings_folder():
    lab = (ROOT / "scripts" / "lab.sh").read_text()
    folder = LAB_DEFAULTS_FILE.parent.parent.relative_to(ROOT)
    assert f'export JUPYTER_CONFIG_PATH="$PWD/{folder}' in lab


def jupyterlab_defaults(environment):
    """The default-setting overrides JupyterLab's server reads in ``environment``."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import json\n"
         "from jupyterlab_server.settings_utils import _get_overrides\n"
         "print(json.dumps(_get_overrides('/nonexistent')[0]))"],
        env=environment, check=True, capture_output=True, text=True).stdout
    return json.loads(loaded.strip().splitlines()[-1])


def test_postbuild_installs_the_lab_defaults_where_jupyterlab_reads_them(tmp_path):
    pytest.importorskip("jupyterlab_server", reason="JupyterLab comes with the 'lab' extra")
    fake_bin, config_dir = postbuild_folders(tmp_path)
    environment = {key: value for key, value in os.environ.items() if key != "JUPYTER_CONFIG_PATH"}
    environment.update(PATH=f"{fake_bin}:{os.environ['PATH']}", JUPYTER_CONFIG_DIR=str(config_dir))
    before = jupyterlab_defaults(environment).get(NOTIFICATION, {})
    assert before.get("fetchNews") != "false", "the news question is off before postBuild ran"
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=environment, check=True)
    after = jupyterlab_defaults(environment)
    assert after[NOTIFICATION] == LAB_DEFAULTS[NOTIFICATION]


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory):
    if importlib.util.find_spec("repo2docker") is None:
        pytest.skip("repo2docker is not installed (pip install jupyter-repo2docker, in the 'dev' "
                    "extra): the Binder build cannot be checked")
    script = Path(sys.executable).with_name("repo2docker")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "repo2docker"]
    result = subprocess.run([*command, "--no-build", "--debug", str(ROOT)],
                            cwd=tmp_path_factory.mktemp("repo2docker"), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_binder_build_uses_the_binder_folder(dockerfile):
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"' in dockerfile
    assert "src/binder/environment.yml" in dockerfile
    assert "src/environment.yml" not in dockerfile, "the root environment.yml is for conda users"


def test_binder_build_pins_python(dockerfile):
    environment = yaml.safe_load((BINDER / "environment.yml").read_text())
    (python,) = [item for item in environment["dependencies"]
                 if isinstance(item, str) and re.fullmatch(r"python=\d+\.\d+", item)]
    version = python.split("=")[1]
    assert f"Building conda environment for python={version}" in dockerfile
    # The base environment's lock file for that Python (escaped in the build-script names).
    unescaped = dockerfile.replace("-2e", ".").replace("-2d", "-")
    assert f"environment.py-{version}-linux-64.lock" in unescaped


def test_binder_build_installs_apt_txt(dockerfile):
    packages = [line.strip() for line in (BINDER / "apt.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert packages
    installs = re.findall(r"apt-get install --yes --no-install-recommends ([^&\n]+)", dockerfile)
    for package in packages:
        assert any(package in line.split() for line in installs), f"apt.txt's {package} not installed"


def test_binder_build_runs_postbuild(dockerfile):
    assert "RUN ./binder/postBuild" in dockerfile
