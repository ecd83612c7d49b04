"""The feature middleware for Python services, with the real OpenTelemetry SDK and OpenFeature:
spans in memory, then written as OTLP/JSON and built through the project."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openfeature import api as openfeature
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from conftest import build_spans_alone
from feature_cost import otlp
from feature_cost.instrumentation import (
    Feature,
    FeatureASGIMiddleware,
    FeatureWSGIMiddleware,
    feature_context,
    with_feature,
)

DASHBOARD = Feature("real-time-dashboard", "analytics", "real-time-dashboard-enabled")
CHECKOUT = Feature("checkout-v2", "commerce")
ROUTES = {"/dashboard": DASHBOARD, "/checkout": CHECKOUT}
EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider(
    resource=Resource.create(
        {"service.name": "dashboard-api", "cloud.region": "us-east-1", "host.type": "m6i.large"}
    )
)
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
TRACER = PROVIDER.get_tracer("framework")


def _off_for_globex(
    flag: InMemoryFlag[bool], context: EvaluationContext
) -> FlagResolutionDetails[bool]:
    off = context.targeting_key == "globex"
    return FlagResolutionDetails(
        value=not off, variant="off" if off else "on", reason=Reason.TARGETING_MATCH
    )


@pytest.fixture(autouse=True)
def telemetry() -> Iterator[InMemorySpanExporter]:
    """The SDK's in-memory exporter, the global tracer provider and an in-memory flag provider
    whose flag is off for tenant globex."""
    trace.set_tracer_provider(PROVIDER)  # once per process; later calls are ignored
    openfeature.set_provider(
        InMemoryProvider(
            {
                "real-time-dashboard-enabled": InMemoryFlag(
                    "on", {"on": True, "off": False}, context_evaluator=_off_for_globex
                )
            }
        )
    )
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def _request(path: str, tenant: str, handler: Any) -> None:
    """One request as a web framework's instrumentation records it: a SERVER span, with the
    middleware and the handler inside."""
    with TRACER.start_as_current_span(f"GET {path}", kind=trace.SpanKind.SERVER):
        handler(path, tenant)


def _query(name: str) -> None:
    with TRACER.start_as_current_span(
        name,
        kind=trace.SpanKind.CLIENT,
        attributes={"db.system.name": "postgresql", "db.query.summary": name},
    ):
        pass


def _by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


def test_the_flag_is_evaluated_and_the_feature_span_opened_only_when_on(
    telemetry: InMemorySpanExporter,
) -> None:
    for tenant in ("acme", "globex"):
        with (
            TRACER.start_as_current_span(f"GET /dashboard {tenant}", kind=trace.SpanKind.SERVER),
            feature_context(DASHBOARD, tenant) as invocation,
        ):
            _query(f"select {tenant}")
            assert invocation.enabled is (tenant == "acme")
    spans = _by_name(telemetry.get_finished_spans())
    feature_span = spans["feature real-time-dashboard"]
    assert dict(feature_span.attributes or {}) == {
        "feature.id": "real-time-dashboard",
        "feature.category": "analytics",
        "tenant.id": "acme",
    }
    assert feature_span.parent is not None
    assert feature_span.parent.span_id == spans["GET /dashboard acme"].context.span_id
    assert spans["select acme"].parent.span_id == feature_span.context.span_id
    assert len([s for s in spans.values() if s.name.startswith("feature ")]) == 1
    # With the flag off the server span stands in for the feature span: it names the tenant.
    assert spans["GET /dashboard globex"].attributes["tenant.id"] == "globex"
    assert "tenant.id" not in (spans["GET /dashboard acme"].attributes or {})
    for tenant, value in (("acme", True), ("globex", False)):
        (event,) = spans[f"GET /dashboard {tenant}"].events
        assert event.name == "feature_flag.evaluation"
        assert dict(event.attributes or {}) == {
            "feature_flag.key": "real-time-dashboard-enabled",
            "feature_flag.result.value": value,
            "feature_flag.result.variant": "on" if value else "off",
            "feature_flag.result.reason": "targeting_match",
            "feature_flag.provider.name": "In-Memory Provider",
            "feature_flag.context.id": tenant,
        }


def test_the_decorator_and_the_wsgi_and_asgi_middleware_open_the_feature_span(
    telemetry: InMemorySpanExporter,
) -> None:
    @with_feature(CHECKOUT, tenant=lambda tenant: tenant)
    def checkout(tenant: str) -> str:
        _query("insert order")
        return tenant

    @with_feature(CHECKOUT, tenant=lambda tenant: tenant)
    async def checkout_async(tenant: str) -> str:
        _query("insert order async")
        return tenant

    assert checkout("acme") == "acme"
    assert asyncio.run(checkout_async("beta")) == "beta"

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        _query("select wsgi")
        start_response("200 OK", [])
        return [b"ok"]

    body = FeatureWSGIMiddleware(wsgi_app, ROUTES)(
        {"PATH_INFO": "/checkout/pay", "HTTP_X_TENANT_ID": "wsgi-tenant"}, lambda *_: None
    )
    assert list(body) == [b"ok"]
    body.close()

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        _query("select asgi")

    scope = {"type": "http", "path": "/checkout", "headers": [(b"x-tenant-id", b"asgi-tenant")]}
    asyncio.run(FeatureASGIMiddleware(asgi_app, ROUTES)(scope, None, None))
    # A path no route names is passed through untouched.
    asyncio.run(FeatureASGIMiddleware(asgi_app, ROUTES)({**scope, "path": "/health"}, None, None))

    spans = telemetry.get_finished_spans()
    features = [s for s in spans if s.name == "feature checkout-v2"]
    assert [s.attributes["tenant.id"] for s in features] == [
        "acme",
        "beta",
        "wsgi-tenant",
        "asgi-tenant",
    ]
    by_id = {s.context.span_id: s for s in features}
    for query in ("insert order", "insert order async", "select wsgi"):
        (span,) = [s for s in spans if s.name == query]
        assert span.parent is not None and span.parent.span_id in by_id, query
    asgi_queries = [s for s in spans if s.name == "select asgi"]
    assert [q.parent is not None and q.parent.span_id in by_id for q in asgi_queries] == [
        True,
        False,
    ]


def _to_otlp(span: ReadableSpan) -> otlp.Span:
    """An SDK span in the project's OTLP/JSON encoder (hex ids, integer enums)."""
    return otlp.Span(
        trace_id=f"{span.context.trace_id:032x}",
        span_id=f"{span.context.span_id:016x}",
        parent_span_id=f"{span.parent.span_id:016x}" if span.parent else "",
        name=span.name,
        kind=span.kind.name,
        start_unix_nano=int(span.start_time or 0),
        end_unix_nano=int(span.end_time or 0),
        service="app",
        scope=span.instrumentation_scope.name if span.instrumentation_scope else "",
        attributes=dict(span.attributes or {}),
        events=[
            otlp.Event(e.name, int(e.timestamp), dict(e.attributes or {})) for e in span.events
        ],
    )


