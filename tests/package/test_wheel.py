"""Stage as a package (issue 19): the wheel builds, installs into a new venv outside the checkout, and its
``stage`` command checks and serves a show from another directory, pages and socket.io client included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import requests

import stage
from stage.resources import REPO, SOCKETIO_CLIENT
from tests.owned_process import OwnedProcess
from tests.stage_process import DEMO_SHOW, free_port
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: hatchling is pinned in requirements-dev.txt and installed; isolation would fetch it again.
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(out)], check=True, cwd=out)
    (built,) = out.glob("stage-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel and its pinned dependencies: nothing of the checkout on its path."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True, cwd=env_dir)
    return env_dir / "bin" / "stage"


def test_the_wheel_carries_pages_and_client_but_no_checkout(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "stage/audience_web/templates/audience.html" in names
    assert "stage/audience_web/static/js/common.js" in names
    assert "stage/vendor/socket.io.min.js" in names
    assert not [n for n in names if n.startswith(("tests/", "node_modules/", "bench/", "data/"))]
    metadata = zipfile.ZipFile(wheel).read(f"stage-{stage.__version__}.dist-info/METADATA").decode()
    assert "Requires-Dist: flask-socketio==5.7.0" in metadata  # the pins are requirements.txt's
    assert "Provides-Extra: test" in metadata


def test_installed_stage_checks_and_serves_from_another_directory(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "venue"
    elsewhere.mkdir()
    show = elsewhere / "night.yaml"
    shutil.copy(DEMO_SHOW, show)
    run = subprocess.run([str(installed), "--version"], capture_output=True, text=True, cwd=elsewhere, check=True)
    assert stage.__version__ in run.stdout
    run = subprocess.run([str(installed), "check", "night.yaml"], capture_output=True, text=True, cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    assert "night.yaml: ok" in run.stdout

    port = free_port()
    server = OwnedProcess()
    log = open(tmp_path / "serve.log", "w")
    server.proc = subprocess.Popen([str(installed), "serve", "night.yaml", "--bind", "127.0.0.1", "--port", str(port),
                                    "--no-local-rigs"], cwd=elsewhere, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            assert server.running, (tmp_path / "serve.log").read_text()
            try:
                return requests.get(f"{base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=30, what="the installed stage serve to answer /healthz")
        page = requests.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and "/vendor/socket.io.min.js" in page.text
        client = requests.get(f"{base}/vendor/socket.io.min.js", timeout=5)
        assert client.status_code == 200
        assert client.content == (REPO / "node_modules" / SOCKETIO_CLIENT).read_bytes()
        assert requests.get(f"{base}/static/js/audience.js", timeout=5).status_code == 200
        assert (elsewhere / "data" / "night" / "stage.db").is_file()  # the night's data beside the show, not the venv
    finally:
        server.end()
        log.close()
