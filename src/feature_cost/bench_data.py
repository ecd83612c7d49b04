"""Benchmark telemetry at scale: the demo's traces, generated in DuckDB SQL.

The demo generator (``feature_cost.demo``) builds each span as a Python object, about 10k
spans a second: 100M spans would take about three hours. This module writes the same shapes
(services, regions, host types, features, tenants, trace structure, flag history, attribute
names and types) set-wise instead: every random choice is a hash of the seed, the date, the
trace number and a slot number, the spans are rendered to OTLP/JSON text or to the ClickHouse
exporter's ``otel_traces`` columns by DuckDB, and the text is stitched into ``TracesData``
lines with numpy and pyarrow. A day's data does not depend on how many days are generated
after it: a 91-day data set holds the days of an 8-day one with the same start, byte for byte.

What is written for each day, in chunks of about ``spans_per_file`` spans (the Collector's
rotated files; a chunk covers a span of time, files are named ``<day>-<chunk>``):

- ``otlp/traces-<day>-<chunk>.jsonl``: OTLP/JSON Lines as the Collector's file exporter writes
  them, one ``TracesData`` object per line (about ``spans_per_line`` spans of whole traces,
  grouped by resource, then scope);
- ``clickhouse/spans-<day>-<chunk>.parquet``: the same spans in the layout the demo writes with
  ``--clickhouse-parquet`` (``feature_cost.clickhouse.SCHEMA``);
- ``stats/<day>.json``: feature invocations per day, feature and tenant, and busy seconds per
  service and day, from which the small inputs are written by the demo's own writers:
  ``revenue/revenue.csv``, ``feature_flags/feature_flags.csv``, ``billing/focus.csv``
  (``write_side_inputs``, for any set of days: a benchmark can add a day later).

Each day has exactly ``spans_per_day`` spans: requests are drawn until the next trace would
exceed the count, and the rest is filled with one-span health checks. The background jobs (one
per tenant every ``job_interval_minutes`` from 07:00, plus one refresh that runs across
midnight) are part of the count, and so are the order-events consumer's batches (one span per
``CONSUMER_EVERY_SPANS`` spans of the day, spread over it), each linked to the root spans of
four requests of the day (rule 12; the root of an orphan checkout was never received) and
standing for one message more than its links (``messaging.batch.message_count`` 5: a message
without a trace context). Two things the demo does not have: the health-check and session
traces carry a W3C trace state with an OpenTelemetry sampling threshold (``ot=th:8``: sampled
at 50 %, each kept span stands for two), and timing inside a trace is laid out in fixed slots
(each database call in a 10 ms slot) rather than one after the other.

Deterministic: the same seed, options and DuckDB version give the same bytes.

Run ``python -m feature_cost.bench_data --help``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from feature_cost.billing import focus_rows, write_focus_csv
from feature_cost.clickhouse import SCHEMA, stringify
from feature_cost.demo import (
    FEATURE_GROUPS,
    FEATURE_SCOPE,
    FLAG_KEY,
    FLAGGED_FEATURE,
    GENAI_SCOPE,
    HOURLY_WEIGHTS,
    HTTP_SCOPE,
    JOB_SCOPE,
    KAFKA_SCOPE,
    LLM_MODELS,
    PG_SCOPE,
    REDIS_SCOPE,
    RESOURCES,
    SCOPE_VERSIONS,
    TENANTS,
    DemoConfig,
    GeneratorConfig,
    _write_flags,
    _write_revenue,
    flag_history,
)
from feature_cost.otlp import any_value

# Raised whenever the same config writes other data (2: the order-events consumer's batches
# and their links), so a cache of older data is not reused.
DATA_VERSION = 2
NS_PER_MS = 1_000_000
NS_PER_DAY = 86_400 * 1_000_000_000
FORMATS = ("otlp", "parquet")
SAMPLED_TRACE_STATE = "ot=th:8"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
TABLES = ("orders", "carts", "payments", "reports", "sessions")
DB_SLOT_NS = 10 * NS_PER_MS  # each database call runs inside its own 10 ms slot

RESOURCE_KEYS = list(RESOURCES)
SCOPES = list(SCOPE_VERSIONS)
TENANT_IDS = list(TENANTS)
FEATURES = list(FEATURE_GROUPS)

# Request kinds and their weights, as in the demo's Scenario.request; 8 is a background job.
KINDS = ("checkout", "guest", "reports", "dashboard", "summary", "home", "healthz", "session")
KIND_WEIGHTS = (30, 15, 12, 10, 10, 5, 12, 6)
JOB = 8
CONSUMER = 9  # the order-events consumer's batches (not drawn: spread over the day)
CONSUMER_EVERY_SPANS = 200  # one batch per this many spans of a day
CONSUMER_LINKS = 4  # requests each batch links to
CONSUMER_MESSAGES = CONSUMER_LINKS + 1  # one message carried no trace context
# kind -> (method, route) of the gateway's SERVER span.
INGRESS = {
    0: ("POST", "/api/v1/checkout"),
    1: ("POST", "/api/v1/guest-checkout"),
    2: ("POST", "/api/v1/reports"),
    3: ("GET", "/api/v1/dashboard/live"),
    4: ("POST", "/api/v1/summaries"),
    5: ("GET", "/api/v1/home"),
}
# The call from a feature (or the job) into another service: route and callee resource.
REMOTE = {
    0: ("/charge", "checkout-service@eu-west-1"),
    1: ("/charge", "checkout-service@eu-west-1"),
    2: ("/reports", "analytics-api@us-east-1"),
    3: ("/v1/predict", "inference-service@us-east-1"),
    4: ("/v1/chat", "llm-gateway@us-east-1"),
    JOB: ("/v1/predict", "inference-service@us-east-1"),
}
WORKER = "analytics-worker@us-east-1"
CONSUMER_RESOURCE = "checkout-service@eu-west-1"
NO_LINKS = "[]::STRUCT(trace_id VARCHAR, span_id VARCHAR)[]"


@dataclass(frozen=True)
class BenchConfig(GeneratorConfig):
    """Scale and layout of the generated benchmark data."""

    days: int = 30
    start_date: date = date(2026, 1, 1)
    spans_per_day: int = 100_000
    spans_per_file: int = 200_000
    formats: tuple[str, ...] = FORMATS
    threads: int = 2
    memory_limit: str = "2GB"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.spans_per_file < 1:
            raise ValueError("spans_per_file must be at least 1")
        unknown = set(self.formats) - set(FORMATS)
        if unknown or not self.formats:
            raise ValueError(f"formats must be a non-empty subset of {FORMATS}")
        if self.spans_per_day < self.job_spans_per_day + self.consumer_spans_per_day:
            raise ValueError(
                f"spans_per_day must be at least {self.smallest_spans_per_day}: the background"
                f" jobs' {self.job_spans_per_day} spans a day and the consumer's batches (raise"
                " job_interval_minutes for smaller days)"
            )

    @property
    def jobs_per_tenant(self) -> int:
        """Refresh jobs a tenant runs a day: every interval from 07:00 to midnight."""
        step = self.job_interval_minutes
        return len(range(7, 1440, step))

    @property
    def job_spans_per_day(self) -> int:
        """Spans of the background jobs a day (six a job, plus the one across midnight)."""
        return 6 * (len(TENANTS) * self.jobs_per_tenant + 1)

    @property
    def smallest_spans_per_day(self) -> int:
        """The fewest spans a day can hold: the background jobs' and the consumer's batches
        (one per ``CONSUMER_EVERY_SPANS`` spans of the day)."""
        jobs = self.job_spans_per_day
        spans = jobs
        while spans - spans // CONSUMER_EVERY_SPANS < jobs:
            spans += 1
        return spans

    @property
    def consumer_spans_per_day(self) -> int:
        """Batches of the order-events consumer a day, one span each."""
        return self.spans_per_day // CONSUMER_EVERY_SPANS

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.days)]


@dataclass
class BenchData:
    """What was written, and how long it took (wall clock, side inputs included)."""

    out_dir: Path
    files: dict[str, list[Path]]
    spans: int
    traces: int
    seconds: float

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds


# --- SQL building blocks ------------------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _u(key: str, slot: int | str) -> str:
    """A uniform double in [0, 1) from the hash of a trace key and a slot number."""
    return f"((hash(xor({key}, ({slot})::UBIGINT)) >> 11)::DOUBLE * {2.0**-53!r})"


def _ms(key: str, slot: int | str, low: float, high: float) -> str:
    """A duration of low..high milliseconds, in nanoseconds (the demo's ``_ms``)."""
    return f"floor(({low!r} + {high - low!r} * {_u(key, slot)}) * {NS_PER_MS})::BIGINT"


def _int(key: str, slot: int | str, low: int, high: int) -> str:
    """An integer in low..high, both included (``random.randint``)."""
    return f"({low} + floor({_u(key, slot)} * {high - low + 1})::BIGINT)"


def _weighted(uniform: str, weights: Sequence[int]) -> str:
    """The index drawn by a uniform with these weights."""
    total = sum(weights)
    cases, running = [], 0
    for index, weight in enumerate(weights[:-1]):
        running += weight
        cases.append(f"when {uniform} < {running / total!r} then {index}")
    return f"(case {' '.join(cases)} else {len(weights) - 1} end)"


def _pick(expr: str, values: Sequence[str]) -> str:
    """The string at index ``expr`` of ``values``."""
    whens = " ".join(f"when {i} then {_lit(v)}" for i, v in enumerate(values))
    return f"(case {expr} {whens} end)"


def _hex_id(key: str, slot: int | str) -> str:
    return f"printf('%016x', hash(xor({key}, ({slot})::UBIGINT)) | 1::UBIGINT)"


def _trace_key(salt: int, number: str) -> str:
    """SQL: the key of trace ``number`` of a day (``salt`` is the day's), every draw's seed."""
    return f"xor({salt}::UBIGINT, (({number})::BIGINT * 4096)::UBIGINT)"


def _trace_id(key: str) -> str:
    """SQL: the trace id of the trace with key ``key``."""
    return (
        f"printf('%016x%016x', hash(xor({key}, 4000::UBIGINT)),"
        f" hash(xor({key}, 4001::UBIGINT)) | 1::UBIGINT)"
    )


def _span_id(key: str, slot: str) -> str:
    """SQL: the id of the span at ``slot`` of the trace with key ``key``."""
    return _hex_id(key, f"2048 + {slot}")


class Expr(str):
    """A SQL expression (as opposed to a literal value) in an attribute list."""

    __slots__ = ()


# (key, value): a Python value is a constant; an Expr is SQL giving text of the type named.
Attribute = tuple[str, Any] | tuple[str, str, Expr]


def _otlp_attributes(attributes: Sequence[Attribute]) -> list[str | Expr]:
    """Pieces (literal text or SQL) of an OTLP KeyValue list."""
    pieces: list[str | Expr] = []
    for i, attribute in enumerate(attributes):
        if i:
            pieces.append(",")
        if len(attribute) == 2:
            key, value = attribute
            pieces.append(
                json.dumps({"key": key, "value": any_value(value)}, separators=(",", ":"))
            )
            continue
        key, kind, expr = attribute
        if kind == "string":
            pieces += [f'{{"key":"{key}","value":{{"stringValue":"', expr, '"}}']
        elif kind == "int":
            pieces += [f'{{"key":"{key}","value":{{"intValue":"', Expr(f"({expr})::VARCHAR"), '"}}']
        else:
            raise ValueError(f"unknown attribute kind {kind}")
    return pieces


def _key_values(attributes: Sequence[Attribute]) -> str:
    """A list of {key, value} text structs: the ClickHouse exporter's stringified attributes
    (a map in the file; DuckDB builds lists of structs much faster than maps)."""
    if not attributes:
        return "[]::STRUCT(key VARCHAR, value VARCHAR)[]"
    entries = []
    for attribute in attributes:
        if len(attribute) == 2:
            value = _lit(stringify(attribute[1]))
        else:
            value = f"({attribute[2]})::VARCHAR"
        entries.append(f"{{'key': {_lit(attribute[0])}, 'value': {value}}}")
    return f"[{', '.join(entries)}]"


def _concat(pieces: Iterable[str | Expr]) -> str:
    """SQL concatenating literal text and expressions (adjacent literals merged)."""
    parts: list[str] = []
    text = ""
    for piece in pieces:
        if isinstance(piece, Expr):
            if text:
                parts.append(_lit(text))
                text = ""
            parts.append(f"({piece})")
        else:
            text += piece
    if text:
        parts.append(_lit(text))
    return f"concat({', '.join(parts)})" if parts else "''"


@dataclass(frozen=True)
class Event:
    """``db.query`` events: ``count`` of them from ``time``, ``step`` ns apart."""

    time: str
    text: str
    count: str = "1"
    max_count: int = 1
    step: int = 1000


@dataclass(frozen=True)
class Role:
    """One span of a trace: which traces have it, and how it looks."""

    where: str
    slot: str
    parent_slot: str | None
    resource: str
    scope: str
    name: str
    kind: str
    start: str
    end: str
    attributes: Sequence[Attribute] = ()
    event: Event | None = None
    source: str = "ct"
    links: bool = False  # the trace's `links` column: (trace id, span id) of each link


def _gateway(tenant: str = "tenant") -> str:
    """The resource index of a tenant's home gateway."""
    whens = " ".join(
        f"when {i} then {RESOURCE_KEYS.index(f'web-gateway@{region}')}"
        for i, (region, _) in enumerate(TENANTS.values())
    )
    return f"(case {tenant} {whens} end)"


def _res(key: str) -> str:
    return str(RESOURCE_KEYS.index(key))


def _scope(name: str) -> str:
    return str(SCOPES.index(name))


def _span_key(slot: str) -> str:
    """Per-span random slots of a database call (8 per call, after the trace's 64)."""
    return f"64 + j * 8 + {slot}"


def _roles() -> list[Role]:
    """Every span the demo's traces contain, as SQL over the chunk's trace table ``ct``."""
    requests = "kind <= 5 and not (kind = 3 and not flag_on) and not orphan"
    remote = "(kind <= 4 and not (kind = 3 and not flag_on)) or kind = 8"
    method = _pick("kind", [INGRESS[k][0] for k in range(6)])
    route = _pick("kind", [INGRESS[k][1] for k in range(6)])
    tenant = Expr(_pick("tenant", TENANT_IDS))
    feature = _pick("feature", FEATURES)
    routes = {k: v[0] for k, v in REMOTE.items()}
    callee = (
        "(case kind " + " ".join(f"when {k} then {_res(v[1])}" for k, v in REMOTE.items()) + " end)"
    )
    remote_route = (
        "(case kind " + " ".join(f"when {k} then {_lit(v)}" for k, v in routes.items()) + " end)"
    )
    table = _pick(f"floor({_u('tk', _span_key('0'))} * 5)::INTEGER", TABLES)
    query_text = f"'select * from ' || {table} || ' where id = $1'"
    db_rows = _int("tk", _span_key("1"), 1, 400)
    db_start = f"db0 + j * {DB_SLOT_NS}"
    db_end = f"{db_start} + {_ms('tk', _span_key('2'), 1.5, 9.0)}"
    db_resource = (
        f"(case kind when 0 then {_res('checkout-service@eu-west-1')} when 1 then "
        f"{_res('checkout-service@eu-west-1')} when 2 then {_res('analytics-api@us-east-1')} "
        f"when 8 then {_res(WORKER)} else gw_res end)"
    )
    db_common: list[Attribute] = [
        ("db.namespace", "prod"),
        ("db.operation.name", "SELECT"),
        ("db.query.text", "string", Expr(query_text)),
        ("server.address", "prod-postgres-01"),
        ("db.response.returned_rows", "int", Expr(db_rows)),
    ]
    deprecated = f"{_u('tk', _span_key('3'))} < 0.5"
    feature_name = f"'feature:' || {feature}"
    feature_attributes: list[Attribute] = [
        ("feature.id", "string", Expr(feature)),
        ("feature.category", "string", Expr(_pick("feature", list(FEATURE_GROUPS.values())))),
        ("tenant.id", "string", tenant),
    ]
    model = _pick("model", LLM_MODELS)
    gateway_attributes: list[Attribute] = [
        ("http.request.method", "string", Expr(method)),
        ("http.route", "string", Expr(route)),
        ("url.scheme", "https"),
        ("user_agent.original", "Mozilla/5.0"),
        ("http.request.header.accept", ["application/json"]),
        ("http.response.status_code", 200),
    ]
    # A trace's root span, from its start to its end.
    root_span: dict[str, Any] = {"slot": "0", "parent_slot": None, "start": "s", "end": "ge"}
    # The gateway's entry span of a request: the trace's root.
    entry_span: dict[str, Any] = {
        **root_span,
        "resource": "gw_res",
        "scope": _scope(HTTP_SCOPE),
        "kind": "SERVER",
    }
    # A query to Postgres; its parent differs by the kind of trace.
    db_span: dict[str, Any] = {
        "slot": "10 + j",
        "resource": db_resource,
        "scope": _scope(PG_SCOPE),
        "name": f"'SELECT ' || {table}",
        "kind": "CLIENT",
        "start": db_start,
        "end": db_end,
        "source": "db",
    }
    feature_span: dict[str, Any] = {
        "slot": "2",
        "parent_slot": "0",
        "resource": "gw_res",
        "scope": _scope(FEATURE_SCOPE),
        "kind": "INTERNAL",
        "start": "f0",
        "end": "fe",
    }

    def named_feature(feature_id: str, *more: Attribute) -> list[Attribute]:
        """The attributes of a span that names one feature, for the trace's tenant."""
        return [
            ("feature.id", feature_id),
            ("feature.category", FEATURE_GROUPS[feature_id]),
            ("tenant.id", "string", tenant),
            *more,
        ]

    def home_feature(feature_id: str, event: Event, **placement: str) -> Role:
        """One of the two feature spans of the home page (kind 5), at its own slot and times."""
        return Role(
            "kind = 5",
            name=_lit(f"feature:{feature_id}"),
            attributes=named_feature(feature_id),
            event=event,
            **(feature_span | placement),
        )

    def callee_work(
        where: str,
        resource: str,
        name: str,
        start: str = "s0",
        attributes: Sequence[Attribute] = (),
        scope: str = HTTP_SCOPE,
        kind: str = "INTERNAL",
    ) -> Role:
        """The called service's work under its SERVER span (slot 5), up to its end ``be``."""
        return Role(
            where,
            slot="6",
            parent_slot="5",
            resource=_res(resource),
            scope=_scope(scope),
            name=name,
            kind=kind,
            start=start,
            end="be",
            attributes=attributes,
        )

    def answered_get(where: str, route: str, *attributes: Attribute) -> Role:
        """The entry span of a GET the gateway answers without a feature span."""
        get: list[Attribute] = [("http.request.method", "GET"), ("http.route", route), *attributes]
        return Role(where, name=_lit(f"GET {route}"), attributes=get, **entry_span)

    return [
        Role(
            requests,
            name=f"{method} || ' ' || {route}",
            attributes=gateway_attributes,
            **entry_span,
        ),
        Role(
            requests,
            slot="1",
            parent_slot="0",
            resource="gw_res",
            scope=_scope(REDIS_SCOPE),
            name="'GET'",
            kind="CLIENT",
            start="s + 100000",
            end="s + 100000 + lookup",
            attributes=[
                ("db.system.name", "redis"),
                ("db.operation.name", "GET"),
                ("server.address", "prod-redis-01"),
            ],
        ),
        Role(
            "kind = 0 and not orphan",
            name=feature_name,
            attributes=[
                *feature_attributes,
                (
                    "feature.variant",
                    "string",
                    Expr("case variant when 2 then 'one-click' else 'control' end"),
                ),
            ],
            **feature_span,
        ),
        Role("kind in (1, 2, 4)", name=feature_name, attributes=feature_attributes, **feature_span),
        Role(
            "kind = 3 and flag_on",
            name=feature_name,
            attributes=[*feature_attributes, ("feature.flag.key", FLAG_KEY)],
            event=Event(time="b0", text="'select * from widgets'", count="ev_n", max_count=2),
            **feature_span,
        ),
        # The home page runs two features, one after the other.
        home_feature("advanced-reports", Event(time="b0 + 1000", text="'select 1'"), end="h1e"),
        home_feature(
            "smart-summary",
            Event(time="h2b + 1000", text="'select 1'"),
            slot="3",
            start="h2s",
            end="h2e",
        ),
        Role(
            f"({remote}) and not orphan",
            slot="4",
            parent_slot="(case kind when 8 then 0 else 2 end)",
            resource=f"(case kind when 8 then {_res(WORKER)} else gw_res end)",
            scope=_scope(HTTP_SCOPE),
            name="'POST'",
            kind="CLIENT",
            start="rs",
            end="ce",
            attributes=[
                ("http.request.method", "POST"),
                ("server.address", "string", Expr(f"split_part({remote_route}, '/', 2)")),
            ],
        ),
        Role(
            remote,
            slot="5",
            parent_slot="4",
            resource=callee,
            scope=_scope(HTTP_SCOPE),
            name=f"'POST ' || {remote_route}",
            kind="SERVER",
            start="rs + nw",
            end="se",
            attributes=[
                ("http.request.method", "POST"),
                ("http.route", "string", Expr(remote_route)),
                ("http.response.status_code", 200),
            ],
        ),
        Role(
            "kind in (0, 1, 7, 8)",
            parent_slot="(case when kind in (7, 8) then 0 else 5 end)",
            attributes=[("db.system.name", "postgresql"), *db_common],
            event=Event(time=f"{db_start} + 10000", text=query_text),
            **db_span,
        ),
        Role(
            f"kind = 2 and not ({deprecated})",
            parent_slot="5",
            attributes=[("db.system.name", "postgresql"), *db_common],
            **db_span,
        ),
        # Older instrumentation still sends the deprecated attribute name (moved to the end).
        Role(
            f"kind = 2 and {deprecated}",
            parent_slot="5",
            attributes=[*db_common, ("db.system", "postgresql")],
            **db_span,
        ),
        callee_work(
            "kind = 2",
            "analytics-api@us-east-1",
            "'render report'",
            start=f"db0 + nq * {DB_SLOT_NS}",
        ),
        callee_work(
            "(kind = 3 and flag_on) or kind = 8",
            "inference-service@us-east-1",
            "'model.forward'",
            attributes=[("ml.model.name", "anomaly-detector-v3"), ("ml.batch.size", 32)],
        ),
        callee_work(
            "kind = 4",
            "llm-gateway@us-east-1",
            f"'chat ' || {model}",
            attributes=[
                ("gen_ai.operation.name", "chat"),
                ("gen_ai.provider.name", "openai"),
                ("gen_ai.request.model", "string", Expr(model)),
                ("gen_ai.response.model", "string", Expr(f"{model} || '-2025-04-14'")),
                ("gen_ai.request.temperature", 0.2),
                ("gen_ai.usage.input_tokens", "int", Expr("tokens_in")),
                ("gen_ai.usage.output_tokens", "int", Expr("tokens_out")),
                ("gen_ai.response.finish_reasons", ["stop"]),
            ],
            scope=GENAI_SCOPE,
            kind="CLIENT",
        ),
        # Flag off: the entry point returns at once, with no feature span.
        answered_get(
            "kind = 3 and not flag_on",
            "/api/v1/dashboard/live",
            ("http.response.status_code", 404),
        ),
        answered_get("kind = 6", "/healthz", ("http.response.status_code", 200)),
        answered_get(
            "kind = 7",
            "/api/v1/session",
            ("tenant.id", "string", tenant),
            ("enduser.authenticated", True),
        ),
        Role(
            f"kind = {CONSUMER}",
            resource=_res(CONSUMER_RESOURCE),
            scope=_scope(KAFKA_SCOPE),
            name="'process order-events'",
            kind="CONSUMER",
            attributes=[
                ("messaging.system", "kafka"),
                ("messaging.operation.type", "process"),
                ("messaging.destination.name", "order-events"),
                ("messaging.batch.message_count", CONSUMER_MESSAGES),
            ],
            links=True,
            **root_span,
        ),
        Role(
            "kind = 8",
            resource=_res(WORKER),
            scope=_scope(JOB_SCOPE),
            name="'job:refresh-dashboard-cache'",
            kind="INTERNAL",
            attributes=named_feature(
                FLAGGED_FEATURE, ("job.name", "refresh-dashboard-cache"), ("job.attempt", 1)
            ),
            **root_span,
        ),
    ]


SPAN_KIND = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "CONSUMER": 5}


