"""``report.html``: the post-show report, one self-contained page (charts as data URIs, works offline).

Every piece of audience text goes through ``html.escape``; the page carries a CSP that allows no script.
"""

from __future__ import annotations

import base64
import html
import json
import time
from typing import Any

from stage.archive import charts
from stage.records import night_stats
from stage.records.lineage import Lineage, Queryable


def build(store: Queryable, lineage: Lineage, title: str, credits: list[dict[str, Any]]) -> str:
    shown = [n for n in lineage.nodes.values() if lineage.visible(n.id)]
    joined = night_stats.phones_joined(store)
    start = min(joined + [n.created_at for n in shown], default=time.time())
    all_records = night_stats.audience_submissions(store)
    decided = night_stats.decision_delays(store)
    recommended = [(f"{n.kind} by {n.author}: {n.text or ''}".strip(": "), count) for n, count in _top(store, lineage)]
    remixes = {n.id for n in shown if n.kind == "remix"}
    tree = lineage.upstream(list(remixes))
    figures = [
        ("Phones over time", charts.phones_over_time(joined, start)),
        ("Submissions per minute by kind", charts.submissions_per_minute(all_records, start)),
        ("Moderation times", charts.moderation_times([max(0.0, seconds) for seconds in decided])),
        ("Most recommended records", charts.most_recommended(recommended[:10])),
        ("Remix tree", charts.lineage_picture(tree, "Remix tree")),
    ]
    parts = [f"<h2>{html.escape(name)}</h2><img alt=\"{html.escape(name)}\" src=\"data:image/png;base64,"
             f"{base64.b64encode(png).decode()}\">" for name, png in figures]
    counts = {"phones": len(joined), "records shown": len(shown), "remixes": len(remixes),
              "decisions": len(decided)}
    rows = "".join(f"<tr><td>{html.escape(p['name'])}</td><td>{html.escape(', '.join(p['roles']))}</td>"
                   f"<td>{p['records']}</td></tr>" for p in credits)
    facts = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in counts.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{html.escape(title)} — post-show report</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}img{{max-width:100%}}
table{{border-collapse:collapse}}td{{border-bottom:1px solid #ddd;padding:.2rem .6rem}}</style></head>
<body><h1>{html.escape(title)}</h1><p>Post-show report, made {time.strftime('%Y-%m-%d %H:%M', time.localtime())}</p>
<ul>{facts}</ul>{''.join(parts)}
<h2>Credits</h2><table><tr><th>name</th><th>roles</th><th>records</th></tr>{rows}</table>
<script type="application/json" id="figures">{html.escape(json.dumps([name for name, _ in figures]))}</script>
</body></html>
"""


def _top(store: Queryable, lineage: Lineage) -> list[tuple[Any, int]]:
    return [(lineage.nodes[record_id], n) for record_id, n in night_stats.recommendation_counts(store)
            if lineage.visible(record_id)]
