"""House rules of ARCHITECTURE.md section 4 that a reader can check in the source itself (issue 15)."""

from __future__ import annotations

import ast
from pathlib import Path

STAGE = Path(__file__).resolve().parents[2] / "stage"
STORE_HOMES = ("records", "show")  # the only packages that may talk SQL or write the audit log
STORE_CALLS = {"execute", "executemany", "executescript", "audit"}
# Being split on another branch at the same time (issue 15, part 1): its osc_sent audit and its
# _drop_unused SQL move with that split. Remove this entry when it lands.
NOT_YET = {"night.py"}


def _store_calls(path: Path, root: Path = STAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(root)}:{node.lineno}: .{node.func.attr}(...)"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STORE_CALLS]


def test_no_sql_and_no_audit_writes_outside_records_and_show():
    found = []
    for path in sorted(STAGE.rglob("*.py")):
        inside = path.relative_to(STAGE).parts
        if inside[0] in STORE_HOMES or str(path.relative_to(STAGE)) in NOT_YET:
            continue
        found += _store_calls(path)
    assert found == [], "SQL or audit writes outside stage/records/ and stage/show/:\n" + "\n".join(found)


def test_the_rule_sees_a_store_call(tmp_path):
    """The check itself can fail: a module that executes SQL is reported with its line."""
    module = tmp_path / "probe.py"
    module.write_text("def f(db):\n    db.execute('SELECT 1')\n    Store.audit(db, 'a', 'b')\n", encoding="utf-8")
    assert sorted(_store_calls(module, tmp_path)) == ["probe.py:2: .execute(...)", "probe.py:3: .audit(...)"]
