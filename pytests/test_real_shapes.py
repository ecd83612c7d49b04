"""Shapes real SDKs and the Collector write that the demo does not, built by dbt and by the
oracle from one OTLP/JSON file.

Rule 14 (capacity is paid once) on a Kubernetes deployment whose SDK sets no
``service.instance.id``: the Collector names each pod (``k8s.pod.uid``) and adds its node's
``host.id`` to both. On pod A a nightly job runs 01:00-03:00 with a same-service child
01:00-02:00, beside a request 01:00-02:00; on pod B a second request runs 01:00-02:00. Every
span is priced at the same rate card and size, so an hour of either pod costs what an hour of
work costs at the rate card. Worked by hand: the job's own busy time is 02:00-03:00, when its
child did not run. Pod A's hour 1 holds the child and the first request, twice its capacity
(factor 0.5); its hour 2 holds the job alone (factor 1, nothing idle); pod B's hour 1 holds the
second request (factor 1). The job's feature and tenant pay 1.5 of their 2 hours at the rate
card, the first request 0.5 of its hour, the second request all of it, and nothing is idle.
Spread over its elapsed time, the job would have put half an hour into the full hour 1 and
left half of hour 2 idle; with the node's ``host.id`` as the instance, both pods would have
been one instance.

Rule 12 on a public endpoint (otelhttp's ``WithPublicEndpoint``): the server span starts a new
trace and links to the caller's span, which this file does not hold; the feature span is
below it. The root's own time is the trace's feature's, and no link goes unresolved.

The public endpoint's spans and the batch consumer below are written with their ids in base64,
as the standard protobuf JSON mapping (Go's protojson, Python's MessageToJson) writes bytes;
OTLP/JSON asks for hex. They are read as the same ids: the feature span's parent is the root
(else the root would keep all its 10 ms), and the consumer's link finds its producer.

Rule 12 on a batch consumer whose ``messaging.batch.message_count`` (4) is more than its links
(1): the messages that carried no trace context are no producer's, so three quarters of the
consumer's work goes to ``__unattributed__``, not all of it to the one producer linked.

A Zipkin shared span, as the Collector's Zipkin receiver writes what Brave or Envoy report with
B3's shared span ids: the server half of a call arrives (twice) with its client half's span id
and parent. It is read as OpenTelemetry's shape, the server half a child of the
client half: the web root's 20 ms less its client child's 10 (same service), the client's 10
(its server is another service), the server's 8 less its 6 ms child, and the child's 6: 28 ms
of busy time for the feature, none of it a conflicting duplicate. Before, the server half was
dropped as one, and its 2 ms with it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import build_spans_alone
from oracle import zipkin_client_half_id
from test_end_to_end import (
    COMPONENT_COLUMNS,
    USAGE_COLUMNS,
    Mart,
    at,
    close,
    compare,
    compare_keys,
    kv,
    line,
    read_mart,
    report,
    resource_spans,
    run_oracle,
)

DAY = "2026-01-06"
HOUR = 3_600_000_000_000
T1 = at(f"{DAY}T01:00:00")
FEATURE = "advanced-reports"  # the standard rate card, for every span below
NODE = "i-0c5e0de1node"


def _pod(uid: str) -> list[dict[str, Any]]:
    """A pod's resource: no service.instance.id; the pod's uid and the node's host.id."""
    return [
        kv("service.name", {"stringValue": "export-worker"}),
        kv("cloud.region", {"stringValue": "us-east-1"}),
        kv("host.type", {"stringValue": "m5.large"}),
        kv("k8s.pod.uid", {"stringValue": uid}),
        kv("host.id", {"stringValue": NODE}),
    ]


def _span(
    trace: str, span: str, start: int, end: int, parent: str = "", tenant: str | None = None
) -> dict[str, Any]:
    """A span; with a tenant, the feature span of FEATURE for it."""
    attributes = (
        [kv("feature.id", {"stringValue": FEATURE}), kv("tenant.id", {"stringValue": tenant})]
        if tenant
        else []
    )
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "name": f"span {span}",
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": attributes,
    }


