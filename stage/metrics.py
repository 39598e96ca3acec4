"""Prometheus metrics for venue IT: one registry per app, read at scrape time where the night holds the value.

Most of what a crew watches is state the night already keeps (the phones connected, the moderation queue,
rigs and OSC targets, the records and the audit log in the store), so :class:`NightCollector` reads it when
Prometheus scrapes, from the same ``night.health()`` that ``/healthz`` answers: no hooks to keep in step.
What is not kept anywhere (how long each Socket.IO event took to ack, what each submission was answered)
is counted in :class:`Metrics` at the one place it happens: the uniform ack in ``stage/realtime/base.py``,
and the upload answer (``stage/web/metrics.py``).

The registry is the app's, never prometheus_client's global one: tests build many apps in one process,
and each ``stage serve --workers`` process answers for itself. docs/metrics.md lists every metric.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from stage.errors import StoreError
from stage.records import live_counts

if TYPE_CHECKING:
    from stage.night import Night

log = logging.getLogger(__name__)

EXTENSION = "stage.metrics"  # the app's Metrics, in app.extensions
# Acks are a few ms when the night is well; a fsync on a slow card or a busy database shows in the tens and
# hundreds; past a second a phone's spinner is what the audience sees.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The Socket.IO events that carry a submission, and the kind of record each makes (media come over HTTP).
SUBMIT_EVENTS = {"submit_story": "story", "submit_comment": "comment", "remix_submit": "remix"}
UPLOAD_KINDS = frozenset({"drawing", "photo", "clip"})
ACCEPTED = "accepted"
# Audit actions that fire a top-level cue: a GO (console, remote or OSC in) and the engine's continues.
CUE_FIRES = ("go", "auto_continue", "auto_follow")
RIG_STATES = ("offline", "online", "recording")
OSC_STATES = ("unknown", "ok", "down")


class Metrics:
    """The app's registry and the instruments counted where things happen."""

    def __init__(self, night: "Night") -> None:
        self.registry = CollectorRegistry()
        self.acks = Histogram("stage_socketio_ack_seconds", "Time from a Socket.IO event's arrival to its ack",
                              ("namespace", "event"), buckets=ACK_BUCKETS, registry=self.registry)
        self.outcomes = Counter("stage_socketio_acks", "Socket.IO acks by outcome (ok or the error code)",
                                ("namespace", "event", "outcome"), registry=self.registry)
        self.submissions = Counter("stage_submissions", "Submissions received, by kind and what they were answered",
                                   ("kind", "outcome"), registry=self.registry)
        self.registry.register(NightCollector(night))

    def ack(self, namespace: str, event: str, seconds: float, ack: Mapping[str, Any]) -> None:
        """One handled event (``event`` is a handler's name, so the label set is bounded by the code)."""
        outcome = "ok" if ack.get("ok") else _error_code(ack)
        self.acks.labels(namespace, event).observe(seconds)
        self.outcomes.labels(namespace, event, outcome).inc()
        kind = SUBMIT_EVENTS.get(event)
        if kind is not None:
            self.submission(kind, ACCEPTED if outcome == "ok" else outcome)

    def submission(self, kind: str, outcome: str) -> None:
        self.submissions.labels(kind, outcome).inc()


def observe_ack(extensions: Mapping[str, Any], namespace: str, event: str, seconds: float,
                ack: Mapping[str, Any]) -> None:
    """Count an ack in the app's metrics; an app built without them (a bare test app) counts nothing."""
    metrics = extensions.get(EXTENSION)
    if metrics is not None:
        metrics.ack(namespace, event, seconds, ack)


def _error_code(ack: Mapping[str, Any]) -> str:
    error = ack.get("error")
    code = error.get("code") if isinstance(error, Mapping) else None
    # Codes come from the code base (StageError subclasses and their call sites): a bounded set. Anything
    # else (never expected) is folded so a label can never grow without bound.
    return code if isinstance(code, str) and len(code) <= 40 and code.replace("_", "").isalnum() else "other"


