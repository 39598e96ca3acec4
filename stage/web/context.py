"""Access to the night from a request (set by ``stage.web.init_app``)."""

from flask import current_app

from stage.night import Night


def night() -> Night:
    return current_app.extensions["stage.night"]


def join_url() -> str:
    return current_app.extensions["stage.join_url"]