JOB_TRACE, A_TRACE, B_TRACE = "1" * 32, "2" * 32, "3" * 32
JOB, CHILD = "a" * 16, "b" * 16
PUBLIC_DAY = "2026-01-07"
PUBLIC_TRACE, PUBLIC_ROOT = "4" * 32, "e" * 16
T_PUBLIC = at(f"{PUBLIC_DAY}T10:00:00")
MS = 1_000_000


def _base64(hex_id: str) -> str:
    """An id as the standard protobuf JSON mapping writes it (Go's protojson, Python's
    MessageToJson): its bytes in base64, where OTLP/JSON asks for hex."""
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _in_base64(span: dict[str, Any]) -> dict[str, Any]:
    """The span with its ids, its parent's and its links' in base64."""
    ids = {key: _base64(span[key]) for key in ("traceId", "spanId", "parentSpanId") if span[key]}
    links = [
        {**link, "traceId": _base64(link["traceId"]), "spanId": _base64(link["spanId"])}
        for link in span.get("links", [])
    ]
    return {**span, **ids, "links": links}


def _public_endpoint() -> dict[str, Any]:
    """A server root with a link to its caller's span (not in the file), 0-10 ms, over the
    feature span 2-10 ms; every id in base64."""
    root = {
        **_span(PUBLIC_TRACE, PUBLIC_ROOT, T_PUBLIC, T_PUBLIC + 10 * MS),
        "kind": 2,
        "links": [{"traceId": "5" * 32, "spanId": "f" * 16}],
    }
    feature = _span(
        PUBLIC_TRACE, "9" * 16, T_PUBLIC + 2 * MS, T_PUBLIC + 10 * MS, PUBLIC_ROOT, "tenant-pub"
    )
    root, feature = _in_base64(root), _in_base64(feature)
    resource = [
        kv("service.name", {"stringValue": "public-api"}),
        kv("cloud.region", {"stringValue": "us-east-1"}),
        kv("service.instance.id", {"stringValue": "api-1"}),
    ]
    return resource_spans(resource, root, feature)


BATCH_DAY = "2026-01-08"
PRODUCER_TRACE, PRODUCER = "6" * 32, "7" * 16
CONSUMER_TRACE, CONSUMER = "8" * 32, "c" * 16
T_BATCH = at(f"{BATCH_DAY}T12:00:00")


def _batch() -> list[dict[str, Any]]:
    """A producer span of 1 ms (the feature's, for tenant-batch), and a consumer of 8 ms whose
    batch held 4 messages (``messaging.batch.message_count``), one of them with a link to it:
    the other three carried no trace context. The consumer also links to itself; its ids and
    its links' are in base64."""
    producer = _span(PRODUCER_TRACE, PRODUCER, T_BATCH, T_BATCH + MS, tenant="tenant-batch")
    consumer = {
        **_span(CONSUMER_TRACE, CONSUMER, T_BATCH + 5 * MS, T_BATCH + 13 * MS),
        "kind": 5,
        "attributes": [kv("messaging.batch.message_count", {"intValue": "4"})],
        # A link to itself besides, which says nothing and is left out.
        "links": [
            {"traceId": PRODUCER_TRACE, "spanId": PRODUCER},
            {"traceId": CONSUMER_TRACE, "spanId": CONSUMER},
        ],
    }
    consumer = _in_base64(consumer)
    return [
        resource_spans(
            [
                kv("service.name", {"stringValue": name}),
                kv("cloud.region", {"stringValue": "us-east-1"}),
                kv("service.instance.id", {"stringValue": f"{name}-1"}),
            ],
            span,
        )
        for name, span in (("checkout", producer), ("order-consumer", consumer))
    ]


ZIPKIN_DAY = "2026-01-09"
ZIPKIN_TRACE, ZIPKIN_ROOT, SHARED, SHARED_CHILD = "9" * 32, "1" * 16, "2" * 16, "3" * 16
T_ZIPKIN = at(f"{ZIPKIN_DAY}T08:00:00")