@pytest.mark.slow
def test_spans_of_an_instrumented_app_build_to_the_right_features(
    telemetry: InMemorySpanExporter, tmp_path: Path
) -> None:
    """Three dashboard requests (one for globex, whose flag is off: no feature span, the
    handler runs anyway) and a checkout, written as OTLP/JSON and built with no flag file:
    each request's query goes to its feature, globex's to `__flag_off__`, listed in
    flag_leakage under the dashboard."""

    def handler(path: str, tenant: str) -> None:
        _query(f"query {path} {tenant}")

    app = FeatureWSGIMiddleware(
        lambda environ, start_response: handler(environ["PATH_INFO"], environ["tenant"]) or [],
        ROUTES,
    )
    for path, tenant in (
        ("/dashboard", "acme"),
        ("/dashboard", "initech"),
        ("/dashboard", "globex"),
        ("/checkout", "acme"),
    ):

        def serve(path: str, tenant: str) -> None:
            environ = {"PATH_INFO": path, "HTTP_X_TENANT_ID": tenant, "tenant": tenant}
            app(environ, lambda *_: None).close()

        _request(path, tenant, serve)
    spans = [_to_otlp(s) for s in telemetry.get_finished_spans()]
    resource = dict(PROVIDER.resource.attributes)
    line = otlp.dumps_line(otlp.traces_data(spans, {"app": resource}, {}))
    path, _ = build_spans_alone(tmp_path, [line])
    with duckdb.connect(str(path), read_only=True) as con:
        attributed = dict(
            con.execute(
                "select span_name, feature_id || '/' || tenant_id from main.int_spans_attributed"
                " where span_name like 'query %'"
            ).fetchall()
        )
        leakage = con.execute(
            "select feature_id, sum(invocation_count)"
            " from feature_cost_marts.flag_leakage group by 1"
        ).fetchall()
        requests = dict(
            con.execute(
                "select feature_id || '/' || tenant_id, sum(request_count)"
                " from feature_cost_marts.feature_cost_margin group by 1 having"
                " sum(request_count) > 0"
            ).fetchall()
        )
    assert attributed == {
        "query /dashboard acme": "real-time-dashboard/acme",
        "query /dashboard initech": "real-time-dashboard/initech",
        "query /dashboard globex": "__flag_off__/globex",
        "query /checkout acme": "checkout-v2/acme",
    }
    assert leakage == [("real-time-dashboard", 1)]
    assert requests == {
        "real-time-dashboard/acme": 1,
        "real-time-dashboard/initech": 1,
        "__flag_off__/globex": 1,
        "checkout-v2/acme": 1,
    }
    assert json.loads(line)["resourceSpans"][0]["resource"]["attributes"]