def _ids(role: Role) -> tuple[str, str]:
    """SQL of a span's parent id ('' for a root) and its own id (hashes of the trace key)."""
    parent = "''" if role.parent_slot is None else _span_id("tk", role.parent_slot)
    return parent, _span_id("tk", role.slot)


def _otlp_columns(role: Role) -> list[str]:
    """``js``: the span as OTLP/JSON text (a ``Span`` object of the protobuf JSON mapping)."""
    parent, span_id = _ids(role)
    pieces: list[str | Expr] = [
        '{"traceId":"',
        Expr("trace_id"),
        '","spanId":"',
        Expr(span_id),
        '","parentSpanId":"',
        Expr(parent),
        '","flags":257,"name":"',
        Expr(role.name),
        f'","kind":{SPAN_KIND[role.kind]},"startTimeUnixNano":"',
        Expr(f"({role.start})::VARCHAR"),
        '","endTimeUnixNano":"',
        Expr(f"({role.end})::VARCHAR"),
        '","attributes":[',
        *_otlp_attributes(role.attributes),
        '],"status":{}',
        Expr(f"""case when sampled then ',"traceState":"{SAMPLED_TRACE_STATE}"' else '' end"""),
    ]
    if role.event is not None:
        event = role.event

        def one(offset: int) -> list[str | Expr]:
            time_expr = f"({event.time} + {offset * event.step})::VARCHAR"
            return [
                '{"timeUnixNano":"',
                Expr(time_expr),
                '","name":"db.query","attributes":[{"key":"db.query.text","value":{"stringValue":"',
                Expr(event.text),
                '"}}]}',
            ]

        events = one(0)
        if event.max_count > 1:
            more = _concat([",", *one(1)])
            events.append(Expr(f"case when {event.count} > 1 then {more} else '' end"))
        pieces += [',"events":[', *events, "]"]
    if role.links:
        link = _concat(
            ['{"traceId":"', Expr("link.trace_id"), '","spanId":"', Expr("link.span_id"), '"}']
        )
        pieces += [
            ',"links":[',
            Expr(f"array_to_string(list_transform(links, lambda link: {link}), ',')"),
            "]",
        ]
    pieces.append("}")
    return [f"{_concat(pieces)} as js"]