def _zipkin_shared_span() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The web service's feature span (a SERVER root, 0-20 ms) and its call's CLIENT half
    (2-12 ms); the reports service's SERVER half of the call (3-11 ms, the same span id and
    parent) and its child (4-10 ms): a resource span for each service."""

    def resource(name: str) -> list[dict[str, Any]]:
        return [
            kv("service.name", {"stringValue": name}),
            kv("cloud.region", {"stringValue": "us-east-1"}),
            kv("service.instance.id", {"stringValue": f"{name}-1"}),
        ]

    def timed(span_id: str, parent: str, kind: int, start_ms: int, end_ms: int) -> dict:
        span = _span(ZIPKIN_TRACE, span_id, T_ZIPKIN + start_ms * MS, T_ZIPKIN + end_ms * MS)
        return {**span, "parentSpanId": parent, "kind": kind}

    root = {
        **timed(ZIPKIN_ROOT, "", 2, 0, 20),
        "attributes": _span("", "", 0, 0, tenant="tenant-zipkin")["attributes"],
    }
    web = resource_spans(resource("web"), root, timed(SHARED, ZIPKIN_ROOT, 3, 2, 12))
    reports = resource_spans(
        resource("reports"),
        timed(SHARED, ZIPKIN_ROOT, 2, 3, 11),
        timed(SHARED_CHILD, SHARED, 1, 4, 10),
    )
    return web, reports


@dataclass(frozen=True)
class Built:
    """The file built by dbt: its DuckDB file, the dbt vars and the mart."""

    duckdb_path: Path
    dbt_vars: dict[str, str]
    mart: Mart

    def rows(self, sql: str, *params: object) -> list[tuple]:
        """The rows a query of the built DuckDB file returns."""
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The file, built by dbt into its own DuckDB file."""
    pod_a = resource_spans(
        _pod("pod-a"),
        _span(JOB_TRACE, JOB, T1, T1 + 2 * HOUR, tenant="tenant-acme"),
        _span(JOB_TRACE, CHILD, T1, T1 + HOUR, parent=JOB),
        _span(A_TRACE, "c" * 16, T1, T1 + HOUR, tenant="tenant-globex"),
    )
    pod_b = resource_spans(_pod("pod-b"), _span(B_TRACE, "d" * 16, T1, T1 + HOUR, "", "tenant-b"))
    duckdb_path, dbt_vars = build_spans_alone(
        tmp_path_factory.mktemp("shapes"),
        [
            line(pod_a, pod_b),
            line(_public_endpoint()),
            line(*_batch()),
            line(_zipkin_shared_span()[0]),
            line(zipkin_reports := _zipkin_shared_span()[1]),
            line(zipkin_reports),  # delivered twice
        ],
    )
    return Built(duckdb_path, dbt_vars, read_mart(duckdb_path))


def test_pods_on_one_node_and_a_job_waiting_on_its_child_pay_capacity_once(built: Built) -> None:
    hours = built.rows(
        "select instance_id, hour(hour_start), capacity_share_factor, idle_cost"
        " from main.int_instance_hours where service_name = 'export-worker' order by 1, 2"
    )
    assert [(i, h, f) for i, h, f, _ in hours] == [
        ("pod-a", 1, 0.5),
        ("pod-a", 2, 1.0),
        ("pod-b", 1, 1.0),
    ]
    assert all(close(idle, 0.0) for *_, idle in hours), hours

    mart = built.mart
    paid = {
        key: mart.value(key, "cpu_cost")
        + mart.value(key, "memory_cost")
        + mart.value(key, "gpu_cost")
        for key in mart.rows
        if key[0] == DAY
    }
    assert {key[1:] for key, value in paid.items() if value} == {
        (FEATURE, "tenant-acme"),
        (FEATURE, "tenant-globex"),
        (FEATURE, "tenant-b"),
    }  # no __idle__ compute
    by_tenant = {key[2]: value for key, value in paid.items() if value}
    dedicated = {key[2]: mart.value(key, "dedicated_compute_cost") for key in paid}
    hour_cost = dedicated["tenant-b"]
    assert close(dedicated["tenant-acme"], 2 * hour_cost)
    assert close(by_tenant["tenant-acme"], 1.5 * hour_cost), by_tenant
    assert close(by_tenant["tenant-globex"], 0.5 * hour_cost), by_tenant
    assert close(by_tenant["tenant-b"], hour_cost), by_tenant


