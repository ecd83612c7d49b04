"""Deterministic demo telemetry: OTLP/JSON traces, revenue and feature-flag history.

The traces follow the feature middleware of the method this project implements: an HTTP
SERVER span wraps one ``feature:<id>`` span that carries ``feature.id``,
``feature.category`` and ``tenant.id``; calls into other services carry only the trace
context; database work shows up as CLIENT spans and ``db.query`` events (on the client span,
on the feature's handler span beside the client span, or alone). The scenario has
several services in two regions, requests with no feature, a page that calls two features,
a flag-gated GPU feature whose flag goes off while its background job keeps tagging spans
(a "zombie path"), an LLM feature with ``gen_ai.*`` token attributes (one model's calls
written with the names OpenLLMetry uses, ``gen_ai.usage.prompt_tokens`` and the like), A/B
variants, a job that runs across midnight, a route sampled at 1 in 2, a batch consumer of the
checkouts' order events linked to their producer spans, and the odd trace whose gateway spans
were lost. Services run on several instances (``service.instance.id``; a second us-east-1
gateway only in the day's busy hours; the eu-west-1 checkout service's two pods named by
``k8s.pod.uid`` on one node, whose ``host.id`` both carry) and a nightly export runs for every
tenant at once, so one instance-hour holds more work than it has capacity for.

Same seed and options, same bytes.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feature_cost.billing import focus_rows, instances_by_service_hour, write_focus_csv
from feature_cost.clickhouse import write_parquet
from feature_cost.otlp import AttributeValue, Event, Link, Span, dumps_line, traces_data

NS_PER_MS = 1_000_000
# The W3C trace state a 50 % OpenTelemetry probability sampler writes (rejection threshold 0x8).
SAMPLED_TRACE_STATE = "ot=th:8"
NS_PER_DAY = 86_400 * 1_000_000_000

HTTP_SCOPE = "@opentelemetry/instrumentation-http"
FEATURE_SCOPE = "cost-attribution"
PG_SCOPE = "@opentelemetry/instrumentation-pg"
JOB_SCOPE = "feature-cost-demo.jobs"
GENAI_SCOPE = "opentelemetry.instrumentation.openai"
REDIS_SCOPE = "@opentelemetry/instrumentation-ioredis"
KAFKA_SCOPE = "@opentelemetry/instrumentation-kafkajs"
SCOPE_VERSIONS = {
    HTTP_SCOPE: "0.57.1",
    FEATURE_SCOPE: "1.0.0",
    PG_SCOPE: "0.51.0",
    JOB_SCOPE: "1.0.0",
    GENAI_SCOPE: "0.40.2",
    REDIS_SCOPE: "0.49.0",
    KAFKA_SCOPE: "0.9.0",
}


def _resource(service: str, region: str, host_type: str, **extra: AttributeValue):
    attrs: dict[str, AttributeValue] = {
        "service.name": service,
        "service.version": "2026.1.0",
        "deployment.environment.name": "prod",
        "cloud.provider": "aws",
        "cloud.region": region,
        "host.type": host_type,
        "telemetry.sdk.language": "nodejs",
    }
    attrs.update(extra)
    return attrs


# Resource key -> resource attributes. A service deployed in two regions has two resources.
RESOURCES: dict[str, dict[str, AttributeValue]] = {
    "web-gateway@us-east-1": _resource("web-gateway", "us-east-1", "m5.xlarge"),
    "web-gateway@eu-west-1": _resource("web-gateway", "eu-west-1", "m5.xlarge"),
    # Sizes given on the resource override the per-service defaults seed.
    "checkout-service@eu-west-1": _resource(
        "checkout-service",
        "eu-west-1",
        "c5.2xlarge",
        **{"cost.cpu.cores": 2, "cost.memory.gb": 4.0},
    ),
    "analytics-api@us-east-1": _resource("analytics-api", "us-east-1", "m5.2xlarge"),
    "analytics-worker@us-east-1": _resource("analytics-worker", "us-east-1", "m5.xlarge"),
    "inference-service@us-east-1": _resource("inference-service", "us-east-1", "g5.xlarge"),
    "llm-gateway@us-east-1": _resource("llm-gateway", "us-east-1", "m5.large"),
}

# Instances per resource key (one where not listed). A request's spans in one service run on
# one instance, picked by its trace id; the second us-east-1 gateway is scaled out for the
# busy hours only (08:00-20:00 UTC), so its day starts and ends with them.
INSTANCES = {
    "web-gateway@us-east-1": 2,
    "web-gateway@eu-west-1": 2,
    "checkout-service@eu-west-1": 2,
}
SCALED_OUT = "web-gateway@us-east-1"
SCALED_OUT_HOURS = range(8, 20)

# Resource keys whose instances are Kubernetes pods with no ``service.instance.id``: the
# Collector's k8sattributes processor names each pod, and its resource detection adds the
# node's ``host.id`` to both.
PODS_ON_ONE_NODE = {"checkout-service@eu-west-1": "i-0c5e0de1node"}


def _instance_resource(key: str, index: int) -> dict[str, AttributeValue]:
    """The resource attributes of instance ``index`` of resource ``key``."""
    attributes = RESOURCES[key]
    service = str(attributes["service.name"])
    instance = f"{service}-{attributes['cloud.region']!s}-{index}"
    if key not in PODS_ON_ONE_NODE:
        return {**attributes, "service.instance.id": instance}
    return {
        **attributes,
        "k8s.pod.uid": instance,
        "k8s.pod.name": f"{service}-7d9f8-{index}",
        "host.id": PODS_ON_ONE_NODE[key],
    }


# Instance key (``service@region/n``) -> resource attributes.
INSTANCE_RESOURCES: dict[str, dict[str, AttributeValue]] = {
    f"{key}/{index}": _instance_resource(key, index)
    for key in RESOURCES
    for index in range(INSTANCES.get(key, 1))
}

# tenant -> (home region of its gateway, traffic weight)
TENANTS: dict[str, tuple[str, int]] = {
    "tenant-acme": ("us-east-1", 5),
    "tenant-globex": ("eu-west-1", 3),
    "tenant-initech": ("us-east-1", 2),
    "tenant-umbrella": ("eu-west-1", 1),
    "tenant-hooli": ("us-east-1", 1),
}

FEATURE_GROUPS = {
    "checkout-v2": "commerce",
    "guest-checkout": "commerce",
    "advanced-reports": "analytics",
    "real-time-dashboard": "analytics",
    "smart-summary": "ai",
}

# Revenue per feature invocation, before noise (the demo's pricing).
REVENUE_PER_REQUEST = {
    "checkout-v2": 0.060,
    "guest-checkout": 0.025,
    "advanced-reports": 0.150,
    "real-time-dashboard": 0.012,
    "smart-summary": 0.045,
}

FLAG_KEY = "real-time-dashboard-enabled"
FLAGGED_FEATURE = "real-time-dashboard"
LLM_MODELS = ("gpt-4o-mini", "gpt-4.1")
# The calls to this model are recorded by OpenLLMetry, which writes the token counts under the
# names of the semantic conventions before 1.27 and its own.
OPENLLMETRY_MODEL = "gpt-4.1"
OPENLLMETRY_NAMES = {
    "gen_ai.usage.input_tokens": "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.output_tokens": "gen_ai.usage.completion_tokens",
    "gen_ai.usage.cache_read.input_tokens": "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.reasoning.output_tokens": "gen_ai.usage.reasoning_tokens",
}
HOURLY_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2]


@dataclass(frozen=True)
class GeneratorConfig:
    """What the demo and the benchmark generators share: the random seed, the days written,
    how many spans an OTLP/JSON line holds, and how often the background jobs run."""

    seed: int = 7
    days: int = 7
    start_date: date = date(2026, 1, 5)
    spans_per_line: int = 64
    job_interval_minutes: int = 30

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.spans_per_line < 1:
            raise ValueError("spans_per_line must be at least 1")
        if not 1 <= self.job_interval_minutes <= 1440:
            raise ValueError("job_interval_minutes must be between 1 and 1440")


@dataclass(frozen=True)
class DemoConfig(GeneratorConfig):
    """Scale and shape of the generated demo."""

    requests_per_day: int = 1500
    # Also write the spans as Parquet in the ClickHouse exporter's `otel_traces` layout.
    clickhouse_parquet: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.requests_per_day < 0:
            raise ValueError("requests_per_day must not be negative")


@dataclass(frozen=True)
class FlagChange:
    changed_at: datetime
    tenant_id: str | None  # None: applies to every tenant
    enabled: bool


def flag_history(config: DemoConfig) -> list[FlagChange]:
    """The dashboard flag: on; off for one tenant for an afternoon; off for everyone for a while."""
    day = [
        datetime.combine(config.start_date + timedelta(days=i), datetime.min.time(), UTC)
        for i in range(config.days + 1)
    ]
    changes = [FlagChange(day[0], None, True)]
    if config.days >= 2:
        changes += [
            FlagChange(day[1] + timedelta(hours=9), "tenant-globex", False),
            FlagChange(day[1] + timedelta(hours=18), "tenant-globex", True),
        ]
    if config.days >= 3:
        off = day[2] + timedelta(hours=12)
        on = day[min(4, config.days)] + timedelta(hours=6)
        changes += [FlagChange(off, None, False)]
        if on < day[config.days]:
            changes += [FlagChange(on, None, True)]
    return changes


def flag_enabled(history: list[FlagChange], tenant_id: str, at: datetime) -> bool:
    """The latest change at or before ``at`` for this tenant or for everyone wins."""
    state = False
    for change in sorted(history, key=lambda c: c.changed_at):
        if change.changed_at > at:
            break
        if change.tenant_id in (None, tenant_id):
            state = change.enabled
    return state


@dataclass
class Trace:
    """Builds the spans of one trace with random ids and nested, non-overlapping timing."""

    rng: random.Random
    trace_id: str = ""
    spans: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.trace_id = f"{self.rng.getrandbits(128) | 1:032x}"

    def span(
        self,
        parent: Span | None,
        name: str,
        kind: str,
        resource: str,
        scope: str,
        start: int,
        end: int,
        attributes: dict[str, AttributeValue] | None = None,
        events: list[Event] | None = None,
        status: str = "UNSET",
    ) -> Span:
        span = Span(
            trace_id=self.trace_id,
            span_id=f"{self.rng.getrandbits(64) | 1:016x}",
            parent_span_id=parent.span_id if parent else "",
            name=name,
            kind=kind,
            start_unix_nano=start,
            end_unix_nano=end,
            service=resource,
            scope=scope,
            attributes=attributes or {},
            events=events or [],
            status=status,
        )
        self.spans.append(span)
        return span


def _ms(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high) * NS_PER_MS)


class Scenario:
    """The demo's request and job mix, one trace at a time."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.flags = flag_history(config)
        # Order events published by checkouts and not yet consumed: (trace id, span id, end).
        # (trace id, span id, end, messages sent).
        self.published: list[tuple[str, str, int, int]] = []

    # --- building blocks -------------------------------------------------------------
    def _db_calls(
        self,
        trace: Trace,
        parent: Span,
        resource: str,
        start: int,
        count: int,
        events: bool,
        handler_events: bool = False,
    ) -> int:
        """Sequential database CLIENT spans under ``parent``; returns the end time.

        ``events``: each client span also carries its own ``db.query`` event.
        ``handler_events``: the method's middleware records a ``db.query`` event for each
        query on the handler's span (``parent``) as well, beside the client span the driver's
        instrumentation writes: the same query reported twice, counted once.
        """
        t = start
        for _ in range(count):
            table = self.rng.choice(("orders", "carts", "payments", "reports", "sessions"))
            duration = _ms(self.rng, 1.5, 9.0)
            attributes: dict[str, AttributeValue] = {
                "db.system.name": "postgresql",
                "db.namespace": "prod",
                "db.operation.name": "SELECT",
                "db.query.text": f"select * from {table} where id = $1",
                "server.address": "prod-postgres-01",
                "db.response.returned_rows": self.rng.randint(1, 400),
            }
            if handler_events:
                parent.events.append(
                    Event("db.query", t, {"db.query.text": attributes["db.query.text"]})
                )
            if not events and self.rng.random() < 0.5:
                # Older instrumentation still sends the deprecated attribute name.
                attributes["db.system"] = attributes.pop("db.system.name")
            trace.span(
                parent,
                f"SELECT {table}",
                "CLIENT",
                resource,
                PG_SCOPE,
                t,
                t + duration,
                attributes,
                [Event("db.query", t + 10_000, {"db.query.text": attributes["db.query.text"]})]
                if events
                else None,
            )
            t += duration + _ms(self.rng, 0.2, 1.0)
        return t

    def _job_run(self, job: str, feature: str, tenant: str, start: int) -> tuple[Trace, Span]:
        """A new trace of a job the worker runs for a tenant's feature, and its root span (whose
        end the caller sets)."""
        trace = self._current = Trace(self.rng)
        root = trace.span(
            None,
            f"job:{job}",
            "INTERNAL",
            "analytics-worker@us-east-1",
            JOB_SCOPE,
            start,
            start,
            {
                "feature.id": feature,
                "feature.category": FEATURE_GROUPS[feature],
                "tenant.id": tenant,
                "job.name": job,
                "job.attempt": 1,
            },
        )
        return trace, root

    def _remote(
        self,
        trace: Trace,
        caller: Span,
        caller_resource: str,
        start: int,
        callee_resource: str,
        route: str,
        body: Callable[[Span, int], int],
    ) -> int:
        """An HTTP CLIENT span in the caller and the callee's SERVER span (trace context only)."""
        network = _ms(self.rng, 0.5, 2.0)
        client = trace.span(caller, "POST", "CLIENT", caller_resource, HTTP_SCOPE, start, start)
        server = trace.span(client, f"POST {route}", "SERVER", callee_resource, HTTP_SCOPE, 0, 0)
        server.start_unix_nano = start + network
        server.attributes = {"http.request.method": "POST", "http.route": route}
        server.end_unix_nano = body(server, server.start_unix_nano + _ms(self.rng, 0.3, 1.5))
        server.end_unix_nano += _ms(self.rng, 0.3, 2.0)
        server.attributes["http.response.status_code"] = 200
        client.end_unix_nano = server.end_unix_nano + network
        client.attributes = {"http.request.method": "POST", "server.address": route.split("/")[1]}
        return client.end_unix_nano

    def _ingress(
        self,
        trace: Trace,
        tenant: str,
        start: int,
        method: str,
        route: str,
        features: list[tuple[str, dict[str, AttributeValue], Callable[[Span, str, int], int]]],
        open_feature_spans: bool = True,
    ) -> Span:
        """Gateway SERVER span wrapping one feature span per entry (the middleware).

        ``open_feature_spans`` false: the middleware found the feature's flag off and ran the
        handler anyway, under the server span, without a feature span.
        """
        gateway = f"web-gateway@{TENANTS[tenant][0]}"
        server = trace.span(None, f"{method} {route}", "SERVER", gateway, HTTP_SCOPE, start, start)
        server.attributes = {
            "http.request.method": method,
            "http.route": route,
            "url.scheme": "https",
            "user_agent.original": "Mozilla/5.0",
            "http.request.header.accept": ["application/json"],
        }
        # The session lookup in the shared cache, before the feature middleware runs.
        lookup = _ms(self.rng, 0.2, 1.2)
        trace.span(
            server,
            "GET",
            "CLIENT",
            gateway,
            REDIS_SCOPE,
            start + 100_000,
            start + 100_000 + lookup,
            {
                "db.system.name": "redis",
                "db.operation.name": "GET",
                "server.address": "prod-redis-01",
            },
        )
        t = start + lookup + _ms(self.rng, 0.5, 3.0)
        for feature_id, extra, body in features:
            if not open_feature_spans:
                t = body(server, gateway, t + _ms(self.rng, 0.5, 4.0))
                continue
            span = trace.span(
                server, f"feature:{feature_id}", "INTERNAL", gateway, FEATURE_SCOPE, t, t
            )
            span.attributes = {
                "feature.id": feature_id,
                "feature.category": FEATURE_GROUPS[feature_id],
                "tenant.id": tenant,
                **extra,
            }
            span.end_unix_nano = body(span, gateway, t + _ms(self.rng, 0.5, 4.0))
            span.end_unix_nano += _ms(self.rng, 0.5, 4.0)
            t = span.end_unix_nano + _ms(self.rng, 0.1, 1.0)
        server.end_unix_nano = t + _ms(self.rng, 0.5, 3.0)
        server.attributes["http.response.status_code"] = 200
        return server

    # --- feature bodies: (feature span, gateway resource, start) -> end -----------------
    def _checkout(self, queries: int) -> Callable[[Span, str, int], int]:
        def body(span: Span, gateway: str, start: int) -> int:
            trace = self._current
            t = start + _ms(self.rng, 1.0, 6.0)

            def charge(server: Span, s: int) -> int:
                t = self._db_calls(
                    trace, server, "checkout-service@eu-west-1", s, queries, False, True
                )
                end = t + _ms(self.rng, 0.3, 1.5)
                producer = trace.span(
                    server,
                    "publish order-events",
                    "PRODUCER",
                    "checkout-service@eu-west-1",
                    KAFKA_SCOPE,
                    t,
                    end,
                    {
                        "messaging.system": "kafka",
                        "messaging.operation.type": "send",
                        "messaging.destination.name": "order-events",
                    },
                )
                # One order in three also sends its receipt: a batch of two messages.
                messages = 2 if int(producer.span_id, 16) % 3 == 0 else 1
                if messages > 1:
                    producer.attributes["messaging.batch.message_count"] = messages
                self.published.append((trace.trace_id, producer.span_id, end, messages))
                return end

            return self._remote(
                trace, span, gateway, t, "checkout-service@eu-west-1", "/charge", charge
            )

        return body

    def _reports(self, span: Span, gateway: str, start: int) -> int:
        trace = self._current

        def render(server: Span, s: int) -> int:
            t = self._db_calls(
                trace, server, "analytics-api@us-east-1", s, self.rng.randint(2, 8), False
            )
            end = t + _ms(self.rng, 40.0, 250.0)
            trace.span(
                server, "render report", "INTERNAL", "analytics-api@us-east-1", HTTP_SCOPE, t, end
            )
            return end

        return self._remote(
            trace, span, gateway, start, "analytics-api@us-east-1", "/reports", render
        )

    def _inference(
        self, trace: Trace, caller: Span, resource: str, start: int, low: float, high: float
    ):
        def predict(server: Span, s: int) -> int:
            end = s + _ms(self.rng, low, high)
            trace.span(
                server,
                "model.forward",
                "INTERNAL",
                "inference-service@us-east-1",
                HTTP_SCOPE,
                s,
                end,
                {"ml.model.name": "anomaly-detector-v3", "ml.batch.size": 32},
            )
            return end

        return self._remote(
            trace, caller, resource, start, "inference-service@us-east-1", "/v1/predict", predict
        )

    def _dashboard(self, span: Span, gateway: str, start: int) -> int:
        # The method's convention: db.query events recorded on the feature span itself.
        span.events = [
            Event("db.query", start + i * 1000, {"db.query.text": "select * from widgets"})
            for i in range(self.rng.randint(1, 2))
        ]
        return self._inference(
            self._current, span, gateway, start + _ms(self.rng, 1, 3), 20.0, 90.0
        )

    def _summary(self, span: Span, gateway: str, start: int) -> int:
        trace = self._current
        model = self.rng.choice(LLM_MODELS)

        def chat(parent: Span, s: int, turn: int) -> tuple[int, dict[str, int]]:
            end = s + _ms(self.rng, 300.0, 1800.0)
            input_tokens = self.rng.randint(400, 4000)
            output_tokens = self.rng.randint(80, 900)
            usage = {
                "gen_ai.usage.input_tokens": input_tokens,
                "gen_ai.usage.output_tokens": output_tokens,
                # The second turn re-sends the first turn's prompt: the provider serves part
                # of it from its prompt cache (cached tokens are part of the input tokens).
                "gen_ai.usage.cache_read.input_tokens": input_tokens // 2 if turn else 0,
                "gen_ai.usage.reasoning.output_tokens": output_tokens // 4,
            }
            if model == OPENLLMETRY_MODEL:
                usage = {OPENLLMETRY_NAMES[key]: value for key, value in usage.items()}
            trace.span(
                parent,
                f"chat {model}",
                "CLIENT",
                "llm-gateway@us-east-1",
                GENAI_SCOPE,
                s,
                end,
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model,
                    "gen_ai.response.model": f"{model}-2025-04-14",
                    "gen_ai.request.temperature": 0.2,
                    **usage,
                    "gen_ai.response.finish_reasons": ["stop"],
                },
            )
            return end, usage

        def agent(server: Span, s: int) -> int:
            # An agent span over its LLM calls that also reports their summed usage, as
            # agent frameworks do: the usage must count once, on the calls.
            invoke = trace.span(
                server,
                "invoke_agent summarizer",
                "INTERNAL",
                "llm-gateway@us-east-1",
                GENAI_SCOPE,
                s,
                s,
                {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "summarizer"},
            )
            t, totals = s, dict[str, int]()
            for turn in range(self.rng.randint(1, 2)):
                t, usage = chat(invoke, t, turn)
                for key, value in usage.items():
                    totals[key] = totals.get(key, 0) + value
            invoke.end_unix_nano = t
            invoke.attributes.update(totals)
            return t

        return self._remote(trace, span, gateway, start, "llm-gateway@us-east-1", "/v1/chat", agent)

    def _local_query(self, span: Span, gateway: str, start: int) -> int:
        span.events = [Event("db.query", start + 1000, {"db.query.text": "select 1"})]
        return start + _ms(self.rng, 2.0, 15.0)

    # --- traces -------------------------------------------------------------------------
    def request(self, start: int) -> Trace:
        """One user request: mostly features, some with no feature at all."""
        rng = self.rng
        trace = self._current = Trace(rng)
        tenant = rng.choices(list(TENANTS), weights=[w for _, w in TENANTS.values()])[0]
        at = datetime.fromtimestamp(start / 1e9, UTC)
        kind = rng.choices(
            ["checkout", "guest", "reports", "dashboard", "summary", "home", "healthz", "session"],
            weights=[30, 15, 12, 10, 10, 5, 12, 6],
        )[0]
        if kind == "checkout":
            variant = rng.choice(("control", "one-click"))
            queries = rng.randint(3, 6) + (2 if variant == "one-click" else 0)
            extra: dict[str, AttributeValue] = {"feature.variant": variant}
            self._ingress(
                trace,
                tenant,
                start,
                "POST",
                "/api/v1/checkout",
                [("checkout-v2", extra, self._checkout(queries))],
            )
            if rng.random() < 0.01:
                # The gateway's export batch was lost: the checkout service's spans are orphans.
                trace.spans = [s for s in trace.spans if not s.service.startswith("web-gateway")]
        elif kind == "guest":
            self._ingress(
                trace,
                tenant,
                start,
                "POST",
                "/api/v1/guest-checkout",
                [("guest-checkout", {}, self._checkout(rng.randint(1, 3)))],
            )
        elif kind == "reports":
            # The reports route is head-sampled at 1 in 2 (an OpenTelemetry consistent
            # probability sampler, threshold 0x8): half the traces are never exported and
            # each kept span stands for two.
            if rng.random() < 0.5:
                return trace
            self._ingress(
                trace,
                tenant,
                start,
                "POST",
                "/api/v1/reports",
                [("advanced-reports", {}, self._reports)],
            )
            for span in trace.spans:
                span.trace_state = SAMPLED_TRACE_STATE
        elif kind == "dashboard":
            # The method's middleware evaluates the flag on the request's span (recorded as
            # an OpenTelemetry `feature_flag.evaluation` event); when it is off it opens no
            # feature span but runs the handler anyway: the work leaks.
            enabled = flag_enabled(self.flags, tenant, at)
            server = self._ingress(
                trace,
                tenant,
                start,
                "GET",
                "/api/v1/dashboard/live",
                [("real-time-dashboard", {"feature.flag.key": FLAG_KEY}, self._dashboard)],
                open_feature_spans=enabled,
            )
            # The request's own tenant, tagged by the authentication middleware.
            server.attributes["tenant.id"] = tenant
            server.events.insert(
                0,
                Event(
                    "feature_flag.evaluation",
                    start + 50_000,
                    {
                        "feature_flag.key": FLAG_KEY,
                        "feature_flag.result.variant": "on" if enabled else "off",
                        "feature_flag.result.value": enabled,
                        "feature_flag.result.reason": "targeting_match",
                        "feature_flag.provider.name": "flagd",
                    },
                ),
            )
        elif kind == "summary":
            self._ingress(
                trace,
                tenant,
                start,
                "POST",
                "/api/v1/summaries",
                [("smart-summary", {}, self._summary)],
            )
        elif kind == "home":
            # One page, two features: the wrapping server span has no single feature.
            self._ingress(
                trace,
                tenant,
                start,
                "GET",
                "/api/v1/home",
                [
                    ("advanced-reports", {}, self._local_query),
                    ("smart-summary", {}, self._local_query),
                ],
            )
        elif kind == "healthz":
            gateway = f"web-gateway@{rng.choice(('us-east-1', 'eu-west-1'))}"
            trace.span(
                None,
                "GET /healthz",
                "SERVER",
                gateway,
                HTTP_SCOPE,
                start,
                start + _ms(rng, 0.1, 0.8),
                {
                    "http.request.method": "GET",
                    "http.route": "/healthz",
                    "http.response.status_code": 200,
                },
            )
        else:
            gateway = f"web-gateway@{TENANTS[tenant][0]}"
            server = trace.span(
                None,
                "GET /api/v1/session",
                "SERVER",
                gateway,
                HTTP_SCOPE,
                start,
                start,
                {
                    "http.request.method": "GET",
                    "http.route": "/api/v1/session",
                    "tenant.id": tenant,
                    "enduser.authenticated": True,
                },
            )
            server.end_unix_nano = self._db_calls(trace, server, gateway, start + 500_000, 1, True)
            server.end_unix_nano += _ms(rng, 0.5, 2.0)
        return trace

    def consume(self, start: int) -> Trace:
        """A batch consumer of the order events published before ``start``: one trace of its
        own, linked to the producer span of each message it processed (the messaging
        conventions' batch receive; a link stands for the messages its producer sent), with
        the database writes it did for them. Every seventh run also takes a message of the
        legacy order importer, which exports no spans: a link to a span never received."""
        trace = self._current = Trace(self.rng)
        batch = [m for m in self.published if m[2] <= start]
        self.published = [m for m in self.published if m[2] > start]
        if not batch:
            return trace
        resource = "checkout-service@eu-west-1"
        messages_processed = sum(m[3] for m in batch)
        root = trace.span(
            None,
            "process order-events",
            "CONSUMER",
            resource,
            KAFKA_SCOPE,
            start,
            start,
            {
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": "order-events",
                "messaging.batch.message_count": messages_processed,
            },
        )
        root.links = [
            Link(trace_id, span_id, {"messaging.batch.message_count": messages})
            if messages > 1
            else Link(trace_id, span_id)
            for trace_id, span_id, _, messages in batch
        ]
        if start // (60 * 10**9) % 7 == 0:
            root.links.append(Link(f"{start:032x}", f"{start:016x}"))
            root.attributes["messaging.batch.message_count"] = messages_processed + 1
        t = self._db_calls(trace, root, resource, start + 500_000, 1 + len(batch) // 10, False)
        root.end_unix_nano = t + _ms(self.rng, 0.5, 2.0)
        return trace

    def export(self, tenant: str, start: int) -> Trace:
        """A tenant's nightly export of its reports: about 20 minutes on the worker."""
        trace, root = self._job_run("export-reports", "advanced-reports", tenant, start)
        t = self._db_calls(trace, root, root.service, start + 1_000_000, 3, True)
        root.end_unix_nano = t + int(self.rng.uniform(18.0, 22.0) * 60 * 10**9)
        return trace

    def job(self, tenant: str, start: int, long_running: bool = False) -> Trace:
        """The dashboard's cache refresh: tags its spans with the feature whatever the flag says."""
        trace, root = self._job_run("refresh-dashboard-cache", FLAGGED_FEATURE, tenant, start)
        t = self._db_calls(trace, root, root.service, start + 1_000_000, 2, True)
        low, high = (25_000.0, 35_000.0) if long_running else (40.0, 150.0)
        root.end_unix_nano = self._inference(trace, root, root.service, t, low, high) + 1_000_000
        return trace


def _on_instances(trace: Trace) -> list[Span]:
    """The trace's spans, each ``service`` made the instance key it ran on."""
    if not trace.spans:
        return []
    hour = datetime.fromtimestamp(min(s.start_unix_nano for s in trace.spans) // 10**9, UTC).hour
    placed = []
    for span in trace.spans:
        count = INSTANCES.get(span.service, 1)
        index = int(trace.trace_id[:8], 16) % count
        if span.service == SCALED_OUT and hour not in SCALED_OUT_HOURS:
            index = 0
        placed.append(replace(span, service=f"{span.service}/{index}"))
    return placed


def _request_starts(rng: random.Random, day_start: int, count: int) -> list[int]:
    hours = rng.choices(range(24), weights=HOURLY_WEIGHTS, k=count)
    return sorted(day_start + h * 3_600 * 10**9 + rng.randrange(3_600 * 10**9) for h in hours)


@dataclass
class GeneratedDemo:
    """What was written, for the caller to print or check."""

    out_dir: Path
    files: list[Path]
    spans: int
    traces: int
    feature_requests: Counter[tuple[str, str, str]]
    """Invocations per (day, feature, tenant): feature spans (a span of a route sampled at 1
    in 2 counts 2) and requests of the flagged feature that ran with its flag off."""


def generate(config: DemoConfig, out_dir: Path) -> GeneratedDemo:
    """Write ``otlp/*.jsonl``, revenue, feature flags and the FOCUS billing export."""
    scenario = Scenario(config)
    rng = scenario.rng
    otlp_dir = out_dir / "otlp"
    for sub in ("otlp", "revenue", "feature_flags", "billing"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for stale in [*otlp_dir.glob("*.jsonl"), *(out_dir / "clickhouse").glob("*.parquet")]:
        stale.unlink()

    files: list[Path] = []
    span_total = trace_total = 0
    requests: Counter[tuple[str, str, str]] = Counter()
    invocations: Counter[tuple[str, str, str]] = Counter()
    instances: dict[tuple[date, str], list[int]] = {}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for offset in range(config.days):
        day = config.start_date + timedelta(days=offset)
        day_start = (
            int((datetime.combine(day, datetime.min.time(), UTC) - epoch).total_seconds()) * 10**9
        )
        traces = [
            scenario.request(s) for s in _request_starts(rng, day_start, config.requests_per_day)
        ]
        step = config.job_interval_minutes * 60 * 10**9
        for tenant in TENANTS:
            for start in range(day_start + 7 * 60 * 10**9, day_start + NS_PER_DAY, step):
                traces.append(scenario.job(tenant, start + rng.randrange(60 * 10**9)))
        # The order-events consumer drains what checkouts published, every job interval.
        for start in range(day_start + step, day_start + NS_PER_DAY + 1, step):
            traces.append(scenario.consume(start - 60 * 10**9))
        # One refresh runs across midnight: its time must be split between the two days.
        traces.append(
            scenario.job("tenant-acme", day_start + NS_PER_DAY - 20 * 10**9, long_running=True)
        )
        # Every tenant's nightly export starts at 02:00 on the one worker.
        for tenant in TENANTS:
            traces.append(scenario.export(tenant, day_start + 2 * 3_600 * 10**9))

        spans = sorted(
            (s for t in traces for s in _on_instances(t)),
            key=lambda s: (s.end_unix_nano, s.span_id),
        )
        for span in spans:
            span_day = datetime.fromtimestamp(span.start_unix_nano // 10**9, UTC).date()
            if "feature.id" in span.attributes:
                requests[
                    (
                        span_day.isoformat(),
                        str(span.attributes["feature.id"]),
                        str(span.attributes["tenant.id"]),
                    )
                ] += 2 if span.trace_state == SAMPLED_TRACE_STATE else 1
            for event in span.events:
                if event.name == "feature_flag.evaluation" and not event.attributes.get(
                    "feature_flag.result.value"
                ):
                    # A request of the flagged feature that ran with its flag off.
                    key = (span_day.isoformat(), FLAGGED_FEATURE, str(span.attributes["tenant.id"]))
                    invocations[key] += 1
        path = otlp_dir / f"traces-{day.isoformat()}.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for i in range(0, len(spans), config.spans_per_line):
                batch = spans[i : i + config.spans_per_line]
                handle.write(
                    dumps_line(traces_data(batch, INSTANCE_RESOURCES, SCOPE_VERSIONS)) + "\n"
                )
        files.append(path)
        if config.clickhouse_parquet:
            write_parquet(
                out_dir / "clickhouse" / f"spans-{day.isoformat()}.parquet",
                spans,
                INSTANCE_RESOURCES,
                SCOPE_VERSIONS,
            )
        for service_day, running in instances_by_service_hour(spans).items():
            so_far = instances.get(service_day, [0] * 24)
            instances[service_day] = [a + b for a, b in zip(so_far, running, strict=True)]
        span_total += len(spans)
        trace_total += sum(1 for t in traces if t.spans)

    _write_revenue(out_dir / "revenue" / "revenue.csv", requests, rng)
    _write_flags(out_dir / "feature_flags" / "feature_flags.csv", scenario.flags)
    days = [config.start_date + timedelta(days=i) for i in range(config.days)]
    billing_rng = random.Random(config.seed + 1)
    write_focus_csv(out_dir / "billing" / "focus.csv", focus_rows(instances, days, billing_rng))
    manifest = {
        "config": {**config.__dict__, "start_date": config.start_date.isoformat()},
        "spans": span_total,
        "traces": trace_total,
        "files": [p.name for p in files],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    invocations.update(requests)
    return GeneratedDemo(out_dir, files, span_total, trace_total, invocations)


# The columns of the revenue and feature-flag files (models/staging/app/_app__sources.yml).
REVENUE_COLUMNS = ["date_day", "feature_id", "tenant_id", "revenue", "currency"]
FLAG_COLUMNS = ["changed_at", "flag_key", "feature_id", "tenant_id", "enabled"]


def _write_revenue(path: Path, requests: Counter[tuple[str, str, str]], rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REVENUE_COLUMNS)
        for (day, feature, tenant), count in sorted(requests.items()):
            revenue = count * REVENUE_PER_REQUEST[feature] * rng.uniform(0.85, 1.15)
            writer.writerow([day, feature, tenant, f"{revenue:.2f}", "USD"])


def _write_flags(path: Path, history: list[FlagChange]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FLAG_COLUMNS)
        for change in history:
            writer.writerow(
                [
                    change.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    FLAG_KEY,
                    FLAGGED_FEATURE,
                    change.tenant_id or "",
                    "true" if change.enabled else "false",
                ]
            )
