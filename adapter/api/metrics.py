"""Prometheus metrics, one registry per app so that several apps (and tests) never share counters.

Labels are bounded: route *templates* (never raw paths), status codes and a fixed set of
submission outcomes. Nothing about a patient is ever a label.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from adapter.service import Answer

__all__ = ["SUBMISSION_OUTCOMES", "Metrics", "submission_outcome"]

#: complete/partial/error/queued: the ClaimResponse outcome; refused: 400/403/422;
#: conflict: 409; replayed: an idempotent resubmission; failed: a 5xx.
SUBMISSION_OUTCOMES = (
    "complete",
    "partial",
    "error",
    "queued",
    "refused",
    "conflict",
    "replayed",
    "failed",
)
_CLAIM_OUTCOMES = frozenset({"complete", "partial", "error", "queued"})
_ADJUDICATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The adapter's HTTP and adjudication metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "adapter_http_requests",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "adapter_http_request_seconds",
            "HTTP request latency by route template",
            ["route"],
            registry=self.registry,
        )
        self.submissions = Counter(
            "adapter_claim_submissions",
            "Claim/$submit calls by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.adjudication_seconds = Histogram(
            "adapter_adjudication_seconds",
            "Time the service took to answer a Claim/$submit (checks, payers, storage)",
            buckets=_ADJUDICATION_BUCKETS,
            registry=self.registry,
        )
        for outcome in SUBMISSION_OUTCOMES:
            self.submissions.labels(outcome)  # exported at 0 from the start: rates need a baseline
        self.deliveries = Counter(
            "adapter_deliveries",
            "Sends of events to a destination's target (a mutuelle route, the event exchange) by "
            "result: delivered, retry (failed, to be sent again), dead (gone to the dead letters)",
            ["destination", "target", "result"],
            registry=self.registry,
        )

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def observe_submission(self, outcome: str) -> None:
        self.submissions.labels(outcome if outcome in SUBMISSION_OUTCOMES else "failed").inc()

    def observe_delivery(self, destination: str, target: str, result: str) -> None:
        """One send by the dispatcher (``adapter.service.dispatch``) in this process."""
        self.deliveries.labels(destination, target, result).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def submission_outcome(answer: Answer) -> str:
    """``replayed`` for a stored answer sent again, else the claim's stored outcome (the worst of
    its AMO and AMC outcomes, as the store keeps it)."""
    if answer.replayed:
        return "replayed"
    return answer.outcome if answer.outcome in _CLAIM_OUTCOMES else "error"