def _parquet_columns(role: Role) -> list[str]:
    """The span's columns of the ClickHouse layout, but attributes as lists of structs and
    without the columns that are constant or follow from the resource and scope
    (``_write_parquet`` adds those)."""
    parent, span_id = _ids(role)
    if role.event is None:
        times, names, attrs = (
            "[]::TIMESTAMPTZ_NS[]",
            "[]::VARCHAR[]",
            "[]::STRUCT(key VARCHAR, value VARCHAR)[][]",
        )
    else:
        event = role.event

        def at(offset: int) -> str:
            return f"make_timestamp_ns({event.time} + {offset * event.step})::TIMESTAMPTZ_NS"

        attribute = _key_values([("db.query.text", "string", Expr(event.text))])
        times, names, attrs = f"[{at(0)}]", "['db.query']", f"[{attribute}]"
        if event.max_count > 1:
            many = f"{event.count} > 1"
            times = f"case when {many} then [{at(0)}, {at(1)}] else {times} end"
            names = f"case when {many} then ['db.query', 'db.query'] else {names} end"
            attrs = f"case when {many} then [{attribute}, {attribute}] else {attrs} end"
    return [
        f'make_timestamp_ns({role.start})::TIMESTAMPTZ_NS as "Timestamp"',
        'trace_id as "TraceId"',
        f'{span_id} as "SpanId"',
        f'{parent} as "ParentSpanId"',
        f"case when sampled then '{SAMPLED_TRACE_STATE}' else '' end as \"TraceState\"",
        f'{role.name} as "SpanName"',
        f"'SPAN_KIND_{role.kind}' as \"SpanKind\"",
        f'{_key_values(role.attributes)} as "SpanAttributes"',
        f'({role.end}) - ({role.start}) as "Duration"',
        f'{times} as "Events.Timestamp"',
        f'{names} as "Events.Name"',
        f'{attrs} as "Events.Attributes"',
        *_parquet_links(role),
    ]