def test_a_public_endpoints_root_linked_to_its_caller_stays_with_its_feature(built: Built) -> None:
    root = built.rows(
        "select feature_id, tenant_id, attribution_basis, link_span_id"
        " from main.int_spans_attributed where span_id = ?",
        PUBLIC_ROOT,
    )
    links = built.rows(
        "select sum(spans_linked), sum(links_not_received) from feature_cost_marts.span_accounting"
        " where date_day = ?",
        PUBLIC_DAY,
    )
    assert root == [(FEATURE, "tenant-pub", "trace", None)]
    assert links == [(0, 0)]
    key = (PUBLIC_DAY, FEATURE, "tenant-pub")
    assert close(built.mart.value(key, "busy_ms"), 10.0)
    assert close(built.mart.value(key, "request_count"), 1.0)


def test_a_batchs_messages_without_a_link_are_no_producers_work(built: Built) -> None:
    shares = built.rows(
        "select link_resolution, link_count, attribution_share from main.int_span_link_shares"
        " where span_id = ? order by 1",
        CONSUMER,
    )
    assert [(resolution, count) for resolution, count, _ in shares] == [
        ("not_linked", 0),
        ("received", 1),
    ]
    assert close(shares[0][2], 0.75) and close(shares[1][2], 0.25), shares
    # The producer's own 1 ms and a quarter of the consumer's 8; the rest is no feature's.
    assert close(built.mart.value((BATCH_DAY, FEATURE, "tenant-batch"), "busy_ms"), 3.0)
    unattributed = (BATCH_DAY, "__unattributed__", "__shared__")
    assert close(built.mart.value(unattributed, "busy_ms"), 6.0)
    accounting = built.rows(
        "select spans_linked, links_not_received, spans_with_unlinked_messages"
        " from feature_cost_marts.span_accounting where date_day = ?",
        BATCH_DAY,
    )
    assert accounting == [(1, 0, 1)]


def test_a_zipkin_shared_span_is_a_client_and_its_server(built: Built) -> None:
    client = zipkin_client_half_id(SHARED)
    halves = built.rows(
        "select span_kind, span_id, parent_span_id, service_name, span_status"
        " from main.int_spans_screened where trace_id = ? and span_id in (?, ?)"
        " order by span_status, span_kind",
        ZIPKIN_TRACE,
        SHARED,
        client,
    )
    assert halves == [
        ("CLIENT", client, ZIPKIN_ROOT, "web", "accepted"),
        ("SERVER", SHARED, client, "reports", "accepted"),
        ("SERVER", SHARED, ZIPKIN_ROOT, "reports", "duplicate"),
    ]
    accounting = built.rows(
        "select duplicates_removed, conflicting_duplicates"
        " from feature_cost_marts.span_accounting where date_day = ?",
        ZIPKIN_DAY,
    )
    assert accounting == [(2, 0)]  # the second delivery of the server half and its child
    key = (ZIPKIN_DAY, FEATURE, "tenant-zipkin")
    assert close(built.mart.value(key, "busy_ms"), 28.0)
    assert close(built.mart.value(key, "request_count"), 1.0)


def test_real_shapes_match_the_oracle(built: Built) -> None:
    result = run_oracle(built.dbt_vars)
    problems = compare_keys(built.mart, result) + compare(
        built.mart, result, (*USAGE_COLUMNS, *COMPONENT_COLUMNS)
    )
    assert not problems, report(problems)
