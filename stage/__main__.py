"""Entry point. Monkey-patches for the chosen async mode before anything else is imported."""

import os
import signal
import sys
import warnings

if "serve" in sys.argv[1:]:
    # A Ctrl-C before Stage has loaded (imports take about 0.6 s) is a quiet exit, not a traceback;
    # stage/shutdown.py takes over once serve runs.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))


def _async_mode(argv: list[str]) -> str | None:
    if "serve" not in argv:
        return None
    for index, arg in enumerate(argv):
        if arg == "--async-mode" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--async-mode="):
            return arg.split("=", 1)[1]
    return os.environ.get("STAGE_ASYNC_MODE", "gevent")


_MODE = _async_mode(sys.argv[1:])
_DEFERRED: list[str] = []
if _MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif _MODE == "eventlet":
    # eventlet warns that it is deprecated on import: keep that out of the operator's face (and out
    # of a warnings-as-errors run) but put it in the log once logging is set up.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import eventlet

        eventlet.monkey_patch()
    # psycopg detects gevent's patching, not eventlet's: unless told, it would wait on its socket in C
    # and stop the hub for every query. Its wait_select calls select.select, which eventlet has patched.
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    _DEFERRED = [f"{w.category.__name__}: {w.message}" for w in caught]

from stage.cli import main  # noqa: E402  (must follow monkey-patching)



def run() -> None:
    """The ``stage`` command of an installed package (pyproject.toml's console script)."""
    main(deferred_warnings=_DEFERRED)


if __name__ == "__main__":
    run()