def _parquet_links(role: Role) -> list[str]:
    """The ClickHouse layout's ``Links.*`` columns (link attributes as lists of structs)."""
    if not role.links:
        no_text = "[]::VARCHAR[]"
        return [
            f'{no_text} as "Links.TraceId"',
            f'{no_text} as "Links.SpanId"',
            f'{no_text} as "Links.TraceState"',
            '[]::STRUCT(key VARCHAR, value VARCHAR)[][] as "Links.Attributes"',
        ]
    return [
        'list_transform(links, lambda link: link.trace_id) as "Links.TraceId"',
        'list_transform(links, lambda link: link.span_id) as "Links.SpanId"',
        "list_transform(links, lambda link: '') as \"Links.TraceState\"",
        "list_transform(links, lambda link: []::STRUCT(key VARCHAR, value VARCHAR)[])"
        ' as "Links.Attributes"',
    ]


def _chunk_sources() -> str:
    """The CTE every chunk query starts from: ``db`` has one row per database call."""
    return "with db as (select *, unnest(range(nq)) as j from ct)"


def chunk_sql(formats: Sequence[str]) -> str:
    """Every span of the chunk's traces (table ``ct``), with the columns of ``formats``, in
    the order of the OTLP lines: line, resource, scope, trace, span."""
    selects = []
    for role in _roles():
        columns = [
            "line",
            f"{role.resource} as res",
            f"{role.scope} as scope",
            "seq",
            f"{role.slot} as slot",
        ]
        if "otlp" in formats:
            columns += _otlp_columns(role)
        if "parquet" in formats:
            columns += _parquet_columns(role)
        selects.append(f"select {', '.join(columns)} from {role.source} where {role.where}")
    union = "\nunion all\n".join(selects)
    return (
        f"{_chunk_sources()}\nselect * exclude (seq, slot) from (\n{union}\n)"
        "\norder by line, res, scope, seq, slot"
    )


