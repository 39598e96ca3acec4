"""Hatchling hooks: the package's dependencies from the pinned requirement files, and the pages and the
socket.io browser client inside the wheel.

One list of pins: ``requirements.txt`` (what the show needs) and ``requirements-dev.txt`` (the test
tools, the ``test`` extra) stay the files pip and the Makefile read; the package's metadata is built from
them, so the two can never disagree.

The wheel carries ``audience_web/`` as ``stage/audience_web`` and the browser client as
``stage/vendor/socket.io.min.js`` (stage/resources.py finds them there). The client comes from npm at the
version package-lock.json pins (never committed): ``npm ci --omit=dev`` runs when node_modules lacks it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

CLIENT = Path("node_modules") / "socket.io-client" / "dist" / "socket.io.min.js"


def requirements(path: Path) -> list[str]:
    """The pins of one requirement file, without comments and without ``-r`` includes."""
    pins = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pins.append(line)
    return pins


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        root = Path(self.root)
        metadata["dependencies"] = requirements(root / "requirements.txt")
        metadata["optional-dependencies"] = {"test": requirements(root / "requirements-dev.txt")}


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        client = root / CLIENT
        if not client.is_file():
            if shutil.which("npm") is None:
                raise RuntimeError("building Stage's wheel needs npm (the socket.io browser client): apt install npm")
            self.app.display_info("npm ci: the socket.io browser client at its pinned version")
            subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=root, check=True)
        build_data["force_include"][str(root / "audience_web")] = "stage/audience_web"
        build_data["force_include"][str(client)] = "stage/vendor/socket.io.min.js"
