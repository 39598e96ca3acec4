"""Settings are layered defaults < show file < environment < CLI; credentials are made once and kept."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

from stage.network import public_url
from stage.settings import Settings
from stage.show.loader import parse_show

SHOW = parse_show("title: t\nserver: {port: 9001, public_url: 'http://show.example:9001'}\n"
                  "displays: [{name: main}]\ncues: [{type: note}]\n")


def test_layers_override_in_order(tmp_path):
    path = tmp_path / "night.yaml"
    base = Settings.resolve(path, SHOW, {}, {})
    assert base.port == 9001 and base.public_url == "http://show.example:9001" and base.data_dir == Path("data/night")
    env = Settings.resolve(path, SHOW, {"STAGE_PORT": "9002", "STAGE_HOST_PASSWORD": "env-pass"}, {})
    assert env.port == 9002 and env.host_password == "env-pass"
    cli = Settings.resolve(path, SHOW, {"STAGE_PORT": "9002"}, {"port": 9003, "data_dir": tmp_path / "d", "bind": None})
    assert cli.port == 9003 and cli.data_dir == tmp_path / "d" and cli.bind == "0.0.0.0"


def test_the_store_comes_from_the_show_then_the_environment_then_the_command_line(tmp_path):
    path = tmp_path / "night.yaml"
    assert Settings.resolve(path, SHOW, {}, {}).database is None, "no URL: SQLite in the data directory"
    show = parse_show("title: t\nserver: {database: 'postgresql://stage@db.venue:5432/show'}\n"
                      "displays: [{name: main}]\ncues: [{type: note}]\n")
    assert Settings.resolve(path, show, {}, {}).database == "postgresql://stage@db.venue:5432/show"
    env = {"STAGE_DATABASE_URL": "postgresql://stage@env/night"}
    assert Settings.resolve(path, show, env, {}).database == "postgresql://stage@env/night"
    assert Settings.resolve(path, show, env, {"database": "postgresql://stage@cli/night"}).database == \
        "postgresql://stage@cli/night"


def test_credentials_are_generated_once_and_kept(tmp_path):
    settings = Settings.resolve(tmp_path / "n.yaml", SHOW, {}, {"data_dir": tmp_path / "d"})
    first = settings.with_credentials()
    second = settings.with_credentials()
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.host_password == second.host_password != first.crew_password
    assert (tmp_path / "d" / "credentials.json").stat().st_mode & 0o777 == 0o600
    given = Settings.resolve(tmp_path / "n.yaml", SHOW, {}, {"data_dir": tmp_path / "d", "host_password": "mine"})
    assert given.with_credentials().host_password == "mine"


def test_public_url_is_the_lan_address_not_loopback_unless_asked():
    assert public_url("http://stage.local:8080/", "0.0.0.0", 8080) == "http://stage.local:8080"
    assert public_url(None, "127.0.0.1", 8080) == "http://127.0.0.1:8080"
    lan = [line.split()[3].split("/")[0] for line in subprocess.run(
        ["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout.splitlines()]
    lan = [a for a in lan if not ipaddress.IPv4Address(a).is_loopback]
    url = public_url(None, "0.0.0.0", 8080)
    host = url.removeprefix("http://").split(":")[0]
    assert host in lan if lan else host == "127.0.0.1"  # no LAN at all: loopback, with a warning


def test_the_venue_network_settings_refuse_what_cannot_work(tmp_path):
    import pytest

    path = tmp_path / "night.yaml"
    show = parse_show("title: t\nserver: {tls_cert: certs/v.pem, tls_key: certs/v.key, log_level: warning}\n"
                      "displays: [{name: main}]\ncues: [{type: note}]\n")
    resolved = Settings.resolve(path, show, {}, {})
    assert resolved.tls_cert == tmp_path / "certs" / "v.pem"  # a show's certificate sits beside the show
    assert resolved.log_level == "warning" and resolved.behind_proxy == 0
    assert Settings.resolve(path, show, {"STAGE_TLS_CERT": "c.pem"}, {}).tls_cert == Path("c.pem")
    with pytest.raises(ValueError, match="HTTPS port too"):
        Settings.resolve(path, show, {}, {"port": 8080, "http_port": 8080})
    plain = SHOW
    with pytest.raises(ValueError, match="needs --tls-cert"):
        Settings.resolve(path, plain, {}, {"http_port": 8081})
    with pytest.raises(ValueError, match="both --tls-cert and --tls-key"):
        Settings.resolve(path, plain, {}, {"tls_cert": "c.pem"})
    with pytest.raises(ValueError, match="log level must be one of"):
        Settings.resolve(path, plain, {"STAGE_LOG_LEVEL": "loud"}, {})
