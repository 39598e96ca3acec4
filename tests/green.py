"""Running a piece of Stage the server's way: the stdlib monkey-patched by gevent or eventlet, in a Python process
of its own (monkey-patching cannot be undone inside pytest). Used by tests/lighting/test_green.py (OSC) and
tests/dmx/test_green.py (DMX out)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# What a script starts with: ``mode`` is argv[1], the stdlib is patched before anything else is imported.
PATCHED = r'''
import sys
mode = sys.argv[1]
if mode == "gevent":
    from gevent import monkey
    monkey.patch_all()
else:
    import warnings
    warnings.simplefilter("ignore")
    import eventlet
    eventlet.monkey_patch()
'''


def run_patched(script: str, mode: str, tmp_path: Path) -> Any:
    """Run ``PATCHED + script`` under ``mode``; the JSON its last line of output prints."""
    path = tmp_path / f"green_{mode}.py"
    path.write_text(PATCHED + script)
    done = subprocess.run([sys.executable, str(path), mode], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
