"""The wheel, tried as a new user would: built from this checkout, installed into a fresh
virtualenv, and run from another folder, where the checkout's ``models/`` and ``assets/`` are
out of reach.

The fresh virtualenv borrows this environment's third-party packages through a ``.pth`` line
naming this environment's site-packages (installing TensorFlow again would take minutes).
Python reads ``.pth`` files only in site directories, not in folders such a line adds, so the
development install's own ``.pth`` (the editable path to this checkout) is not read there:
``layerviz`` can only come from the wheel, which the first test checks.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.error
import urllib.request
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
#: Variables a new user's shell does not have: those that would let the installed package see
#: the checkout or another models folder, and the TensorFlow log level that this test process's
#: own ``import layerviz`` set (inherited, it would turn off the quiet import a user gets).
USER_LESS_VARIABLES = (
    "LAYERVIZ_MODELS_DIR",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "TF_CPP_MIN_LOG_LEVEL",
)
SERVER_START_S = 90  # TensorFlow's import and the bundled models' first load, on 2 busy cores
_ASSET_REF = re.compile(r'(?:href|src)="(/assets/[^"]+)"')
_CSS_URL = re.compile(r"""url\(\s*["']?(?!data:)([^"')]+)["']?\s*\)""")


@dataclass(frozen=True)
class FreshInstall:
    """A virtualenv holding only the wheel, and a folder outside the checkout to run it in."""

    venv: Path
    workdir: Path
    env: dict[str, str]

    def run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run one of the virtualenv's programs in ``workdir``; fail with its output if it fails."""
        done = subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{program} {args} exited {done.returncode}:\n{done.stderr}"
        return done


def _build_wheel(source: Path, out: Path) -> Path:
    """Build the wheel from a checkout or an sdist; no network (hatchling is pinned for tests)."""
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip_wheel, "--wheel-dir", str(out), str(source)], check=True, cwd=out.parent)
    (wheel,) = out.glob("layerviz-*.whl")
    return wheel


def _contents(wheel: Path) -> dict[str, int]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: info.CRC for info in archive.infolist()}


def _borrow_dependencies(fresh: Path) -> None:
    paths = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    site_packages = Path(sysconfig.get_paths(vars={"base": str(fresh)})["purelib"])
    (site_packages / "_borrowed_dependencies.pth").write_text("\n".join(paths) + "\n")


def _clean_env(fresh: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in USER_LESS_VARIABLES}
    env["VIRTUAL_ENV"] = str(fresh)
    env["PATH"] = f"{fresh / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from this checkout."""
    return _build_wheel(ROOT, tmp_path_factory.mktemp("built") / "dist")


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> FreshInstall:
    """The wheel installed afresh (no dependencies, no index)."""
    base = tmp_path_factory.mktemp("wheel")
    fresh = base / "venv"
    venv.EnvBuilder(symlinks=True, with_pip=False).create(fresh)
    _borrow_dependencies(fresh)
    workdir = base / "elsewhere"
    workdir.mkdir()
    install = FreshInstall(fresh, workdir, _clean_env(fresh))
    install.run("python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel))
    return install


def _shipped(folder: str, inside: str) -> set[str]:
    """Where the wheel must hold each of the checkout's files in ``folder`` but Python sources."""
    files = (ROOT / folder).rglob("*")
    return {
        f"{inside}/{path.relative_to(ROOT / folder).as_posix()}"
        for path in files
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts
    }


def test_wheel_carries_models_and_assets_but_not_training_scripts(wheel):
    names = set(_contents(wheel))
    data = _shipped("models", "layerviz/_models") | _shipped("assets", "layerviz/_assets")
    assert "layerviz/_models/digits_cnn.keras" in data and data <= names
    # The bundled training run (issue 22), so the Training run section shows on a fresh install.
    assert "layerviz/_models/runs/digits_cnn/run.h5" in data
    data_dirs = ("layerviz/_models/", "layerviz/_assets/")
    assert not {name for name in names if name.startswith(data_dirs) and name.endswith(".py")}
    assert all(name.startswith(("layerviz/", "layerviz-")) for name in names)


def test_sdist_builds_the_same_wheel(wheel, tmp_path):
    hatchling = [sys.executable, "-m", "hatchling", "build", "-t", "sdist"]
    subprocess.run([*hatchling, "-d", str(tmp_path)], check=True, cwd=ROOT, capture_output=True)
    (sdist,) = tmp_path.glob("layerviz-*.tar.gz")
    assert _contents(_build_wheel(sdist, tmp_path / "dist")) == _contents(wheel)


def _bundled_names() -> list[str]:
    return sorted(path.stem for path in (ROOT / "models").glob("*.keras"))


def test_layerviz_comes_from_the_wheel(installed):
    code = (
        "import importlib.metadata as m, importlib.util as u;"
        "print(u.find_spec('layerviz').origin); print(m.version('layerviz'))"
    )
    origin, version = installed.run("python", "-c", code).stdout.split()
    assert Path(origin).is_relative_to(installed.venv)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert version == project["version"]


def test_models_lists_the_bundled_models(installed):
    done = installed.run("layerviz", "models")
    assert done.stderr == ""  # results only, no TensorFlow start-up lines
    listed = done.stdout
    names = [line.split()[0] for line in listed.splitlines() if line and not line[0].isspace()]
    assert names and sorted(names) == _bundled_names()


def test_export_writes_the_first_grid(installed):
    installed.run("layerviz", "export", "digits_cnn", "--out", "x")
    with Image.open(installed.workdir / "x" / "0.png") as image:
        assert image.format == "PNG"
        image.load()  # the whole file decodes
        assert min(image.size) > 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()


def _wait_for_page(url: str, server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"layerviz serve exited:\n{log.read_text()}"
        try:
            return _get(url).decode()
        except urllib.error.HTTPError:
            raise  # it answered, wrongly: no use waiting
        except (urllib.error.URLError, ConnectionError):  # not listening yet
            time.sleep(0.5)
    pytest.fail(f"layerviz serve did not answer in {SERVER_START_S} s:\n{log.read_text()}")


def _fetch_asset(url: str) -> tuple[str, bytes]:
    """Fetch an ``/assets/`` URL; it must answer 200 with the checkout's file, byte for byte."""
    path = url.split("/assets/", 1)[1].split("?")[0]
    body = _get(url)
    assert body == (ROOT / "assets" / path).read_bytes(), url
    return path, body


def _check_assets(base: str, page: str) -> set[str]:
    """Fetch every ``/assets/`` file the page names, and the fonts its CSS names."""
    fetched = set()
    for ref in _ASSET_REF.findall(page):
        url = urljoin(base, ref)
        path, body = _fetch_asset(url)
        fetched.add(path)
        if path.endswith(".css"):
            fetched |= {
                _fetch_asset(urljoin(url, inner))[0] for inner in _CSS_URL.findall(body.decode())
            }
    return fetched


def test_serve_serves_the_page_and_its_assets(installed):
    port = _free_port()
    log = installed.workdir / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(installed.venv / "bin" / "layerviz"), "serve", "--port", str(port)],
            cwd=installed.workdir,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/"
        fetched = _check_assets(base, _wait_for_page(base, server, log))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assets = ROOT / "assets"
    needed = [*assets.glob("*.css"), *assets.glob("fonts/*"), assets / "favicon.ico"]
    assert {path.relative_to(assets).as_posix() for path in needed} <= fetched
