"""Write spans in the layout of the OpenTelemetry Collector's ClickHouse exporter.

The exporter's `otel_traces` table holds one row per span: `Timestamp` (start, ns),
`TraceId`, `SpanId`, `ParentSpanId`, `TraceState`, `SpanName`, `SpanKind` and `StatusCode` as
strings, `ServiceName`, `ResourceAttributes` and `SpanAttributes` as string maps (every value
stringified), `Duration` in nanoseconds, and the nested `Events.*` and `Links.*` columns as
parallel arrays. Exported to Parquet, that is what a warehouse loads; the demo writes the same
spans in this layout so both inputs can be compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from feature_cost.otlp import AttributeValue, Span

_STRING_MAP = pa.map_(pa.string(), pa.string())
_TIMESTAMP = pa.timestamp("ns", tz="UTC")

SCHEMA = pa.schema(
    [
        ("Timestamp", _TIMESTAMP),
        ("TraceId", pa.string()),
        ("SpanId", pa.string()),
        ("ParentSpanId", pa.string()),
        ("TraceState", pa.string()),
        ("SpanName", pa.string()),
        ("SpanKind", pa.string()),
        ("ServiceName", pa.string()),
        ("ResourceAttributes", _STRING_MAP),
        ("ScopeName", pa.string()),
        ("ScopeVersion", pa.string()),
        ("SpanAttributes", _STRING_MAP),
        ("Duration", pa.int64()),
        ("StatusCode", pa.string()),
        ("StatusMessage", pa.string()),
        ("Events.Timestamp", pa.list_(_TIMESTAMP)),
        ("Events.Name", pa.list_(pa.string())),
        ("Events.Attributes", pa.list_(_STRING_MAP)),
        ("Links.TraceId", pa.list_(pa.string())),
        ("Links.SpanId", pa.list_(pa.string())),
        ("Links.TraceState", pa.list_(pa.string())),
        ("Links.Attributes", pa.list_(_STRING_MAP)),
    ]
)


def stringify(value: AttributeValue) -> str:
    """An attribute value as the exporter stringifies it (arrays and maps as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping | Sequence):
        return json.dumps(value, separators=(",", ":"))
    raise TypeError(f"cannot stringify attribute value of type {type(value).__name__}")


def _string_map(attributes: Mapping[str, AttributeValue]) -> list[tuple[str, str]]:
    return [(key, stringify(value)) for key, value in attributes.items()]


def span_row(
    span: Span,
    resources: Mapping[str, Mapping[str, AttributeValue]],
    scope_versions: Mapping[str, str],
) -> dict[str, Any]:
    """One `otel_traces` row for a span."""
    resource = resources[span.service]
    return {
        "Timestamp": span.start_unix_nano,
        "TraceId": span.trace_id,
        "SpanId": span.span_id,
        "ParentSpanId": span.parent_span_id,
        "TraceState": span.trace_state,
        "SpanName": span.name,
        "SpanKind": f"SPAN_KIND_{span.kind}",
        "ServiceName": str(resource["service.name"]),
        "ResourceAttributes": _string_map(resource),
        "ScopeName": span.scope,
        "ScopeVersion": scope_versions.get(span.scope, ""),
        "SpanAttributes": _string_map(span.attributes),
        "Duration": span.end_unix_nano - span.start_unix_nano,
        "StatusCode": f"STATUS_CODE_{span.status}",
        "StatusMessage": "",
        "Events.Timestamp": [e.time_unix_nano for e in span.events],
        "Events.Name": [e.name for e in span.events],
        "Events.Attributes": [_string_map(e.attributes) for e in span.events],
        "Links.TraceId": [link.trace_id for link in span.links],
        "Links.SpanId": [link.span_id for link in span.links],
        "Links.TraceState": ["" for _ in span.links],
        "Links.Attributes": [_string_map(link.attributes) for link in span.links],
    }


def write_parquet(
    path: Path,
    spans: Sequence[Span],
    resources: Mapping[str, Mapping[str, AttributeValue]],
    scope_versions: Mapping[str, str],
) -> None:
    """Write spans as one Parquet file in the `otel_traces` layout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [span_row(s, resources, scope_versions) for s in spans]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd")
