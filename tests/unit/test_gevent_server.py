"""The gevent server's error line: one line, and no secret from the query string."""

from __future__ import annotations

import logging

from stage.web.gevent_server import StageWebSocketHandler


def test_a_failed_request_is_logged_without_its_query_string(caplog):
    handler = StageWebSocketHandler.__new__(StageWebSocketHandler)  # no socket: only what handle_error reads
    handler.command, handler.path, handler.client_address = "GET", "/display/main?key=0123abcd", ("10.0.0.7", 5000)
    answered = []
    handler._send_error_response_if_possible = answered.append
    caplog.set_level(logging.ERROR, logger="stage.web.gevent_server")
    handler.handle_error(ValueError, ValueError("boom"), None)
    assert [r.getMessage() for r in caplog.records] == [
        "request GET /display/main from 10.0.0.7 failed: ValueError: boom"]
    assert answered == [500], "the client still gets its 500"
