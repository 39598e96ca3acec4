"""Each phone's own address behind the proxy, and only behind it (stage/web/proxied.py)."""

from __future__ import annotations

from stage.web.proxied import TrustedProxy


def seen(environ: dict) -> str:
    got = {}

    def app(env, start_response):
        got["addr"] = env["REMOTE_ADDR"]
        return [b""]

    TrustedProxy(app, ["127.0.0.1"])(environ, lambda *a: None)
    return got["addr"]


def test_the_proxys_request_carries_the_address_the_proxy_saw():
    assert seen({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.168.1.23"}) == "192.168.1.23"


def test_a_phone_cannot_pose_as_another_address_through_the_proxy():
    # HAProxy appends what it saw; what the phone sent itself comes first and is ignored.
    assert seen({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1, 192.168.1.23"}) == "192.168.1.23"


def test_a_direct_request_keeps_its_own_address_whatever_it_claims():
    assert seen({"REMOTE_ADDR": "192.168.1.50", "HTTP_X_FORWARDED_FOR": "10.9.9.9"}) == "192.168.1.50"


def test_the_proxys_own_request_without_the_header_stays_the_proxy():
    assert seen({"REMOTE_ADDR": "127.0.0.1"}) == "127.0.0.1"
    assert seen({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": " "}) == "127.0.0.1"


def test_the_proxy_may_be_named_in_any_spelling():
    def app(env, start_response):
        return [env["REMOTE_ADDR"].encode()]

    for trusted in ("localhost", "::ffff:127.0.0.1", "127.0.0.1"):
        proxied = TrustedProxy(app, [trusted])
        assert proxied({"REMOTE_ADDR": "::ffff:127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.1.2.3"}, None) == [b"10.1.2.3"]


def test_a_proxy_name_that_does_not_resolve_is_refused_at_start():
    import pytest

    with pytest.raises(ValueError, match="trusted-proxy"):
        TrustedProxy(lambda env, start: [b""], ["no-such-proxy.invalid"])