def _map_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """list<struct<key, value>> -> map<string, string> (the same buffers)."""
    return pa.chunked_array(
        [
            pa.MapArray.from_arrays(c.offsets, c.values.field("key"), c.values.field("value"))
            for c in column.chunks
        ]
    )


def _map_list_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """list<list<struct<key, value>>> -> list<map<string, string>>."""
    return pa.chunked_array(
        [
            pa.ListArray.from_arrays(c.offsets, _map_column(pa.chunked_array([c.values])).chunk(0))
            for c in column.chunks
        ]
    )


def _constant(text: str, n: int) -> pa.Array:
    data = text.encode()
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


def _lookup_maps(index: np.ndarray) -> pa.MapArray:
    """Each row's resource attributes, taken from the resources' maps by index."""
    sizes = np.array([len(RESOURCES[k]) for k in RESOURCE_KEYS], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    row_sizes = sizes[index]
    offsets = np.zeros(len(index) + 1, dtype=np.int32)
    np.cumsum(row_sizes, out=offsets[1:])
    entries = np.arange(offsets[-1], dtype=np.int64) - np.repeat(
        offsets[:-1] - starts[index], row_sizes
    )
    return pa.MapArray.from_arrays(
        pa.array(offsets),
        pc.take(RESOURCE_ATTRIBUTE_KEYS, pa.array(entries)),
        pc.take(RESOURCE_ATTRIBUTE_VALUES, pa.array(entries)),
    )


RESOURCE_ATTRIBUTE_KEYS = pa.array([k for key in RESOURCE_KEYS for k in RESOURCES[key]])
RESOURCE_ATTRIBUTE_VALUES = pa.array(
    [stringify(v) for key in RESOURCE_KEYS for v in RESOURCES[key].values()]
)
SERVICE_NAMES = pa.array([str(RESOURCES[k]["service.name"]) for k in RESOURCE_KEYS])
SCOPE_NAMES = pa.array(SCOPES)
SCOPE_VERSION_VALUES = pa.array([SCOPE_VERSIONS[s] for s in SCOPES])


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write a chunk in the demo's layout (``feature_cost.clickhouse.SCHEMA``), zstd."""
    n = table.num_rows
    res = table.column("res").to_numpy().astype(np.int64)
    scope = pa.array(table.column("scope").to_numpy())
    columns = {
        "ServiceName": pc.take(SERVICE_NAMES, pa.array(res)),
        "ResourceAttributes": _lookup_maps(res),
        "ScopeName": pc.take(SCOPE_NAMES, scope),
        "ScopeVersion": pc.take(SCOPE_VERSION_VALUES, scope),
        "SpanAttributes": _map_column(table.column("SpanAttributes")),
        "StatusCode": _constant("STATUS_CODE_UNSET", n),
        "StatusMessage": _constant("", n),
        "Events.Attributes": _map_list_column(table.column("Events.Attributes")),
        "Links.Attributes": _map_list_column(table.column("Links.Attributes")),
    }
    arrays = [
        (columns[c.name] if c.name in columns else table.column(c.name)).cast(c.type)
        for c in SCHEMA
    ]
    pq.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA), path, compression="zstd")


# --- the traces of a day ------------------------------------------------------------------


def _flag_on(config: DemoConfig) -> str:
    """SQL: is the dashboard flag on for ``tenant`` at ``s`` (the demo's ``flag_enabled``)."""
    changes = sorted(flag_history(config), key=lambda c: c.changed_at)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    whens = []
    for index, tenant in enumerate(TENANT_IDS):
        mine = [c for c in changes if c.tenant_id in (None, tenant)]
        cases = " ".join(
            f"when s >= {int((c.changed_at - epoch).total_seconds()) * 10**9} then "
            f"{'true' if c.enabled else 'false'}"
            for c in reversed(mine)
        )
        whens.append(f"when {index} then (case {cases} else false end)" if cases else "")
    return f"(case tenant {' '.join(w for w in whens if w)} else false end)"


