"""Child processes that end with the process that started them (workers, an export for the host console)."""

from __future__ import annotations

import signal


def end_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when its parent dies, however it died (a kill -9 left
    workers serving a night nobody supervised any more, holding their ports; an export kept writing after its
    server stopped)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the child outlives a killed parent; stop it by hand
        pass
