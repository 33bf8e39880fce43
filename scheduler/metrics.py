"""Prometheus metrics of one `herald run` process, in its own registry.

Counters and the latency histogram count what this process did since it started;
`herald_deliveries` is the shared outbox (every replica reports the same numbers),
read by one GROUP BY at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.models import Delivery

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class OutboxCollector(Collector):
    """`herald_deliveries{channel,state}`: rows in the outbox, counted when scraped."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("herald_deliveries", "Deliveries in the outbox by state",
                                   labels=["channel", "state"])
        try:
            with self.sessions() as s:
                rows = s.execute(select(Delivery.channel, Delivery.state, func.count())
                                 .group_by(Delivery.channel, Delivery.state)).all()
        except Exception as exc:  # a scrape must still answer; /healthz names the DB
            log.warning("metrics: outbox query failed: %s", type(exc).__name__)
            return
        for channel, state, n in rows:
            family.add_metric([channel, state], n)
        yield family


class Metrics:
    """The daemon's instruments; `registry` is what /metrics serves."""

    def __init__(self, sessions: sessionmaker[Session] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.send_seconds = Histogram("herald_send_seconds", "Time spent in channel.send",
                                      ["channel"], buckets=LATENCY_BUCKETS, registry=r)
        self.outcomes = Counter("herald_outcomes", "Send outcomes by resulting state",
                                ["channel", "state"], registry=r)
        self.retries = Counter("herald_retries", "Sends that will be retried later",
                               ["channel"], registry=r)
        self.recovered_unknown = Counter(
            "herald_recovered_unknown", "Deliveries found interrupted mid-send (now unknown)",
            registry=r)
        self.last_success = Gauge("herald_job_last_success_timestamp_seconds",
                                  "Unix time of each daemon job's last successful tick",
                                  ["job"], registry=r)
        self.plan_skipped_courses = Gauge(
            "herald_plan_skipped_courses", "(campaign, course) pairs the last planning pass "
            "skipped because they cannot be planned (see the log and `herald status`)",
            registry=r)
        self.job_failures = Counter("herald_job_failures", "Daemon job ticks that raised",
                                    ["job"], registry=r)
        if sessions is not None:
            r.register(OutboxCollector(sessions))

    def observe_send(self, channel: str, state: str, seconds: float) -> None:
        """The dispatcher's `on_outcome` observer."""
        self.send_seconds.labels(channel).observe(seconds)
        self.outcomes.labels(channel, state).inc()
        if state == "retrying":
            self.retries.labels(channel).inc()