def _trace_columns(day_start: int, flag_on: str, source: str) -> str:
    """From (t, tk, kind, tenant, s, long_job): every per-trace choice and time anchor."""
    return f"""
with a as (
    select *,
        {_int("tk", 5, 1, 2)} as variant,
        {_u("tk", 6)} as u_nq,
        {_u("tk", 7)} < 0.01 as orphan_draw,
        {_int("tk", 8, 0, 1)} as model,
        {_int("tk", 9, 400, 4000)} as tokens_in,
        {_int("tk", 10, 80, 900)} as tokens_out,
        {_int("tk", 11, 1, 2)} as ev_n,
        {_int("tk", 12, 0, 1)} as hz_region,
        {_ms("tk", 20, 0.2, 1.2)} as lookup,
        {_ms("tk", 24, 0.5, 2.0)} as nw
    from {source}
),
b as (
    select *,
        {flag_on} as flag_on,
        kind = 0 and orphan_draw as orphan,
        case kind
            when 0 then 3 + floor(u_nq * 4)::BIGINT + (case when variant = 2 then 2 else 0 end)
            when 1 then 1 + floor(u_nq * 3)::BIGINT
            when 2 then 2 + floor(u_nq * 7)::BIGINT
            when 7 then 1
            when 8 then 2
            else 0
        end as nq,
        case
            when kind = 6 then (case hz_region when 0 then 0 else 1 end)
            when kind = 8 then {_res(WORKER)}
            when kind = {CONSUMER} then {_res(CONSUMER_RESOURCE)}
            else {_gateway()}
        end as gw_res,
        kind in (6, 7) as sampled,
        s + lookup + {_ms("tk", 21, 0.5, 3.0)} as f0
    from a
),
c as (
    select *,
        f0 + {_ms("tk", 22, 0.5, 4.0)} as b0,
        case kind when 7 then s + 500000 when 8 then s + 1000000 end as db0_other
    from b
),
d as (
    select *,
        case kind
            when 0 then b0 + {_ms("tk", 23, 1.0, 6.0)}
            when 1 then b0 + {_ms("tk", 23, 1.0, 6.0)}
            when 3 then b0 + {_ms("tk", 23, 1.0, 3.0)}
            when 8 then s + 1000000 + 2 * {DB_SLOT_NS}
            else b0
        end as rs,
        b0 + {_ms("tk", 23, 2.0, 15.0)} + {_ms("tk", 28, 0.5, 4.0)} as h1e
    from c
),
e as (
    select *,
        rs + nw + {_ms("tk", 25, 0.3, 1.5)} as s0,
        h1e + {_ms("tk", 31, 0.1, 1.0)} as h2s
    from d
),
f as (
    select *,
        coalesce(db0_other, s0) as db0,
        case kind
            when 0 then s0 + nq * {DB_SLOT_NS}
            when 1 then s0 + nq * {DB_SLOT_NS}
            when 2 then s0 + nq * {DB_SLOT_NS} + {_ms("tk", 26, 40.0, 250.0)}
            when 3 then s0 + {_ms("tk", 26, 20.0, 90.0)}
            when 4 then s0 + {_ms("tk", 26, 300.0, 1800.0)}
            when 8 then s0 + (case when long_job then {_ms("tk", 26, 25000.0, 35000.0)}
                                   else {_ms("tk", 26, 40.0, 150.0)} end)
        end as be,
        h2s + {_ms("tk", 32, 0.5, 4.0)} as h2b
    from e
),
g as (
    select *,
        be + {_ms("tk", 27, 0.3, 2.0)} as se,
        h2b + {_ms("tk", 33, 2.0, 15.0)} + {_ms("tk", 34, 0.5, 4.0)} as h2e
    from f
),
h as (
    select *,
        se + nw as ce,
        case when kind = 5 then h2e else se + nw + {_ms("tk", 28, 0.5, 4.0)} end as fe
    from g
)
select *,
    case
        when kind = 3 and not flag_on then s + {_ms("tk", 35, 0.3, 1.5)}
        when kind = 6 then s + {_ms("tk", 35, 0.1, 0.8)}
        when kind = 7 then s + 500000 + {DB_SLOT_NS} + {_ms("tk", 35, 0.5, 2.0)}
        when kind = 8 then ce + 1000000
        when kind = {CONSUMER} then s + {_ms("tk", 35, 2.0, 20.0)}
        else fe + {_ms("tk", 29, 0.1, 1.0)} + {_ms("tk", 30, 0.5, 3.0)}
    end as ge,
    case kind
        when 0 then (case when orphan then nq + 1 else nq + 5 end)
        when 1 then nq + 5
        when 2 then nq + 6
        when 3 then (case when flag_on then 6 else 1 end)
        when 4 then 6
        when 5 then 4
        when 6 then 1
        when 7 then 2
        when 8 then 6
        when {CONSUMER} then 1
    end as n_spans,
    case kind when 0 then 0 when 1 then 1 when 2 then 2 when 3 then 3 when 4 then 4 end
        as feature,
    {day_start}::BIGINT as day_start
from h
"""


def _request_rows(salt: int, day_start: int, first: int, count: int, healthz: bool) -> str:
    """Requests ``first``..``first + count - 1`` of a day: kind, tenant and start."""
    hour_ns = 3_600 * 10**9
    kind = "6" if healthz else _weighted(_u("tk", 1), KIND_WEIGHTS)
    return f"""
select t, tk, {kind} as kind, {_weighted(_u("tk", 2), [w for _, w in TENANTS.values()])}
        as tenant,
    {day_start} + {_weighted(_u("tk", 3), HOURLY_WEIGHTS)} * {hour_ns}
        + floor({_u("tk", 4)} * {hour_ns})::BIGINT as s,
    false as long_job,
    {NO_LINKS} as links
from (
    select t, {_trace_key(salt, "t")} as tk
    from range({first}, {first + count}) as r(t)
)
"""


def _job_rows(salt: int, day_start: int, config: BenchConfig) -> str:
    """The refresh jobs of a day, and the one that starts 20 s before midnight."""
    step = config.job_interval_minutes * 60 * 10**9
    per_tenant = config.jobs_per_tenant
    base = 1 << 30
    acme = TENANT_IDS.index("tenant-acme")
    long_job = base + 999_999
    return f"""
select t, tk, {JOB} as kind, tenant, s, long_job, {NO_LINKS} as links from (
    select t, tk, (t - {base}) // {per_tenant} as tenant,
        {day_start} + {7 * 60 * 10**9} + ((t - {base}) % {per_tenant}) * {step}
            + floor({_u("tk", 4)} * {60 * 10**9})::BIGINT as s,
        false as long_job
    from (
        select t, {_trace_key(salt, "t")} as tk
        from range({base}, {base + len(TENANTS) * per_tenant}) as r(t)
    )
    union all
    select {long_job}::BIGINT as t, {_trace_key(salt, str(long_job))} as tk,
        {acme} as tenant, {day_start + NS_PER_DAY - 20 * 10**9} as s, true as long_job
)
"""


def _consumer_rows(salt: int, day_start: int, count: int, requests: int) -> str:
    """The order-events consumer's ``count`` batches of a day, spread over it, each with links
    to the root spans of ``CONSUMER_LINKS`` requests among the day's first ``requests``."""
    base = 1 << 31
    step = NS_PER_DAY // max(count, 1)
    target = _trace_key(salt, "r")
    link = f"{{'trace_id': {_trace_id(target)}, 'span_id': {_span_id(target, '0')}}}"
    picks = ", ".join(
        f"floor({_u('tk', 40 + k)} * {requests})::BIGINT" for k in range(CONSUMER_LINKS)
    )
    return f"""
select t, tk, {CONSUMER} as kind, 0 as tenant,
    {day_start} + (t - {base}) * {step} + floor({_u("tk", 4)} * {step // 2})::BIGINT as s,
    false as long_job,
    list_transform([{picks}], lambda r: {link}) as links
from (
    select t, {_trace_key(salt, "t")} as tk
    from range({base}, {base + count}) as r(t)
)
"""


