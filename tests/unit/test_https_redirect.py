"""The plain-HTTP port's answer under HTTPS (stage/web/listen.py redirect_app): where a phone is sent."""

from __future__ import annotations

from stage.web.listen import redirect_app


def answer(app, host: str | None, path: str = "/", query: str = "") -> tuple[str, dict[str, str]]:
    got: dict = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, dict(headers)

    environ = {"PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": ""}
    if host is not None:
        environ["HTTP_HOST"] = host
    b"".join(app(environ, start_response))
    return got["status"], got["headers"]


def test_the_same_host_path_and_query_over_https():
    status, headers = answer(redirect_app(8443), "192.168.1.20:8080", "/display/main", "key=abc")
    assert status.startswith("308") and headers["Location"] == "https://192.168.1.20:8443/display/main?key=abc"
    assert answer(redirect_app(443), "stage.local")[1]["Location"] == "https://stage.local/"


def test_a_public_https_url_wins_over_the_typed_address():
    # The certificate names stage.example.org: a phone that typed the IP must land on the name, not a warning.
    app = redirect_app(443, "https://stage.example.org/")
    assert answer(app, "192.168.1.20", "/", "from=door")[1]["Location"] == "https://stage.example.org/?from=door"
    assert answer(app, None, "/host")[1]["Location"] == "https://stage.example.org/host"  # no Host: still safe
    assert answer(redirect_app(8443, "http://plain.example"), "10.0.0.2:80")[1]["Location"].startswith(
        "https://10.0.0.2:8443/")  # a plain public URL is no HTTPS address to send anyone to


def test_a_strange_host_without_a_public_url_is_refused():
    status, _ = answer(redirect_app(8443), "evil.example\r\nSet-Cookie: x=1")
    assert status.startswith("400")
