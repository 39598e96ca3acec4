"""``stage service``: the systemd unit it prints and installs (stage/service.py), checked by systemd's own
``systemd-analyze verify`` (Debian's systemd package, present wherever Stage's set-up runs)."""

from __future__ import annotations

import configparser
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from stage.cli import cli
from tests.stage_process import DEMO_SHOW

USER = getpass.getuser()


def unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string(text)
    return parser


@pytest.fixture
def show(tmp_path: Path) -> Path:
    path = tmp_path / "venue" / "my night.yaml"  # a space: ExecStart must quote it
    path.parent.mkdir()
    shutil.copy(DEMO_SHOW, path)
    return path


def run(*args: str, cwd: Path | None = None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "stage", "service", *args], capture_output=True, text=True, cwd=cwd)


def test_the_printed_unit_starts_the_show_at_boot_with_absolute_paths(show: Path, tmp_path: Path) -> None:
    done = run(show.name, "--port", "9000", "--user", USER, "--log-level", "warning", cwd=show.parent)
    assert done.returncode == 0, done.stderr
    service = unit(done.stdout)["Service"]
    data = show.parent / "data" / "my night"  # serve's default data directory, made absolute
    assert service["ExecStart"] == (f"{sys.executable} -m stage serve '{show}' --data '{data}' --port 9000 "
                                    "--log-level warning")
    assert service["User"] == USER and service["WorkingDirectory"] == str(show.parent)
    assert service["LimitNOFILE"] == "65536" and service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM" and service["ReadWritePaths"] == str(data)
    assert unit(done.stdout)["Unit"]["After"] == "network-online.target"
    assert unit(done.stdout)["Install"]["WantedBy"] == "multi-user.target"
    assert "password" not in done.stdout.lower()
    written = tmp_path / "stage-test.service"
    written.write_text(done.stdout)
    verify = subprocess.run(["systemd-analyze", "verify", str(written)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_install_writes_the_unit_and_says_how_to_start_it(show: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    result = CliRunner().invoke(cli, ["service", str(show), "--install", "--unit-dir", str(units), "--user", USER,
                                      "--data", str(tmp_path / "night-data")])
    assert result.exit_code == 0, result.output
    target = units / "stage-my-night.service"
    assert target.stat().st_mode & 0o777 == 0o644
    assert unit(target.read_text())["Service"]["ReadWritePaths"] == str(tmp_path / "night-data")
    assert (tmp_path / "night-data").is_dir()  # ReadWritePaths must exist when the unit starts
    assert "systemctl daemon-reload && sudo systemctl enable --now stage-my-night" in result.output


def test_refusals_each_with_a_clear_word(show: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: x\ncues:\n  - nme: 1\n")
    done = run(str(broken), "--user", USER)
    assert done.returncode == 1 and f"{broken}:" in done.stderr and done.stdout == ""
    done = run(str(show), "--user", USER, "--host-password", "secret-words")
    assert done.returncode == 2 and "world-readable" in done.stderr
    done = run(str(show), "--user", USER, "--prot", "9000")  # a typo is an error now, not a unit failing at boot
    assert done.returncode == 2 and "--prot" in done.stderr
    done = run(str(show), "--user", "no-such-user-here")
    assert done.returncode == 2 and "no user 'no-such-user-here'" in done.stderr
    if USER == "root":
        done = run(str(show))
        assert done.returncode == 2 and "would run as root" in done.stderr


def test_paths_the_operator_gives_relative_to_here_are_absolute_in_the_unit(show: Path, tmp_path: Path) -> None:
    """The unit's serve starts in WorkingDirectory (the show's folder): nothing may resolve against this cwd."""
    here = tmp_path / "desk"
    here.mkdir()
    done = run(str(show), "--user", USER, "--tls-cert=certs/venue.pem", "--tls-key", "certs/venue.key", cwd=here)
    assert done.returncode == 0, done.stderr
    exec_start = unit(done.stdout)["Service"]["ExecStart"]
    assert f"--tls-cert {here}/certs/venue.pem --tls-key {here}/certs/venue.key" in exec_start
    assert f"--data '{here}/data/my night'" in exec_start  # serve's default data directory, as if started here
    done = subprocess.run([sys.executable, "-m", "stage", "service", str(show), "--user", USER], cwd=here,
                          capture_output=True, text=True, env={**os.environ, "STAGE_DATA": "night"})
    assert f"--data {here}/night" in unit(done.stdout)["Service"]["ExecStart"], done.stderr


def test_no_secret_in_the_unit_and_low_ports_get_only_their_capability(show: Path) -> None:
    done = run(str(show), "--user", USER, "--database", "postgresql://stage:hunter22@db.local/night")
    assert done.returncode == 2 and "carries a password" in done.stderr and "hunter22" not in done.stdout
    done = run(str(show), "--user", USER, "--port", "8080")
    assert "AmbientCapabilities" not in done.stdout
    done = run(str(show), "--user", USER, "--port", "443")
    assert unit(done.stdout)["Service"]["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert unit(done.stdout)["Service"]["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
