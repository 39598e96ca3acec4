"""Test certificates: a throwaway CA (trustme) and a server certificate from it for 127.0.0.1 and localhost,
written as PEM files that ``stage serve --tls-cert/--tls-key`` and the test clients read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TestCerts:
    ca: Path  # what a client trusts (requests' verify=, python-socketio's ssl_verify=)
    cert: Path  # the server's chain
    key: Path  # the server's key
    __test__ = False  # not a pytest test class, despite the name


def make_certs(directory: Path) -> TestCerts:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    directory.mkdir(parents=True, exist_ok=True)
    paths = TestCerts(ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server.key")
    ca.cert_pem.write_to_path(str(paths.ca))
    server.private_key_pem.write_to_path(str(paths.key))
    server.cert_chain_pems[0].write_to_path(str(paths.cert))
    for blob in server.cert_chain_pems[1:]:
        with open(paths.cert, "ab") as f:
            f.write(blob.bytes())
    return paths