class NightCollector:
    """The night's state, read when Prometheus scrapes (``night.health()``, plus a few small store reads)."""

    def __init__(self, night: "Night") -> None:
        self._night = night
        # Cue fires are counted from the audit log, which only grows: each scrape reads the entries after
        # the last one it read (a primary-key range), not the whole log again.
        self._audit_seq = 0
        self._fires = dict.fromkeys(CUE_FIRES, 0)

    def collect(self) -> Iterator[Metric]:
        night = self._night
        try:
            health = night.health()
            records = live_counts.records_by_kind_and_status(night.store)
            fires = self._cue_fires()
        except StoreError as exc:
            log.warning("metrics: the store did not answer: %s", exc.message)
            yield _gauge("stage_store_up", "1 when the store answered this scrape", 0)
            return
        yield _gauge("stage_store_up", "1 when the store answered this scrape", 1)
        yield _gauge("stage_conductor", "1 where this process runs the show", 1 if night.conducting() else 0)
        yield _gauge("stage_phones_connected", "Phones joined and connected (the night's headcount)", health["phones"])
        yield _gauge("stage_moderation_queue", "Records waiting for a moderator", health["pending"])
        yield _labelled(GaugeMetricFamily("stage_displays_connected", "Pages connected per display",
                                          labels=["display"]), health["displays"].items())
        rigs = health["rigs"]
        yield _gauge("stage_rigs_online", "Capture rigs with an agent online (recording or not)",
                     sum(1 for status in rigs.values() if status != "offline"))
        yield _states("stage_rig_status", "Each rig's status (1 on the current one)", "rig", rigs, RIG_STATES)
        if "message_queue" in health:
            yield _gauge("stage_message_queue_up", "1 while the Redis message queue is up",
                         1 if health["message_queue"] == "up" else 0)
        osc = night.osc.status()
        yield _states("stage_osc_target_status", "Each OSC target's status (1 on the current one)", "target",
                      {name: state["status"] for name, state in osc.items()}, OSC_STATES)
        yield _labelled(CounterMetricFamily("stage_osc_messages_sent", "OSC messages sent, per target",
                                            labels=["target"]), ((n, s["sent"]) for n, s in osc.items()))
        yield _labelled(CounterMetricFamily("stage_osc_messages_dropped", "OSC messages dropped (queue full or "
                                            "not sent in time), per target", labels=["target"]),
                        ((n, s["dropped"]) for n, s in osc.items()))
        yield _labelled(GaugeMetricFamily("stage_osc_queued", "OSC messages waiting to be sent, per target",
                                          labels=["target"]), ((n, s["queued"]) for n, s in osc.items()))
        yield _labelled(CounterMetricFamily("stage_cues_fired", "Cues fired: GO, and the engine's continues",
                                            labels=["trigger"]), fires.items())
        family = GaugeMetricFamily("stage_records", "The night's records in the store, by kind and status",
                                   labels=["kind", "status"])
        for (kind, status), count in records.items():
            family.add_metric([kind, status], count)
        yield family

    def _cue_fires(self) -> dict[str, int]:
        store = self._night.store
        last = live_counts.last_audit_seq(store)
        if last < self._audit_seq:  # a fresh store under the same app (never at a show): count again
            self._audit_seq, self._fires = 0, dict.fromkeys(CUE_FIRES, 0)
        if last > self._audit_seq:
            for action, count in live_counts.actions_between(store, self._audit_seq, last, CUE_FIRES).items():
                self._fires[action] += count
            self._audit_seq = last
        return dict(self._fires)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(family: Metric, values: Any) -> Metric:
    for label, value in values:
        family.add_metric([label], value)  # type: ignore[attr-defined]
    return family


def _states(name: str, documentation: str, label: str, current: Mapping[str, str],
            states: tuple[str, ...]) -> GaugeMetricFamily:
    """A state set: one series per state, 1 on the current one (alert on ``status="down"`` == 1)."""
    family = GaugeMetricFamily(name, documentation, labels=[label, "status"])
    for item, status in current.items():
        for state in states:
            family.add_metric([item, state], 1 if status == state else 0)
    return family

