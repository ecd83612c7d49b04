"""Encode spans as OTLP/JSON the way the OpenTelemetry Collector's file exporter writes them.

The protobuf JSON mapping used by OTLP (opentelemetry-proto, "JSON Protobuf Encoding"):
trace and span ids are lowercase hex strings, 64-bit integers (timestamps, ``intValue``)
are decimal strings, enums (span kind, status code) are integers, and attributes are
``{"key": ..., "value": {"<type>Value": ...}}`` pairs. One ``TracesData`` object per line.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SPAN_KIND = {
    "UNSPECIFIED": 0,
    "INTERNAL": 1,
    "SERVER": 2,
    "CLIENT": 3,
    "PRODUCER": 4,
    "CONSUMER": 5,
}
STATUS_CODE = {"UNSET": 0, "OK": 1, "ERROR": 2}

AttributeValue = str | bool | int | float | bytes | Sequence[Any] | Mapping[str, Any]


def any_value(value: AttributeValue) -> dict[str, Any]:
    """Encode one attribute value as an OTLP ``AnyValue``."""
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": key_values(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    raise TypeError(f"cannot encode attribute value of type {type(value).__name__}")


def key_values(attributes: Mapping[str, AttributeValue]) -> list[dict[str, Any]]:
    """Encode a mapping as an OTLP ``KeyValue`` list, in insertion order."""
    return [{"key": k, "value": any_value(v)} for k, v in attributes.items()]


@dataclass
class Event:
    name: str
    time_unix_nano: int
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    def to_otlp(self) -> dict[str, Any]:
        return {
            "timeUnixNano": str(self.time_unix_nano),
            "name": self.name,
            "attributes": key_values(self.attributes),
        }


@dataclass
class Link:
    """A link to a span of another trace (e.g. the producer of a message a consumer read)."""

    trace_id: str
    span_id: str
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    def to_otlp(self) -> dict[str, Any]:
        return {
            "traceId": self.trace_id,
            "spanId": self.span_id,
            "attributes": key_values(self.attributes),
        }


@dataclass
class Span:
    """A finished span, with the resource (service) and scope that emitted it."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    start_unix_nano: int
    end_unix_nano: int
    service: str
    scope: str
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    status: str = "UNSET"
    trace_state: str = ""
    links: list[Link] = field(default_factory=list)

    def to_otlp(self) -> dict[str, Any]:
        span: dict[str, Any] = {
            "traceId": self.trace_id,
            "spanId": self.span_id,
            "parentSpanId": self.parent_span_id,
            "flags": 257,
            "name": self.name,
            "kind": SPAN_KIND[self.kind],
            "startTimeUnixNano": str(self.start_unix_nano),
            "endTimeUnixNano": str(self.end_unix_nano),
            "attributes": key_values(self.attributes),
            "status": {"code": STATUS_CODE[self.status]} if self.status != "UNSET" else {},
        }
        if self.trace_state:
            span["traceState"] = self.trace_state
        if self.events:
            span["events"] = [e.to_otlp() for e in self.events]
        if self.links:
            span["links"] = [link.to_otlp() for link in self.links]
        return span


def traces_data(
    spans: Iterable[Span],
    resources: Mapping[str, Mapping[str, AttributeValue]],
    scope_versions: Mapping[str, str],
) -> dict[str, Any]:
    """Group spans by resource, then scope, into one ``TracesData`` object."""
    by_resource: dict[str, dict[str, list[Span]]] = {}
    for span in spans:
        by_resource.setdefault(span.service, {}).setdefault(span.scope, []).append(span)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values(resources[service])},
                "scopeSpans": [
                    {
                        "scope": {"name": scope, "version": scope_versions.get(scope, "")},
                        "spans": [s.to_otlp() for s in scope_spans],
                    }
                    for scope, scope_spans in scopes.items()
                ],
                "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
            }
            for service, scopes in by_resource.items()
        ]
    }


def dumps_line(data: Mapping[str, Any]) -> str:
    """One JSON Lines record, compact as the file exporter writes it."""
    return json.dumps(data, separators=(",", ":"))
