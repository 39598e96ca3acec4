"""House rules of ARCHITECTURE.md section 4 that a reader can check in the source itself (issue 15)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STAGE = Path(__file__).resolve().parents[2] / "stage"
STORE_HOMES = ("records", "show")  # the only packages that may talk SQL or write the audit log
STORE_CALLS = {"execute", "executemany", "executescript", "audit"}
# SQL text, however it reaches the store (``store.query("SELECT ...")`` too): a statement's keyword, in capitals.
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|DROP|ALTER|VACUUM|WITH)\b")


def _store_calls(path: Path, root: Path = STAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(root)}:{node.lineno}: .{node.func.attr}(...)"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STORE_CALLS]


def _sql_texts(path: Path, root: Path = STAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        head = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and SQL.match(head.value):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {head.value.strip()[:50]!r}")
    return sorted(set(found))


def _outside_store_homes() -> list[Path]:
    return [path for path in sorted(STAGE.rglob("*.py"))
            if path.relative_to(STAGE).parts[0] not in STORE_HOMES]


def test_no_sql_and_no_audit_writes_outside_records_and_show():
    found = [line for path in _outside_store_homes() for line in _store_calls(path) + _sql_texts(path)]
    assert found == [], "SQL or audit writes outside stage/records/ and stage/show/:\n" + "\n".join(found)


def test_the_rule_sees_a_store_call(tmp_path):
    """The check itself can fail: a module that executes SQL is reported with its line."""
    module = tmp_path / "probe.py"
    module.write_text("def f(db, store, t):\n    db.execute('PRAGMA x')\n    Store.audit(db, 'a', 'b')\n"
                      "    store.query(f'SELECT * FROM {t}')\n    log.info('Update the show')\n", encoding="utf-8")
    assert sorted(_store_calls(module, tmp_path)) == ["probe.py:2: .execute(...)", "probe.py:3: .audit(...)"]
    assert _sql_texts(module, tmp_path) == ["probe.py:2: 'PRAGMA x'", "probe.py:4: 'SELECT * FROM'"]


SERVER_PACKAGES = ("stage.realtime", "stage.web", "stage.server")  # what the capture agent never imports


def _imports(path: Path, root: Path = STAGE.parent) -> list[str]:
    """Every module ``path`` imports, at any depth (imports inside functions count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{path.relative_to(root)}:{node.lineno}: {alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.module}")
    return found


def _server_imports(path: Path, root: Path = STAGE.parent) -> list[str]:
    return [line for line in _imports(path, root)
            if any(line.split(": ", 1)[1] == p or line.split(": ", 1)[1].startswith(p + ".") for p in SERVER_PACKAGES)]


def test_the_capture_agent_imports_nothing_of_the_server():
    """ARCHITECTURE.md section 4: `stage capture` is a separate process; its Socket.IO client is its own."""
    found = [line for path in sorted((STAGE / "capture").rglob("*.py")) for line in _server_imports(path)]
    assert found == [], "stage/capture/ imports the server:\n" + "\n".join(found)


def test_the_import_rule_sees_a_server_import(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("import stage.web.auth\nfrom stage.realtime.capture import X\nfrom stage.records import y\n"
                      "def f():\n    from stage.server import create_app\n    import stage.webcam\n", encoding="utf-8")
    assert _server_imports(module, tmp_path) == ["probe.py:1: stage.web.auth", "probe.py:2: stage.realtime.capture",
                                                 "probe.py:5: stage.server"]


NIGHT_SIDE = ("stage.night", "stage.records", "stage.display", "stage.show.engine", "stage.lighting")


def _reads_back(path: Path, root: Path = STAGE.parent) -> list[str]:
    """What in a listener module could read the night: domain imports (record models aside) and any
    ``night``/``store`` attribute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [line for line in _imports(path, root) if line.split(": ", 1)[1] != "stage.records.models"
             and any(line.split(": ", 1)[1] == p or line.split(": ", 1)[1].startswith(p + ".") for p in NIGHT_SIDE)]
    found += [f"{path.relative_to(root)}:{node.lineno}: .{node.attr}" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and node.attr.lstrip("_") in ("night", "store")]
    return found


def test_the_listener_holds_no_night_and_reads_nothing_back():
    """Issue 15: reports go up with their data (stage/night/reports.py); the broadcaster only emits."""
    found = _reads_back(STAGE / "realtime" / "broadcast.py")
    assert found == [], "the broadcaster reads back into the night:\n" + "\n".join(found)


def test_the_read_back_rule_sees_a_read_back(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("from stage.records import curation\nfrom stage.records.models import Record\n"
                      "def f(self):\n    return self._night.store\n", encoding="utf-8")
    assert _reads_back(module, tmp_path) == ["probe.py:1: stage.records", "probe.py:4: .store", "probe.py:4: ._night"]
