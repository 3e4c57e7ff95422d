"""One source for configuration: the version from package metadata, the folders in one place."""

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import layerviz
from layerviz import config


def test_the_version_is_the_installed_metadata():
    assert layerviz.__version__ == metadata.version("layerviz") == config.version()
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert f'version = "{layerviz.__version__}"' in pyproject
    assert layerviz.__version__ not in (Path(layerviz.__file__).read_text())


def test_the_models_folder_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(config.MODELS_DIR_VARIABLE, str(tmp_path))
    assert config.models_dir() == tmp_path


def test_a_checkout_serves_its_own_assets():
    assert (config.assets_dir() / "favicon.ico").is_file()


def test_import_works_where_file_descriptor_2_is_closed():
    # A daemon may run with fd 2 closed; silencing TensorFlow's import must not need it.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", "import layerviz, sys; print(layerviz.__version__)"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        pass_fds=(),
        preexec_fn=lambda: os.close(2),
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == layerviz.__version__
