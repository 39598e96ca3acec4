import csv
import io

from stage.records import audit_log
from stage.records.store import Store


def test_csv_defuses_spreadsheet_formulas_and_filters_by_action(store):
    with store.transaction() as db:
        Store.audit(db, "=cmd|' /C calc'!A0", "go", "+1", note="x")
        Store.audit(db, "host:1", "approve", "@SUM(A1)")
    rows = list(csv.reader(io.StringIO(audit_log.to_csv(store))))
    assert rows[0] == list(audit_log.COLUMNS)
    assert rows[1][2] == "'=cmd|' /C calc'!A0" and rows[1][4] == "'+1" and rows[2][4] == "'@SUM(A1)"
    assert [r[3] for r in csv.reader(io.StringIO(audit_log.to_csv(store, "approve")))][1:] == ["approve"]
    assert [e["action"] for e in audit_log.entries(store)] == ["approve", "go"]
    assert audit_log.entries(store, "go")[0]["detail"] == {"note": "x"}