def _build_day(
    con: duckdb.DuckDBPyConnection, config: BenchConfig, day: date, flag_on: str
) -> tuple[int, int]:
    """Build table ``dt``: the day's traces with their chunk and line; (traces, chunks)."""
    salt = random.Random(f"{config.seed}:{day.isoformat()}").getrandbits(64)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    day_start = int((datetime.combine(day, datetime.min.time(), UTC) - epoch).total_seconds())
    day_start *= 10**9
    target = config.spans_per_day - config.job_spans_per_day - config.consumer_spans_per_day
    # Draw a few more requests than needed, keep them while the day has room, then pad.
    count = int(target / 7.0 * 1.05) + 32
    con.execute(
        "create or replace temp table req as "
        + _trace_columns(
            day_start,
            flag_on,
            f"({_request_rows(salt, day_start, 0, count, healthz=False)})",
        )
    )
    kept, used = con.execute(
        f"""
        select coalesce(max(t), -1), coalesce(max(cum), 0) from (
            select t, sum(n_spans) over (order by t rows unbounded preceding) as cum from req
        ) where cum <= {target}
        """
    ).fetchall()[0]
    con.execute(f"delete from req where t > {kept}")
    padding = target - used
    if padding:
        con.execute(
            "insert into req "
            + _trace_columns(
                day_start,
                flag_on,
                f"({_request_rows(salt, day_start, count, padding, healthz=True)})",
            )
        )
    con.execute(
        "insert into req "
        + _trace_columns(day_start, flag_on, f"({_job_rows(salt, day_start, config)})")
    )
    if config.consumer_spans_per_day:
        batches = _consumer_rows(salt, day_start, config.consumer_spans_per_day, kept + 1)
        con.execute("insert into req " + _trace_columns(day_start, flag_on, f"({batches})"))
    total, traces = con.execute("select sum(n_spans), count(*) from req").fetchall()[0]
    assert total == config.spans_per_day, (total, config.spans_per_day)
    chunks = max(1, -(-total // config.spans_per_file))
    con.execute(
        f"""
        create or replace temp table dt as
        select *,
            ((cum_before * {chunks}) // {total})::BIGINT as chunk,
            (cum_before // {config.spans_per_line})::BIGINT as line
        from (
            select *,
                row_number() over (order by s, t) as seq,
                coalesce(sum(n_spans) over (
                    order by s, t rows between unbounded preceding and 1 preceding
                ), 0)::BIGINT as cum_before,
                {_trace_id("tk")} as trace_id
            from req
        )
        """
    )
    return traces, chunks


def _day_stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Feature invocations (revenue) and busy seconds (the bill) of table ``dt``."""
    features = con.execute(
        f"""
        select day, feature_id, tenant_id, count(*)::BIGINT from (
            select f0 // {NS_PER_DAY} as day, {_pick("feature", FEATURES)} as feature_id,
                   tenant
            from dt where kind in (0, 1, 2, 4) and not orphan
                or (kind = 3 and flag_on)
            union all
            select f0 // {NS_PER_DAY}, 'advanced-reports', tenant from dt where kind = 5
            union all
            select h2s // {NS_PER_DAY}, 'smart-summary', tenant from dt where kind = 5
            union all
            select s // {NS_PER_DAY}, '{FLAGGED_FEATURE}', tenant from dt where kind = 8
        ) join (select unnest(range({len(TENANT_IDS)})) as tenant,
                       unnest({TENANT_IDS!r}) as tenant_id) using (tenant)
        group by all order by all
        """
    ).fetchall()
    # Seconds each service spends in its outermost spans: the roots, and the remote servers
    # (a sampled span stands for 1 / sampling probability spans).
    callee = " ".join(f"when {k} then {_res(v[1])}" for k, v in REMOTE.items())
    busy = con.execute(
        f"""
        select day, res, sum(ns * weight)::DOUBLE / 1e9 from (
            select s // {NS_PER_DAY} as day, gw_res as res, ge - s as ns,
                   case when sampled then 2 else 1 end as weight
            from dt where kind != 0 or not orphan
            union all
            select (rs + nw) // {NS_PER_DAY}, (case kind {callee} end), se - (rs + nw), 1
            from dt where (kind <= 4 and not (kind = 3 and not flag_on)) or kind = 8
        ) group by all order by all
        """
    ).fetchall()
    epoch = date(1970, 1, 1)
    return {
        "feature_requests": [
            [(epoch + timedelta(days=d)).isoformat(), f, t, n] for d, f, t, n in features
        ],
        "busy_seconds": [
            [(epoch + timedelta(days=d)).isoformat(), RESOURCE_KEYS[r], s] for d, r, s in busy
        ],
    }


# --- writing -------------------------------------------------------------------------------


def _line_pieces() -> tuple[pa.Array, pa.Array]:
    """Text before a span (by state, resource and scope) and after it (by closing depth)."""
    resources = [
        '{"resource":{"attributes":'
        + json.dumps(
            [{"key": k, "value": any_value(v)} for k, v in RESOURCES[key].items()],
            separators=(",", ":"),
        )
        + '},"scopeSpans":['
        for key in RESOURCE_KEYS
    ]
    scopes = [
        '{"scope":'
        + json.dumps({"name": s, "version": SCOPE_VERSIONS[s]}, separators=(",", ":"))
        + ',"spans":['
        for s in SCOPES
    ]
    before = []
    for state in range(4):  # 0 new line, 1 new resource, 2 new scope, 3 next span
        for resource in resources:
            for scope in scopes:
                before.append(
                    (
                        '{"resourceSpans":[' + resource + scope,
                        "," + resource + scope,
                        "," + scope,
                        ",",
                    )[state]
                )
    closing = f'],"schemaUrl":"{SCHEMA_URL}"}}'
    after = ["", "]}", "]}" + closing, "]}" + closing + "]}\n"]
    return pa.array(before, pa.string()), pa.array(after, pa.string())


BEFORE, AFTER = _line_pieces()


def _write_lines(table: pa.Table, handle: Any) -> None:
    """Write sorted span rows (line, res, scope, js) as TracesData lines."""
    n = table.num_rows
    if n == 0:
        return
    line = table.column("line").to_numpy()
    res = table.column("res").to_numpy().astype(np.int64)
    scope = table.column("scope").to_numpy().astype(np.int64)
    new_line = np.ones(n, dtype=bool)
    new_line[1:] = line[1:] != line[:-1]
    new_res = new_line.copy()
    new_res[1:] |= res[1:] != res[:-1]
    new_scope = new_res.copy()
    new_scope[1:] |= scope[1:] != scope[:-1]
    state = np.where(new_line, 0, np.where(new_res, 1, np.where(new_scope, 2, 3)))
    before_code = (state * len(RESOURCE_KEYS) + res) * len(SCOPES) + scope
    end_scope = np.append(new_scope[1:], True)
    end_res = np.append(new_res[1:], True)
    end_line = np.append(new_line[1:], True)
    after_code = end_scope.astype(np.int8) + end_res + end_line
    before = pc.take(BEFORE, pa.array(before_code))
    after = pc.take(AFTER, pa.array(after_code))
    offset = 0
    for chunk in table.column("js").chunks:
        size = len(chunk)
        if chunk.type != pa.string():
            chunk = chunk.cast(pa.large_string())
        joined = pc.binary_join_element_wise(
            before.slice(offset, size).cast(chunk.type),
            chunk,
            after.slice(offset, size).cast(chunk.type),
            "",
        )
        offset += size
        if joined.null_count:
            raise AssertionError("a span rendered as null")
        offsets_type = np.int64 if joined.type == pa.large_string() else np.int32
        _, offsets, data = joined.buffers()
        bounds = np.frombuffer(offsets, dtype=offsets_type)[
            joined.offset : joined.offset + len(joined) + 1
        ]
        handle.write(memoryview(data)[int(bounds[0]) : int(bounds[-1])])


def _write_otlp_file(table: pa.Table, path: Path) -> None:
    with path.open("wb") as handle:
        _write_lines(table, handle)


def generate(
    config: BenchConfig,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    side_inputs: bool = True,
) -> BenchData:
    """Write the spans of every day (OTLP and/or Parquet), per-day stats and, unless told
    otherwise, the revenue, flag and billing inputs covering the generated days.

    One chunk (about ``spans_per_file`` spans) is in memory at a time, whatever the size.
    """
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    dirs = {"otlp": out_dir / "otlp", "parquet": out_dir / "clickhouse"}
    # One data set per directory: files of an earlier run would mix with this one's.
    for folder, pattern in (
        (dirs["otlp"], "*.jsonl"),
        (dirs["parquet"], "*.parquet"),
        (out_dir / "stats", "*.json"),
    ):
        for stale in folder.glob(pattern):
            stale.unlink()
    for fmt in config.formats:
        dirs[fmt].mkdir(parents=True, exist_ok=True)
    (out_dir / "stats").mkdir(exist_ok=True)
    files: dict[str, list[Path]] = {fmt: [] for fmt in config.formats}
    spans = traces = 0
    demo_config = DemoConfig(seed=config.seed, days=config.days, start_date=config.start_date)
    flag_on = _flag_on(demo_config)
    sql = chunk_sql(config.formats)
    writers = {"otlp": _write_otlp_file, "parquet": _write_parquet}
    names = {"otlp": "traces-{}.jsonl", "parquet": "spans-{}.parquet"}
    with tempfile.TemporaryDirectory(prefix="bench-data-") as spill:
        con = duckdb.connect(
            config={
                "threads": config.threads,
                "memory_limit": config.memory_limit,
                "temp_directory": spill,
                "preserve_insertion_order": True,
            }
        )
        try:
            for day in config.dates:
                day_traces, chunks = _build_day(con, config, day, flag_on)
                stats = _day_stats(con)
                (out_dir / "stats" / f"{day.isoformat()}.json").write_text(
                    json.dumps({"date": day.isoformat(), **stats}) + "\n", encoding="utf-8"
                )
                for chunk in range(chunks):
                    con.execute(
                        f"create or replace temp table ct as select * from dt where chunk = {chunk}"
                    )
                    (expected,) = con.execute("select sum(n_spans) from ct").fetchall()[0]
                    table = con.sql(sql).to_arrow_table()
                    if table.num_rows != expected:
                        raise AssertionError(
                            f"{table.num_rows} spans rendered, the traces have {expected}"
                        )
                    for fmt in config.formats:
                        path = dirs[fmt] / names[fmt].format(f"{day.isoformat()}-{chunk:04d}")
                        writers[fmt](table, path)
                        files[fmt].append(path)
                    del table
                spans += config.spans_per_day
                traces += day_traces
                if progress:
                    progress(f"{day.isoformat()}: {config.spans_per_day:,} spans, {chunks} files")
        finally:
            con.close()
    if side_inputs:
        write_side_inputs(out_dir, config.dates, seed=config.seed)
    manifest = {
        "generator": "feature_cost.bench_data",
        "data_version": DATA_VERSION,
        "config": {
            **{k: v for k, v in config.__dict__.items() if k not in ("threads", "memory_limit")},
            "start_date": config.start_date.isoformat(),
            "formats": list(config.formats),
        },
        "spans": spans,
        "traces": traces,
        "files": {fmt: [p.name for p in paths] for fmt, paths in files.items()},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BenchData(out_dir, files, spans, traces, time.perf_counter() - began)


def write_side_inputs(out_dir: Path, days: Sequence[date], seed: int = 7) -> None:
    """Revenue, feature flags and the FOCUS bill for ``days``, from ``stats/<day>.json``.

    ``days`` are consecutive days from the data set's start date (the flag history starts on
    the first). The demo's writers, fed with the generated days' feature invocations and busy
    seconds: every day listed is covered (a day that has no stats file, such as a day a
    benchmark will add later, is billed for its shared pools only and earns no revenue).
    """
    requests: Counter[tuple[str, str, str]] = Counter()
    busy: dict[tuple[date, str], float] = {}
    for day in days:
        path = out_dir / "stats" / f"{day.isoformat()}.json"
        if not path.exists():
            continue
        stats = json.loads(path.read_text(encoding="utf-8"))
        for span_day, feature, tenant, count in stats["feature_requests"]:
            requests[(span_day, feature, tenant)] += count
        for span_day, service, seconds in stats["busy_seconds"]:
            key = (date.fromisoformat(span_day), service)
            busy[key] = busy.get(key, 0.0) + seconds
    days = sorted(days)
    for sub in ("revenue", "feature_flags", "billing"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    _write_revenue(out_dir / "revenue" / "revenue.csv", requests, random.Random(seed))
    demo_config = DemoConfig(seed=seed, days=len(days), start_date=days[0])
    _write_flags(out_dir / "feature_flags" / "feature_flags.csv", flag_history(demo_config))
    write_focus_csv(
        out_dir / "billing" / "focus.csv",
        # One instance per service and region, running all day on every day it has work.
        focus_rows(
            {key: [1] * 24 for key, seconds in busy.items() if seconds > 0},
            list(days),
            random.Random(seed + 1),
        ),
    )


def link_days(source: Path, target: Path, days: Iterable[date], formats: Sequence[str]) -> None:
    """Hard-link (or copy) the span files of ``days`` from one data directory to another."""
    subdirs = {
        "otlp": ("otlp", "traces-{}-*.jsonl"),
        "parquet": ("clickhouse", "spans-{}-*.parquet"),
    }
    for fmt in formats:
        sub, pattern = subdirs[fmt]
        (target / sub).mkdir(parents=True, exist_ok=True)
        for day in days:
            for path in sorted((source / sub).glob(pattern.format(day.isoformat()))):
                destination = target / sub / path.name
                if destination.exists():
                    continue
                try:
                    destination.hardlink_to(path)
                except OSError:
                    shutil.copy2(path, destination)
    (target / "stats").mkdir(parents=True, exist_ok=True)
    for day in days:
        stats = source / "stats" / f"{day.isoformat()}.json"
        if stats.exists():
            shutil.copy2(stats, target / "stats" / stats.name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feature_cost.bench_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    defaults = BenchConfig()
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--spans-per-day", type=int, default=defaults.spans_per_day)
    parser.add_argument("--start-date", type=date.fromisoformat, default=defaults.start_date)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--format", dest="formats", nargs="+", choices=FORMATS, default=defaults.formats
    )
    parser.add_argument("--spans-per-file", type=int, default=defaults.spans_per_file)
    parser.add_argument("--spans-per-line", type=int, default=defaults.spans_per_line)
    parser.add_argument("--job-interval-minutes", type=int, default=defaults.job_interval_minutes)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--memory-limit", default=defaults.memory_limit)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    options = {f.name: getattr(args, f.name) for f in fields(BenchConfig)}
    config = BenchConfig(**{**options, "formats": tuple(args.formats)})
    data = generate(config, args.out, progress=None if args.quiet else print)
    print(
        f"{data.spans:,} spans, {data.traces:,} traces in {data.seconds:.1f} s:"
        f" {data.spans_per_second:,.0f} spans/s ({' + '.join(config.formats)}) -> {args.out}"
    )
    for fmt in config.formats:
        size = sum(p.stat().st_size for p in data.files[fmt]) / 2**20
        print(f"  {fmt}: {len(data.files[fmt])} files, {size:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
