"""The report's figures and charts over a whole evening (issue 18): a night of two hours written into a real store
the way the server writes it (participants, records, the audit log), with a rehearsal that afternoon."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stage.archive import charts, report
from stage.records import night_facts as report_facts
from stage.records import credits
from stage.records.sqlite_store import SqliteStore
from tests.chromium import ARTIFACTS

TONIGHT = datetime.now().replace(hour=20, minute=0, second=0, microsecond=0) - timedelta(days=1)


def at(hours: int, minutes: float) -> float:
    """Epoch seconds of hh:mm on the test's evening, local time (what the report's clock shows)."""
    return (TONIGHT.replace(hour=hours, minute=0) + timedelta(minutes=minutes)).timestamp()


class Evening:
    def __init__(self, path: Path) -> None:
        self.store = SqliteStore(path)

    def sql(self, statement: str, *params: object) -> None:
        with self.store.transaction() as db:
            db.execute(statement, params)

    def audit(self, when: float, actor: str, action: str, subject: str | None, **detail: object) -> None:
        self.sql("INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)", when, actor, action,
                 subject, json.dumps(detail) if detail else None)

    def phone(self, name: str, when: float, simulated: bool = False) -> str:
        pid = uuid.uuid4().hex
        self.sql("INSERT INTO participants (id, device_key_hash, name, simulated, created_at, last_seen)"
                 " VALUES (?, ?, ?, ?, ?, ?)", pid, uuid.uuid4().hex, name, int(simulated), when, when)
        return pid

    def send(self, pid: str, name: str, kind: str, when: float, status: str = "approved", wait: float = 30) -> str:
        rid = str(uuid.uuid4())
        self.sql("INSERT INTO records (id, kind, status, participant_id, author_name, text, created_at, updated_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rid, kind, status, pid, name,
                 f"A {kind} at {when}" if kind == "story" else None, when, when)
        self.audit(when, f"participant:{pid}", "submit", rid, kind=kind, prompt="cape")
        self.audit(when + wait, "moderator", "approve" if status == "approved" else "reject", rid)
        return rid


@pytest.fixture
def evening(tmp_path):
    night = Evening(tmp_path / "stage.db")
    night.audit(at(16, 30), "host", "go", "1")  # the afternoon's rehearsal: not part of the night
    for n in range(20):
        night.phone(f"sim{n}", at(16, 31), simulated=True)
    night.audit(at(17, 0), "host", "rehearsal_cleanup", None, records=0)
    night.audit(at(19, 55), "host", "go", "1")
    phones = [(night.phone(f"Guest {n}", at(20, n * 0.4)), f"Guest {n}") for n in range(60)]
    night.audit(at(20, 5), "host", "go", "2")
    kinds = ("story", "story", "drawing", "photo")
    sent = []
    for n in range(90):  # a steady trickle from 20:05, and a rush at 20:45 when the host asks again
        minute = 5 + n if n < 40 else 45 + (n - 40) / 10
        pid, name = phones[n % len(phones)]
        status = "rejected" if n % 9 == 0 else "approved"
        sent.append(night.send(pid, name, kinds[n % 4], at(20, minute), status, wait=5 + (n * 13) % 200))
    night.audit(at(20, 44), "host", "go", "3")
    night.audit(at(21, 40), "host", "go", "4")
    for n, (pid, _) in enumerate(phones[:30]):
        night.sql("INSERT INTO recommendations (record_id, participant_id, created_at) VALUES (?, ?, ?)",
                  sent[1 + n % 3], pid, at(21, 0))
    yield night
    night.store.close()


def _ticks(svg: bytes, axis: str) -> list[str]:
    tree = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return [t.text.strip() for g in tree.iter(f"{ns}g") if re.fullmatch(f"{axis}tick_\\d+", g.get("id", ""))
            for t in g.iter(f"{ns}text") if t.text and t.text.strip()]


def test_the_night_starts_after_the_rehearsal_and_counts_only_real_phones(evening):
    facts = report_facts.gather(evening.store)
    assert facts.start == at(19, 55) and facts.end == at(21, 40)
    assert len(facts.joins) == 60 and len(facts.contributions) == 90
    assert facts.approved == 80 and facts.recommendations == 30
    assert facts.bucket_minutes == 5, "105 minutes in bars of 5: 21 bars, not 105 thin ones"
    assert report_facts.peak(facts.contributions, 5) == (at(20, 45), 50)
    assert all(wait >= 0 for wait in facts.waits) and len(facts.waits) == 90
    peaks = [m.text for m in facts.moments if m.kind == "peak"]
    assert peaks == ["The busiest 5 minutes, to 20:50: 50 contributions"]
    assert [p.recommendations for p in facts.top] == [10, 10, 10]


def test_charts_count_in_whole_numbers_from_zero_on_the_clock(evening):
    facts = report_facts.gather(evening.store)
    night = charts.night(facts.contributions, facts.joins, facts.start, facts.end, facts.bucket_minutes)
    for svg in (night, charts.waits(facts.waits)):
        counts = _ticks(svg, "y")
        assert counts[0] == "0" and all(re.fullmatch(r"\d+", c) for c in counts), counts
    clock = _ticks(night, "x")
    assert all(re.fullmatch(r"\d\d:\d\d", c) for c in clock) and clock == sorted(clock), clock
    assert "19:55" <= clock[0] <= "20:15" and clock[-1] >= "21:30", "the ticks span the night, 19:55 to 21:40"
    assert len(clock) <= charts.MAX_TICKS + 1
    assert all(re.fullmatch(r"\d+", c) for c in _ticks(charts.waits(facts.waits), "x"))


def test_an_empty_night_still_makes_a_page_with_sensible_axes(tmp_path):
    store = SqliteStore(tmp_path / "stage.db")
    try:
        page = report.build(store, None, "Empty", credits.roll(store))
    finally:
        store.close()
    assert "<h1>Empty</h1>" in page and "Nothing happened on this night yet" in page
    [chart] = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert _ticks(base64.b64decode(chart), "y")[:2] == ["0", "1"], "0..1, never -0.04..0.04"


def test_the_evenings_report_for_a_look(evening):
    """Written to test-artifacts/report-evening.html for a person to open (the Chromium test looks at a real night)."""
    page = report.build(evening.store, None, "An evening", credits.roll(evening.store), made_at=time.time())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-evening.html").write_text(page, encoding="utf-8")
    assert "The busiest 5 minutes, to 20:50" in page and "Cue 4" in page and "<dd>60</dd>" in page


def test_lineage_png_leaves_out_what_its_font_cannot_draw_instead_of_a_box():
    assert charts.drawable("Zoë 🔥🌈") == "Zoë"
    assert charts.drawable("ليلى") == "ليلى"  # DejaVu draws Arabic
    assert charts.drawable("🔥") == "…", "a name of emoji only still leaves a mark"
    graph = {"nodes": [{"id": "a", "kind": "story", "author": "Zoë 🔥"}], "edges": []}
    assert charts.lineage_picture(graph).startswith(b"\x89PNG")
