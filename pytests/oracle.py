"""An independent, pure-Python computation of every cost column of ``feature_cost_margin``.

This module re-implements the cost rules from their written specification (reading,
screening, attribution, feature-flag gating, busy time, counts, rate-card and token pricing,
shared pools, amortization and reconciliation to the bill) with nothing but the standard
library, so the end-to-end tests can compare dbt's mart with numbers that share no code and no
SQL with the models. It deliberately never imports ``duckdb``.

Rules, in the order they are applied (numbers and letters refer to the briefs the tests were
written from):

1. Every non-blank line of every file the glob matches, files in sorted path order, lines
   numbered from 1; a line that is not valid JSON is skipped. Attribute keys: first occurrence
   wins.
2. Trace and span ids are lowercased and stripped. A span is quarantined when its trace id is
   not 32 hex digits or all zeros, its span id not 16 hex digits or all zeros, its start or
   end is missing or unparseable, its start <= 0, its end < start, it starts before
   2020-01-01, it lasts more than 24 h, or it starts or ends more than 24 h after "now". Of
   the rest, the first (file, line, position) occurrence of each (trace id, span id) is kept.
   Files compressed with gzip or zstd are decompressed; a line that is not UTF-8 is skipped.
3. Attribution through the trace (own ``feature.id``, else the nearest ancestor's; else the
   trace's only feature; else ``__unattributed__``), the tenant travelling with the feature.
4. Flag gating: gated work moves to ``__flag_off__`` but keeps the original rate card.
5. Busy time: duration minus the merged union of same-service children, split by UTC day.
6. Counts (invocations, queries) go to the start day.
7. Pricing with the most specific rate card in force that day.
8. Aggregation per (day, final feature, tenant), plus revenue.

A. LLM cost on the start day: tokens x the model's price in force that day; no pool claims it.
B. Pool cost per (resource, day): the mapped FOCUS charges by day fraction when the bill has
   the resource-day, else the cost seed's periods spread evenly over their days.
C. Claims: on a day its pool has a cost, a compute pool (service_compute, gpu_pool) pays for
   the cpu, memory and gpu cost of the span-days in its scope, a database or cache for their
   query cost; the mart's rate-card columns keep only what is unclaimed.
D. Shared allocation per (day, resource) over the (feature, tenant) pairs in scope by the
   allocation key (``__idle__`` when nobody drives it; fixed_pct by the seed's shares), with
   a low/high range from the query-count and busy-time alternatives.
E. Build cost and maintenance tax per day of the reporting window, split to tenants by their
   requests of the feature that day (``__shared__`` when none).
F. Reconciliation: the compute of H (shares and idle) x billed / estimated per (month,
   service, region), where estimated is the capacity of the group's instance-hours.
G. total_cost, cost_low and cost_high from the components.
H. Capacity (rule 14): the unclaimed, priced span-days of one instance (service, region and
   ``service.instance.id``, else ``k8s.pod.uid``, ``container.id``, ``faas.instance``,
   ``host.id``, ``host.name``, else one per service and region) are spread over the UTC
   hours they ran in by their own busy time in each (elapsed time less where their
   same-service children ran). An hour of the instance costs 1 h x Σ rate-card
   compute / Σ weighted busy time of its day, for every hour from its first to its last that
   day. Work in an hour pays its rate-card compute x min(1, capacity / work cost); the rest
   of the capacity is ``__idle__`` (tenant ``__shared__``), in the capacity's cpu / memory /
   gpu proportions.
"""

from __future__ import annotations

import base64
import calendar
import csv
import glob
import gzip
import hashlib
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

NS_PER_DAY = 86_400 * 1_000_000_000
NS_PER_MS = 1_000_000
FUTURE_TOLERANCE_NS = 24 * 3_600 * 1_000_000_000
MAX_DURATION_NS = 24 * 3_600 * 1_000_000_000
EARLIEST_START_NS = 1_577_836_800 * 1_000_000_000  # 2020-01-01T00:00:00Z
EPOCH_DAY = date(1970, 1, 1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

UNATTRIBUTED = "__unattributed__"
FLAG_OFF = "__flag_off__"
SHARED_TENANT = "__shared__"
LINKED = "__linked__"
MAX_LINK_HOPS = 8
UNKNOWN = "__unknown__"
UNKNOWN_SERVICE = "unknown_service"
DEFAULT_SERVICE = "__default__"
SPAN_KIND_SERVER = 2
SPAN_KIND_CLIENT = 3

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_INTEGER = re.compile(r"[+-]?\d+")
_SPAN_KIND_NAMES = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}

Key = tuple[str, str, str]
"""(ISO date, feature id, tenant id): the grain of the mart."""


# --- decoding ---------------------------------------------------------------------------------
def decode_any_value(value: Any) -> Any:
    """Decode an OTLP ``AnyValue`` object to a Python value (``None`` when it holds nothing).

    Scalars become ``str``/``bool``/``int``/``float``; ``intValue`` may be a string or a number.
    Arrays, key-value lists and bytes are returned as their raw JSON (they count as "set").
    """
    if not isinstance(value, Mapping):
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return parse_int64(value["intValue"])
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    for other in ("arrayValue", "kvlistValue", "bytesValue"):
        if other in value:
            return value[other]
    return None


def decode_attributes(attributes: Any) -> dict[str, Any]:
    """Decode an OTLP ``KeyValue`` list to a dict; when a key repeats, the first one wins."""
    out: dict[str, Any] = {}
    if not isinstance(attributes, list):
        return out
    for item in attributes:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            continue
        if item["key"] not in out:
            out[item["key"]] = decode_any_value(item.get("value"))
    return out


def parse_int64(value: Any) -> int | None:
    """A 64-bit integer (``intValue``, a timestamp in nanoseconds) given as a decimal string or
    a JSON number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def parse_kind(value: Any) -> int | None:
    """Span kind as its integer enum, from an integer or a ``SPAN_KIND_*`` name."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        return _SPAN_KIND_NAMES.get(text.upper())
    return None


def as_text(value: Any) -> str | None:
    """An attribute value as text (``None`` stays ``None``; booleans as ``true``/``false``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def as_number(value: Any) -> float | None:
    """An attribute value as a number (int, double or numeric string), else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def first_of(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` the attributes hold: an attribute's current name,
    then the names producers also write it under."""
    return next((attributes[key] for key in keys if attributes.get(key) is not None), None)


def as_quantity(value: Any) -> float | None:
    """A size or count: a finite number >= 0 (a negative, NaN or infinite one is not sent)."""
    number = as_number(value)
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def day_of(nanos: int) -> date:
    """The UTC day a nanosecond timestamp falls in."""
    return EPOCH_DAY + timedelta(days=nanos // NS_PER_DAY)


def iso_to_nanos(text: str) -> int:
    """An ISO-8601 UTC timestamp (``...Z`` or with an offset) as Unix nanoseconds."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


# --- reading and screening ----------------------------------------------------------------------
@dataclass
class RawSpan:
    """One span as read from a file, with the resource it came with and where it was found."""

    file: str
    line: int
    position: int
    trace_id: str | None
    span_id: str | None
    parent_span_id: str
    kind: int | None
    start: int | None
    end: int | None
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[dict[str, Any]]
    name: str = ""
    trace_state: str = ""
    links: list[tuple[str | None, str | None, float]] = field(default_factory=list)
    """(trace id, span id, weight): the messages a link stands for, else 1 (rule 12)."""

    @property
    def service(self) -> str:
        """The resource's ``service.name`` (``unknown_service`` when missing)."""
        service = as_text(self.resource.get("service.name"))
        return service if service else UNKNOWN_SERVICE


@dataclass
class ReadResult:
    """Spans read from the files, split into accepted, duplicate and quarantined."""

    lines_read: int = 0
    invalid_lines: list[tuple[str, int]] = field(default_factory=list)
    accepted: list[RawSpan] = field(default_factory=list)
    duplicates: list[RawSpan] = field(default_factory=list)
    quarantined: list[tuple[RawSpan, str]] = field(default_factory=list)


def _normalize_id(value: Any, id_bytes: int) -> str | None:
    """An id stripped and lowercased; ``None`` when it is not a string. The standard protobuf
    JSON mapping writes the ``id_bytes`` bytes of an id in base64: an id that is exactly the
    canonical base64 of that many bytes is decoded to hex."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) == 4 * -(-id_bytes // 3) and "=" in text:
        try:
            decoded = base64.b64decode(text, validate=True)
        except ValueError:  # not base64 (binascii.Error), or not ASCII
            decoded = b""
        if len(decoded) == id_bytes and base64.b64encode(decoded).decode() == text:
            return decoded.hex()
    return text.lower()


def iter_raw_spans(paths: Iterable[Path | str], result: ReadResult) -> Iterator[RawSpan]:
    """Yield every span of every non-blank line of ``paths``, in (file, line, position) order.

    Lines that are not valid JSON are recorded in ``result.invalid_lines`` and skipped.
    """
    for path in sorted(str(p) for p in paths):
        for number, raw in enumerate(_file_bytes(path).split(b"\n"), start=1):
            if not raw.strip():
                continue
            result.lines_read += 1
            try:
                data = json.loads(raw.decode("utf-8"), object_hook=_json_names)
            except (UnicodeDecodeError, json.JSONDecodeError):
                result.invalid_lines.append((path, number))
                continue
            yield from _spans_of_line(data, path, number)


def _json_names(fields: dict[str, Any]) -> dict[str, Any]:
    """An object's protobuf field names (``trace_id``), which protojson parsers accept, as the
    JSON names (``traceId``)."""
    return {
        re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key) if "_" in key else key: value
        for key, value in fields.items()
    }


def _file_bytes(path: str) -> bytes:
    """A file's bytes, decompressed when it starts with gzip's or zstd's magic bytes, or is the
    file exporter's length-prefixed zstd frames."""
    with open(path, "rb") as handle:
        content = handle.read()
    if content.startswith(b"\x1f\x8b"):
        return gzip.decompress(content)
    if content.startswith(b"\x28\xb5\x2f\xfd"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(content, read_across_frames=True).read()
    if content[4:8] == b"\x28\xb5\x2f\xfd":  # the file exporter's frames, each behind its length
        import zstandard

        decompressor = zstandard.ZstdDecompressor()
        lines, position = [], 0
        while position < len(content):
            size = int.from_bytes(content[position : position + 4], "big")
            frame = content[position + 4 : position + 4 + size]
            position += 4 + size
            try:
                message = decompressor.decompressobj().decompress(frame)
            except zstandard.ZstdError:
                message = b""
            # As the project's reader: a frame that yields nothing is a quarantined line.
            lines.append(message or b"<a zstd frame that does not decompress>")
        return b"".join(text + b"\n" for text in lines)
    return content


def _spans_of_line(data: Any, path: str, number: int) -> Iterator[RawSpan]:
    """The spans of one decoded ``TracesData`` line."""
    if not isinstance(data, Mapping):
        return
    position = 0
    for resource_spans in data.get("resourceSpans") or []:
        if not isinstance(resource_spans, Mapping):
            continue
        resource = decode_attributes((resource_spans.get("resource") or {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or []:
            if not isinstance(scope_spans, Mapping):
                continue
            for span in scope_spans.get("spans") or []:
                if not isinstance(span, Mapping):
                    continue
                position += 1
                events = [
                    {
                        "name": e.get("name"),
                        "time": parse_int64(e.get("timeUnixNano")),
                        "attributes": decode_attributes(e.get("attributes")),
                    }
                    for e in span.get("events") or []
                    if isinstance(e, Mapping)
                ]
                trace_id = _normalize_id(span.get("traceId"), 16)
                span_id = _normalize_id(span.get("spanId"), 8)
                yield RawSpan(
                    file=path,
                    line=number,
                    position=position,
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_span_id=_normalize_id(span.get("parentSpanId"), 8) or "",
                    kind=parse_kind(span.get("kind")),
                    start=parse_int64(span.get("startTimeUnixNano")),
                    end=parse_int64(span.get("endTimeUnixNano")),
                    attributes=decode_attributes(span.get("attributes")),
                    resource=resource,
                    events=events,
                    name=str(span.get("name") or ""),
                    trace_state=str(span.get("traceState") or ""),
                    links=[
                        link
                        for link in _links(span.get("links"))
                        # A link to the span itself says nothing (rule 12).
                        if link[:2] != (trace_id, span_id)
                    ],
                )


def _links(links: Any) -> list[tuple[str | None, str | None, float]]:
    """A span's links as (trace id, span id, weight), the ids normalized as the span's."""
    return [
        (
            _normalize_id(link.get("traceId"), 16),
            _normalize_id(link.get("spanId"), 8),
            _link_weight(decode_attributes(link.get("attributes"))),
        )
        for link in links or []
        if isinstance(link, Mapping)
    ]


def _message_count(attributes: Mapping[str, Any]) -> float | None:
    """``messaging.batch.message_count`` as a whole number of at least 1, else ``None``."""
    count = as_number(attributes.get("messaging.batch.message_count"))
    if count is None or not math.isfinite(count) or count < 1:
        return None
    return float(int(count))


def _link_weight(attributes: Mapping[str, Any]) -> float:
    """The messages a link stands for (``messaging.batch.message_count``), else 1."""
    return _message_count(attributes) or 1.0


def quarantine_reason(span: RawSpan, now_ns: int) -> str | None:
    """Why ``span`` must be quarantined, or ``None`` when it is acceptable."""
    if span.trace_id is None or not _TRACE_ID.fullmatch(span.trace_id):
        return "invalid_trace_id"
    if set(span.trace_id) == {"0"}:
        return "invalid_trace_id"
    if span.span_id is None or not _SPAN_ID.fullmatch(span.span_id):
        return "invalid_span_id"
    if set(span.span_id) == {"0"}:
        return "invalid_span_id"
    if span.start is None or span.end is None:
        return "missing_timestamps"
    if span.start <= 0:
        return "invalid_start"
    if span.end < span.start:
        return "end_before_start"
    if span.start < EARLIEST_START_NS:
        return "before_earliest"
    if span.start > now_ns + FUTURE_TOLERANCE_NS:
        return "in_the_future"
    if span.end - span.start > MAX_DURATION_NS:
        return "too_long"
    if span.end > now_ns + FUTURE_TOLERANCE_NS:
        return "ends_in_the_future"
    return None


def zipkin_client_half_id(span_id: str) -> str:
    """The span id the client half of a Zipkin shared span takes: the server half keeps the
    shared one, which the spans below it name as their parent."""
    return hashlib.md5(f"{span_id}/client".encode()).hexdigest()[:16]


def read_spans(paths: Iterable[Path | str], now_ns: int | None = None) -> ReadResult:
    """Read, screen and de-duplicate the spans of ``paths`` (rules 1 and 2).

    Of the sound deliveries of one (trace id, span id), the first in file order is kept, a
    SERVER one after the others. A Zipkin shared span (a CLIENT delivery kept, and a first
    SERVER one from another service, with the same parent or none) is two spans: that SERVER
    delivery is kept too, as the child of the client half, which takes
    ``zipkin_client_half_id``.
    """
    now = time.time_ns() if now_ns is None else now_ns
    result = ReadResult()
    deliveries: dict[tuple[str, str], list[RawSpan]] = {}
    for span in iter_raw_spans(paths, result):
        reason = quarantine_reason(span, now)
        if reason is not None:
            result.quarantined.append((span, reason))
            continue
        deliveries.setdefault((str(span.trace_id), str(span.span_id)), []).append(span)
    for spans in deliveries.values():
        kept, *later = sorted(spans, key=lambda span: span.kind == SPAN_KIND_SERVER)
        server = next((span for span in later if span.kind == SPAN_KIND_SERVER), None)
        if (
            kept.kind == SPAN_KIND_CLIENT
            and server is not None
            and server.service != kept.service
            and server.parent_span_id in (kept.parent_span_id, "")
        ):
            client_id = zipkin_client_half_id(str(kept.span_id))
            result.accepted.append(replace(kept, span_id=client_id))
            result.accepted.append(replace(server, parent_span_id=client_id))
            later.remove(server)
        else:
            result.accepted.append(kept)
        result.duplicates.extend(later)
    return result


# --- seeds and app inputs -----------------------------------------------------------------------
@dataclass(frozen=True)
class RateCard:
    """One row of ``seeds/rate_cards.csv``."""

    rate_card_id: str
    cloud_region: str
    instance_family: str
    effective_from: date
    effective_to: date | None
    cpu_per_ms: float
    memory_per_ms: float
    gpu_per_ms: float
    db_query_base: float


@dataclass(frozen=True)
class Sizes:
    """vCPU cores, memory GB and GPU count of one ``service_resource_defaults`` row."""

    cores: float
    memory_gb: float
    gpus: float


@dataclass(frozen=True)
class Seeds:
    """The seeds the direct cost depends on."""

    taxonomy_rate_card: dict[str, str]
    taxonomy_requires_flag: dict[str, bool]
    taxonomy_strategy: dict[str, str]
    rate_cards: list[RateCard]
    service_defaults: dict[str, Sizes]
    flag_features: dict[str, str] = field(default_factory=dict)
    """Flag key -> the gated feature it gates (the taxonomy's key, else the feature id)."""


@dataclass(frozen=True)
class FlagChange:
    """One row of the feature-flag history."""

    changed_at: int
    feature_id: str
    tenant_id: str | None
    enabled: bool


def _read_csv(path: Path | str) -> list[dict[str, str]]:
    """All rows of a CSV file with a header, as dicts."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _truthy(text: str) -> bool:
    """A CSV boolean (``true``/``false``, ``1``/``0``, ``yes``/``no``)."""
    return text.strip().lower() in {"true", "t", "1", "yes", "y"}


def load_seeds(seed_dir: Path) -> Seeds:
    """Read the taxonomy, rate cards and service defaults from ``seed_dir``."""
    taxonomy = _read_csv(seed_dir / "feature_taxonomy.csv")
    cards = [
        RateCard(
            rate_card_id=row["rate_card_id"],
            cloud_region=row["cloud_region"],
            instance_family=row["instance_family"],
            effective_from=date.fromisoformat(row["effective_from"]),
            effective_to=date.fromisoformat(row["effective_to"]) if row["effective_to"] else None,
            cpu_per_ms=float(row["cpu_per_ms"]),
            memory_per_ms=float(row["memory_per_ms"]),
            gpu_per_ms=float(row["gpu_per_ms"]),
            db_query_base=float(row["db_query_base"]),
        )
        for row in _read_csv(seed_dir / "rate_cards.csv")
    ]
    defaults = {
        row["service_name"]: Sizes(
            float(row["vcpu_cores"]), float(row["memory_gb"]), float(row["gpu_count"])
        )
        for row in _read_csv(seed_dir / "service_resource_defaults.csv")
    }
    return Seeds(
        taxonomy_rate_card={row["feature_id"]: row["rate_card_id"] for row in taxonomy},
        taxonomy_requires_flag={
            row["feature_id"]: _truthy(row["requires_feature_flag"]) for row in taxonomy
        },
        taxonomy_strategy={row["feature_id"]: row["allocation_strategy"] for row in taxonomy},
        rate_cards=cards,
        service_defaults=defaults,
        flag_features={
            (row.get("feature_flag_key") or "").strip() or row["feature_id"]: row["feature_id"]
            for row in taxonomy
            if _truthy(row["requires_feature_flag"])
        },
    )


def expand_glob(pattern: str) -> list[str]:
    """The files a glob matches, sorted."""
    return sorted(glob.glob(pattern, recursive=True))


FLAG_COLUMNS = {"changed_at", "flag_key", "feature_id", "tenant_id", "enabled"}


def load_flags(pattern: str) -> list[FlagChange]:
    """The flag history of every CSV the glob matches (an empty tenant is every tenant). A file
    without one of the five columns raises ``ValueError``, as the build stops on it."""
    changes: list[FlagChange] = []
    for path in expand_glob(pattern):
        rows = _read_csv(path)
        missing = FLAG_COLUMNS - set(rows[0]) if rows else set()
        if missing:
            raise ValueError(f"flag file {path} has no {', '.join(sorted(missing))}")
        for row in rows:
            tenant = (row["tenant_id"] or "").strip()
            changes.append(
                FlagChange(
                    changed_at=iso_to_nanos(row["changed_at"]),
                    feature_id=row["feature_id"].strip(),
                    tenant_id=tenant or None,
                    enabled=_truthy(row["enabled"]),
                )
            )
    return changes


def load_revenue(pattern: str) -> dict[Key, float]:
    """Revenue summed per (day, feature, tenant) over every CSV the glob matches."""
    revenue: dict[Key, float] = defaultdict(float)
    for path in expand_glob(pattern):
        for row in _read_csv(path):
            key = (
                date.fromisoformat(row["date_day"]).isoformat(),
                row["feature_id"],
                row["tenant_id"],
            )
            revenue[key] += float(row["revenue"])
    return dict(revenue)


# --- the FOCUS bill (rule B, F) -------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    """One line of the FOCUS bill, its period as Unix nanoseconds [start, end)."""

    start_ns: int
    end_ns: int
    cost: float
    region: str | None
    resource_id: str | None
    tags: str | None

    def by_day(self) -> dict[date, float]:
        """``EffectiveCost`` x the fraction of the charge period in each UTC day it touches.

        A period that is empty or reversed (the spec does not say) puts the whole cost on its
        start day.
        """
        length = self.end_ns - self.start_ns
        if length <= 0:
            return {day_of(self.start_ns): self.cost}
        out: dict[date, float] = {}
        for day in _days(day_of(self.start_ns), day_of(self.end_ns - 1) + timedelta(days=1)):
            day_start = (day - EPOCH_DAY).days * NS_PER_DAY
            share = overlap(self.start_ns, self.end_ns, day_start, day_start + NS_PER_DAY)
            out[day] = self.cost * share / length
        return out


@dataclass(frozen=True)
class BillingMapping:
    """One row of ``seeds/billing_mappings.csv``."""

    match_on: str
    tag_key: str | None
    match_value: str
    target_type: str
    target_id: str

    def matches(self, charge: Charge) -> bool:
        """By ``ResourceId`` (match_on = resource_id) or by one tag's value (match_on = tag)."""
        if self.match_on == "resource_id":
            return charge.resource_id == self.match_value
        if self.match_on == "tag" and self.tag_key:
            return _tag(charge.tags, self.tag_key) == self.match_value
        return False


@dataclass(frozen=True)
class Bill:
    """The mapped FOCUS charges spread over days (rule B's pool days and rule F's billed side)."""

    charges: list[Charge]
    pool_cost: dict[tuple[str, date], float]
    """(shared resource id, day) -> billed cost, for charges mapped to a shared resource."""
    service_cost: dict[tuple[str, str, date], float]
    """(service.name, RegionId, day) -> billed cost, for charges mapped to a service's compute."""


def _days(start: date, end_exclusive: date) -> Iterator[date]:
    """Every day in [start, end_exclusive)."""
    day = start
    while day < end_exclusive:
        yield day
        day += timedelta(days=1)


def _focus_text(value: str | None) -> str | None:
    """A FOCUS CSV value with the literal NULL (and empty) read as missing."""
    text = (value or "").strip()
    return None if text in ("", "NULL") else text


def _tag(tags: str | None, key: str) -> str | None:
    """One tag's value from the FOCUS ``Tags`` JSON object (None when absent or not JSON)."""
    try:
        parsed = json.loads(tags) if tags else None
    except json.JSONDecodeError:
        return None
    value = parsed.get(key) if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


def load_bill(seed_dir: Path, focus_billing_glob: str) -> Bill:
    """Read every FOCUS CSV the glob matches (none when it is empty) and map its charges.

    A charge without a period or an ``EffectiveCost`` is skipped. A charge that several
    mappings match counts once for each target (the spec does not say; the seeds never do it).
    """
    mappings = [
        BillingMapping(
            match_on=row["match_on"],
            tag_key=row["tag_key"] or None,
            match_value=row["match_value"],
            target_type=row["target_type"],
            target_id=row["target_id"],
        )
        for row in _read_csv(seed_dir / "billing_mappings.csv")
    ]
    charges: list[Charge] = []
    for path in expand_glob(focus_billing_glob) if focus_billing_glob else []:
        for row in _read_csv(path):
            start_text = _focus_text(row.get("ChargePeriodStart"))
            end_text = _focus_text(row.get("ChargePeriodEnd"))
            cost_text = _focus_text(row.get("EffectiveCost"))
            if start_text is None or end_text is None or cost_text is None:
                continue
            charges.append(
                Charge(
                    start_ns=iso_to_nanos(start_text),
                    end_ns=iso_to_nanos(end_text),
                    cost=float(cost_text),
                    region=_focus_text(row.get("RegionId")),
                    resource_id=_focus_text(row.get("ResourceId")),
                    tags=_focus_text(row.get("Tags")),
                )
            )
    pool_cost: dict[tuple[str, date], float] = defaultdict(float)
    service_cost: dict[tuple[str, str, date], float] = defaultdict(float)
    for charge in charges:
        targets = [m for m in mappings if m.matches(charge)]
        if not targets:
            continue
        for day, amount in charge.by_day().items():
            for mapping in targets:
                if mapping.target_type == "shared_resource":
                    pool_cost[(mapping.target_id, day)] += amount
                elif mapping.target_type == "service_compute" and charge.region is not None:
                    service_cost[(mapping.target_id, charge.region, day)] += amount
    return Bill(charges=charges, pool_cost=dict(pool_cost), service_cost=dict(service_cost))


# --- shared resources (rules B, C) ---------------------------------------------------------------
COMPUTE_POOL_TYPES = {"service_compute", "gpu_pool"}
QUERY_POOL_TYPES = {"database", "cache"}


@dataclass(frozen=True)
class Pool:
    """One row of ``seeds/shared_resources.csv``."""

    resource_id: str
    resource_type: str
    allocation_key: str
    cloud_region: str
    service_name: str | None
    server_address: str | None

    def covers(self, span: RawSpan) -> bool:
        """Whether the span's work is in this resource's scope."""
        span_region = as_text(span.resource.get("cloud.region"))
        return (
            self.cloud_region in ("*", span_region)
            and (self.service_name is None or self.service_name == span.service)
            and (
                self.server_address is None
                or self.server_address == as_text(span.attributes.get("server.address"))
            )
        )


@dataclass(frozen=True)
class Pools:
    """Shared resources, each one's cost per day (rule B) and the fixed shares."""

    pools: list[Pool]
    cost: dict[tuple[str, date], float]
    """(resource id, day) -> pool cost, for every day the bill or the cost seed gives one."""
    source: dict[tuple[str, date], str]
    """(resource id, day) -> ``bill`` or ``seed``."""
    fixed_shares: dict[str, dict[str, float]]
    """resource id -> {feature id: share_pct} of a fixed_pct resource."""

    def covering(self, span: RawSpan) -> list[Pool]:
        """The resources whose scope the span's work is in (whether they have a cost or not)."""
        return [p for p in self.pools if p.covers(span)]

    def claims(self, span: RawSpan, day: date) -> tuple[bool, bool]:
        """(compute claimed, queries claimed): a pool in scope with a cost that day pays."""
        paying = [p for p in self.covering(span) if (p.resource_id, day) in self.cost]
        return (
            any(p.resource_type in COMPUTE_POOL_TYPES for p in paying),
            any(p.resource_type in QUERY_POOL_TYPES for p in paying),
        )


def load_pools(seed_dir: Path, bill: Bill) -> Pools:
    """Shared resources and their cost per day: the mapped bill where it has the resource-day,
    else the cost seed's periods spread evenly over their days (rule B)."""
    pools = [
        Pool(
            resource_id=row["resource_id"],
            resource_type=row["resource_type"],
            allocation_key=row["allocation_key"],
            cloud_region=row["cloud_region"],
            service_name=row["match_service_name"] or None,
            server_address=row["match_server_address"] or None,
        )
        for row in _read_csv(seed_dir / "shared_resources.csv")
    ]
    known = {p.resource_id for p in pools}
    seeded: dict[tuple[str, date], float] = defaultdict(float)
    for row in _read_csv(seed_dir / "shared_resource_costs.csv"):
        start = date.fromisoformat(row["period_start"])
        end = date.fromisoformat(row["period_end"])
        days = (end - start).days
        for day in _days(start, end):
            seeded[(row["resource_id"], day)] += float(row["cost"]) / days
    cost: dict[tuple[str, date], float] = {}
    source: dict[tuple[str, date], str] = {}
    for key, amount in seeded.items():
        if key[0] in known and key not in bill.pool_cost:
            cost[key], source[key] = amount, "seed"
    for key, amount in bill.pool_cost.items():
        if key[0] in known:
            cost[key], source[key] = amount, "bill"
    fixed: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in _read_csv(seed_dir / "shared_resource_fixed_shares.csv"):
        fixed[row["resource_id"]][row["feature_id"]] += float(row["share_pct"])
    return Pools(
        pools=pools,
        cost=cost,
        source=source,
        fixed_shares={k: dict(v) for k, v in fixed.items()},
    )


# --- attribution and gating ---------------------------------------------------------------------
@dataclass
class Attribution:
    """Where one accepted span's cost goes (rules 1 and 6)."""

    original_feature: str
    feature: str
    tenant: str
    feature_span: RawSpan | None
    invocation_start: int | None
    is_feature_span: bool


def feature_of(span: RawSpan) -> str | None:
    """The span's own ``feature.id``, stripped; ``None`` when missing or blank."""
    text = as_text(span.attributes.get("feature.id"))
    if text is None or not text.strip():
        return None
    return text.strip()


def tenant_of(span: RawSpan) -> str | None:
    """The span's own ``tenant.id`` attribute as text (``None`` when not set or blank).

    The spec strips ``feature.id`` only, so a tenant id is kept as sent; a blank one is
    treated as not set (an interpretation: the spec does not say).
    """
    text = as_text(span.attributes.get("tenant.id"))
    return text if text is not None and text.strip() else None


def flag_is_on(
    changes: Iterable[FlagChange], feature: str, tenant: str, invocation_start: int
) -> bool:
    """State of ``feature``'s flag for ``tenant`` at ``invocation_start`` (ON when no change).

    The latest change at or before the invocation, among the feature's changes for every
    tenant (empty tenant) or for this tenant, wins; at the same instant the tenant's own
    change outranks a global one (as documented for rule 6).
    """
    latest: FlagChange | None = None
    for change in changes:
        if change.feature_id != feature or change.changed_at > invocation_start:
            continue
        if change.tenant_id not in (None, tenant):
            continue
        if (
            latest is None
            or change.changed_at > latest.changed_at
            or (change.changed_at == latest.changed_at and change.tenant_id is not None)
        ):
            latest = change
    return True if latest is None else latest.enabled


def attribute_trace(
    spans: list[RawSpan], seeds: Seeds, flags: list[FlagChange]
) -> dict[str, Attribution]:
    """Attribute every accepted span of one trace to its final feature and tenant."""
    by_id = {s.span_id: s for s in spans if s.span_id}
    verdicts, stand_ins = flag_evaluations_of_trace(spans, seeds)

    def named_feature(span: RawSpan) -> str | None:
        return feature_of(span) or stand_ins.get(str(span.span_id))

    named = {feature for feature in map(named_feature, spans) if feature is not None}

    def own_feature(span: RawSpan) -> str | None:
        # Rule 12: a span with links and no feature of its own starts linked work, but for
        # a SERVER span with no parent id in a trace that names one feature (a public
        # endpoint's root).
        own = named_feature(span)
        if own is not None or not span.links:
            return own
        public_root = span.kind == SPAN_KIND_SERVER and not span.parent_span_id
        return None if public_root and len(named) == 1 else LINKED

    feature_spans = [s for s in spans if own_feature(s) not in (None, LINKED)]
    trace_features = {own_feature(s) for s in feature_spans}
    trace_tenants = {t for t in (tenant_of(s) for s in spans) if t is not None}
    trace_tenant = next(iter(trace_tenants)) if len(trace_tenants) == 1 else None

    def fallback_tenant(span: RawSpan) -> str:
        return tenant_of(span) or trace_tenant or SHARED_TENANT

    def nearest_feature_span(span: RawSpan) -> RawSpan | None:
        current: RawSpan | None = span
        visited: set[str] = set()
        while current is not None and current.span_id not in visited:
            if own_feature(current) is not None:
                return current
            visited.add(str(current.span_id))
            current = by_id.get(current.parent_span_id) if current.parent_span_id else None
        return None

    out: dict[str, Attribution] = {}
    for span in spans:
        owner = nearest_feature_span(span)
        if owner is not None and own_feature(owner) == LINKED:
            out[str(span.span_id)] = Attribution(
                original_feature=LINKED,
                feature=LINKED,
                tenant=LINKED,
                feature_span=owner,
                invocation_start=None,
                is_feature_span=False,
            )
            continue
        if owner is not None:
            original = str(own_feature(owner))
            tenant = flag_tenant = tenant_of(owner) or fallback_tenant(span)
            start = owner.start
        elif len(trace_features) == 1:
            original = str(next(iter(trace_features)))
            tenants = {t for t in (tenant_of(s) for s in feature_spans) if t is not None}
            tenant = next(iter(tenants)) if len(tenants) == 1 else fallback_tenant(span)
            # The flag history of one of the feature spans' tenants gates the job's overhead.
            flag_tenant = min(tenants) if tenants else tenant
            start = min(int(s.start or 0) for s in feature_spans)
        else:
            original, tenant, start = UNATTRIBUTED, fallback_tenant(span), None
            flag_tenant = tenant
        feature = original
        if original in verdicts:
            # Rule 13: the trace's own evaluations of the flag win over the history file.
            feature = FLAG_OFF if verdicts[original] else original
        elif (
            start is not None
            and seeds.taxonomy_requires_flag.get(original, False)
            and not flag_is_on(flags, original, flag_tenant, start)
        ):
            feature = FLAG_OFF
        out[str(span.span_id)] = Attribution(
            original_feature=original,
            feature=feature,
            tenant=tenant,
            feature_span=owner,
            invocation_start=start,
            is_feature_span=own_feature(span) is not None,
        )
    return out


def link_shares(
    seed: RawSpan, attributions: Mapping[tuple[str, str], Attribution], hops: int = 1
) -> list[tuple[Attribution, float, str]]:
    """Rule 12: whose work a span with links does, as (attribution, share, resolution).

    Each link weighs its messages; it takes the linked span's attribution (after flags), or
    goes on through the links of linked work, at most ``MAX_LINK_HOPS`` links deep; a link to
    a span not received (or a chain too deep) goes to ``__unattributed__``/``__shared__``, and
    so do the messages of a batch (the span's own ``messaging.batch.message_count``) beyond
    those its links stand for.
    """
    linked = sum(weight for _, _, weight in seed.links)
    batch = _message_count(seed.attributes)
    total = max(linked, batch) if batch is not None else linked
    unresolved = Attribution(UNATTRIBUTED, UNATTRIBUTED, SHARED_TENANT, None, None, False)
    out: list[tuple[Attribution, float, str]] = []
    if total > linked:
        out.append((unresolved, (total - linked) / total, "not_linked"))
    for trace_id, span_id, weight in seed.links:
        share = weight / total
        target = attributions.get((str(trace_id), str(span_id)))
        if target is None:
            out.append((unresolved, share, "not_received"))
        elif target.feature == LINKED:
            if hops >= MAX_LINK_HOPS or target.feature_span is None:
                out.append((unresolved, share, "too_deep"))
            else:
                out.extend(
                    (attribution, share * part, resolution)
                    for attribution, part, resolution in link_shares(
                        target.feature_span, attributions, hops + 1
                    )
                )
        else:
            received = Attribution(
                target.original_feature, target.feature, target.tenant, None, None, False
            )
            out.append((received, share, "received"))
    return out


FLAG_EVENTS = ("feature_flag.evaluation", "feature_flag")
FLAG_OFF_RESULTS = ("false", "off", "disabled")


def flag_evaluations_of_trace(
    spans: list[RawSpan], seeds: Seeds
) -> tuple[dict[str, bool], dict[str, str]]:
    """Rule 13: per gated feature whose flag the trace evaluated, whether an evaluation came
    out off; and the spans that stand in for a feature span the middleware did not open (an
    off evaluation on a span with no feature, in a trace with no span of that feature)."""
    evaluations: dict[str, list[tuple[RawSpan, bool]]] = defaultdict(list)
    for span in spans:
        for event in span.events:
            if event.get("name") not in FLAG_EVENTS:
                continue
            attributes = event.get("attributes") or {}
            feature = seeds.flag_features.get(as_text(attributes.get("feature_flag.key")) or "")
            if feature is None:
                continue
            result = next(
                (
                    as_text(attributes[key])
                    for key in (
                        "feature_flag.result.value",
                        "feature_flag.result.variant",
                        "feature_flag.variant",
                    )
                    if attributes.get(key) is not None
                ),
                None,
            )
            reason = (
                as_text(
                    attributes.get("feature_flag.result.reason")
                    or attributes.get("feature_flag.evaluation.reason")
                )
                or ""
            ).lower()
            if result is None and reason == "disabled":
                result = "disabled"
            evaluations[feature].append((span, (result or "").lower() in FLAG_OFF_RESULTS))
    verdicts = {feature: any(off for _, off in found) for feature, found in evaluations.items()}
    stand_ins: dict[str, str] = {}
    for feature, found in sorted(evaluations.items()):
        if any(feature_of(s) == feature for s in spans):
            continue
        for span, off in found:
            if off and feature_of(span) is None:
                stand_ins.setdefault(str(span.span_id), feature)
    return verdicts, stand_ins


# --- busy time ----------------------------------------------------------------------------------
def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping (or touching) half-open intervals into islands, sorted by start."""
    islands: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if islands and start <= islands[-1][1]:
            islands[-1] = (islands[-1][0], max(islands[-1][1], end))
        else:
            islands.append((start, end))
    return islands


def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    """Length of the intersection of two half-open intervals (0 when disjoint)."""
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def child_islands(span: RawSpan, children: Iterable[RawSpan]) -> list[tuple[int, int]]:
    """The merged intervals ``span``'s same-service children ran in, clipped to it."""
    start, end = int(span.start or 0), int(span.end or 0)
    clipped = [(max(int(c.start or 0), start), min(int(c.end or 0), end)) for c in children]
    return merge_intervals((s, e) for s, e in clipped if e > s)


def busy_by_day(span: RawSpan, islands: list[tuple[int, int]]) -> dict[date, int]:
    """Exclusive busy nanoseconds of ``span`` on each UTC day its interval touches (rule 2):
    its time less ``islands``, where its children ran."""
    start, end = int(span.start or 0), int(span.end or 0)
    first_day = start // NS_PER_DAY
    last_day = max(start, end - 1) // NS_PER_DAY
    out: dict[date, int] = {}
    for day_number in range(first_day, last_day + 1):
        day_start, day_end = day_number * NS_PER_DAY, (day_number + 1) * NS_PER_DAY
        busy = overlap(start, end, day_start, day_end) - sum(
            overlap(s, e, day_start, day_end) for s, e in islands
        )
        out[EPOCH_DAY + timedelta(days=day_number)] = busy
    return out


def query_events(span: RawSpan) -> int:
    """The span's own ``db.query`` events."""
    return sum(1 for e in span.events if e.get("name") == "db.query")


DATABASE_CALL_ATTRIBUTES = (
    "db.query.text",
    "db.query.summary",
    "db.operation.name",
    "db.stored_procedure.name",
    "db.statement",
    "db.operation",
)


def is_database_client(span: RawSpan) -> bool:
    """A CLIENT span with ``db.system.name`` (or the older ``db.system``) set that names its
    query or operation (a connection span names none)."""
    has_db = (
        span.attributes.get("db.system.name") is not None
        or span.attributes.get("db.system") is not None
    )
    names_call = any(span.attributes.get(key) is not None for key in DATABASE_CALL_ATTRIBUTES)
    return span.kind == SPAN_KIND_CLIENT and has_db and names_call


def queries_of_trace(spans: list[RawSpan]) -> dict[str, int]:
    """Rule 11: the queries each span of one trace counts, each query once.

    Every database client span is one query (or its own ``db.query`` events, if more), less
    the queries of the database client spans directly inside it in the same service (an ORM's
    span around the driver's: the calls count on the driver's spans); what a client span
    stands for is the larger of the two. The events on any other span count only beyond what
    the database client spans that are its children in the same service stand for.
    """
    clients = [s for s in spans if is_database_client(s)]
    own = {str(s.span_id): max(query_events(s), 1) for s in clients}
    inner: Counter[tuple[str, str]] = Counter()
    for span in clients:
        if span.parent_span_id:
            inner[(span.parent_span_id, span.service)] += own[str(span.span_id)]
    out: dict[str, int] = {}
    below: Counter[tuple[str, str]] = Counter()
    for span in clients:
        span_id = str(span.span_id)
        inside = inner[(span_id, span.service)]
        out[span_id] = max(own[span_id] - inside, 0)
        if span.parent_span_id:
            below[(span.parent_span_id, span.service)] += max(own[span_id], inside)
    for span in spans:
        events = query_events(span)
        if events and not is_database_client(span):
            out[str(span.span_id)] = max(events - below[(str(span.span_id), span.service)], 0)
    return out


_SAMPLING_THRESHOLD = re.compile(r"(?:^|,)[ \t]*ot=(?:[^,;]*;)*th:([0-9a-f]{1,14})(?:[;, \t]|$)")


def sampling_weight(span: RawSpan) -> float:
    """The span's adjusted count: 2^56 / (2^56 - T) for a trace state ``ot=th:T``, else 1."""
    found = _SAMPLING_THRESHOLD.search(span.trace_state)
    if not found:
        return 1.0
    threshold = int(found.group(1).ljust(14, "0"), 16)
    return 2**56 / (2**56 - threshold)


# --- pricing ------------------------------------------------------------------------------------
def instance_family(span: RawSpan) -> str:
    """The part of the resource's ``host.type`` before the first dot (``__unknown__`` if none)."""
    host_type = as_text(span.resource.get("host.type"))
    family = host_type.split(".", 1)[0] if host_type else ""
    return family or UNKNOWN


def region(span: RawSpan) -> str:
    """The resource's ``cloud.region`` (``__unknown__`` when missing or empty)."""
    return as_text(span.resource.get("cloud.region")) or UNKNOWN


def pick_rate_card(
    cards: Iterable[RateCard], rate_card_id: str, cloud_region: str, family: str, day: date
) -> RateCard | None:
    """The most specific rate card row in force on ``day`` (exact region, then exact family)."""
    candidates = [
        c
        for c in cards
        if c.rate_card_id == rate_card_id
        and c.cloud_region in (cloud_region, "*")
        and c.instance_family in (family, "*")
        and c.effective_from <= day
        and (c.effective_to is None or day < c.effective_to)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.cloud_region == "*", c.instance_family == "*"))


def sizes_of(span: RawSpan, seeds: Seeds) -> Sizes:
    """Cores, memory and GPUs: span attribute, else resource attribute, else seed defaults."""
    default = seeds.service_defaults.get(span.service) or seeds.service_defaults[DEFAULT_SERVICE]

    def pick(key: str, fallback: float) -> float:
        # The span's value if it sends one, else the resource's; one that is no quantity
        # (text, negative, NaN, infinite) counts as not stated: the default applies.
        for source in (span.attributes, span.resource):
            if source.get(key) is not None:
                value = as_quantity(source[key])
                return fallback if value is None else value
        return fallback

    return Sizes(
        cores=pick("cost.cpu.cores", default.cores),
        memory_gb=pick("cost.memory.gb", default.memory_gb),
        gpus=pick("cost.gpu.count", default.gpus),
    )


# --- LLM tokens (rule A) ------------------------------------------------------------------------
@dataclass(frozen=True)
class LlmPrice:
    """One row of ``seeds/llm_model_prices.csv``."""

    model: str
    effective_from: date
    effective_to: date | None
    input_per_1k_tokens: float
    output_per_1k_tokens: float
    cached_input_per_1k_tokens: float | None = None
    cache_write_per_1k_tokens: float | None = None
    reasoning_per_1k_tokens: float | None = None

    def cost(self, tokens: Mapping[str, float]) -> float:
        """Rule 11's price of counted tokens: cached, cache-write and reasoning tokens are
        parts of the input and output tokens, each at its own price (else input or output)."""

        def price(own: float | None, fallback: float) -> float:
            return fallback if own is None else own

        uncached = max(tokens["input"] - tokens["cache_read"] - tokens["cache_creation"], 0.0)
        answered = max(tokens["output"] - tokens["reasoning"], 0.0)
        return (
            uncached * self.input_per_1k_tokens
            + tokens["cache_read"]
            * price(self.cached_input_per_1k_tokens, self.input_per_1k_tokens)
            + tokens["cache_creation"]
            * price(self.cache_write_per_1k_tokens, self.input_per_1k_tokens)
            + answered * self.output_per_1k_tokens
            + tokens["reasoning"] * price(self.reasoning_per_1k_tokens, self.output_per_1k_tokens)
        ) / 1000


def _optional_float(text: str | None) -> float | None:
    return float(text) if text else None


def load_llm_prices(seed_dir: Path) -> list[LlmPrice]:
    """Token prices per model and period."""
    return [
        LlmPrice(
            model=row["model"],
            effective_from=date.fromisoformat(row["effective_from"]),
            effective_to=date.fromisoformat(row["effective_to"]) if row["effective_to"] else None,
            input_per_1k_tokens=float(row["input_per_1k_tokens"]),
            output_per_1k_tokens=float(row["output_per_1k_tokens"]),
            cached_input_per_1k_tokens=_optional_float(row.get("cached_input_per_1k_tokens")),
            cache_write_per_1k_tokens=_optional_float(row.get("cache_write_per_1k_tokens")),
            reasoning_per_1k_tokens=_optional_float(row.get("reasoning_per_1k_tokens")),
        )
        for row in _read_csv(seed_dir / "llm_model_prices.csv")
    ]


def pick_llm_price(prices: Iterable[LlmPrice], model: str | None, day: date) -> LlmPrice | None:
    """The model's price row in force on ``day``."""
    for price in prices:
        if (
            price.model == model
            and price.effective_from <= day
            and (price.effective_to is None or day < price.effective_to)
        ):
            return price
    return None


# The OpenTelemetry names, the names before semantic conventions 1.27 (with OpenLLMetry's
# cache and reasoning counts), OpenInference's.
MODEL_ATTRIBUTES = ("gen_ai.request.model", "gen_ai.response.model", "llm.model_name")
TOKEN_ATTRIBUTES = {
    "input": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
    ),
    "output": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    ),
    "cache_read": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_creation": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}
NO_TOKENS = dict.fromkeys(TOKEN_ATTRIBUTES, 0.0)


def reported_tokens(span: RawSpan) -> dict[str, float] | None:
    """The token usage the span reports, by kind (``None`` when it reports none)."""
    values = {k: as_quantity(first_of(span.attributes, a)) for k, a in TOKEN_ATTRIBUTES.items()}
    if all(v is None for v in values.values()):
        return None
    return {k: v or 0.0 for k, v in values.items()}


def tokens_of_trace(spans: list[RawSpan]) -> dict[str, dict[str, float]]:
    """Rule 11: the token usage each span of one trace counts, each token once.

    A span whose usage is the total of the calls below it (an agent or workflow span) counts
    only what exceeds what its nearest reporting descendants report, kind by kind.
    """
    by_id = {str(s.span_id): s for s in spans}
    reported = {sid: r for sid, s in by_id.items() if (r := reported_tokens(s)) is not None}
    below: dict[str, dict[str, float]] = defaultdict(lambda: dict(NO_TOKENS))
    for span_id, usage in reported.items():
        parent, seen = by_id[span_id].parent_span_id, {span_id}
        while parent in by_id and parent not in seen:
            if parent in reported:
                for kind, value in usage.items():
                    below[parent][kind] += value
                break
            seen.add(parent)
            parent = by_id[parent].parent_span_id
    return {
        span_id: {k: max(v - below[span_id][k], 0.0) for k, v in usage.items()}
        if span_id in below
        else usage
        for span_id, usage in reported.items()
    }


# --- the mart -----------------------------------------------------------------------------------
@dataclass
class MartRow:
    """The oracle's value of one ``feature_cost_margin`` row's usage and cost columns.

    The rate-card components hold only what no pool claims (rule C).
    """

    request_count: float = 0.0
    """Adjusted counts (rule 11): each span counts its sampling weight."""
    query_count: float = 0.0
    busy_ns: float = 0.0
    cpu_cost: float = 0.0
    memory_cost: float = 0.0
    gpu_cost: float = 0.0
    db_query_cost: float = 0.0
    llm_cost: float = 0.0
    shared_cost: float = 0.0
    shared_low: float = 0.0
    shared_high: float = 0.0
    build_amortization_cost: float = 0.0
    maintenance_cost: float = 0.0
    dedicated_compute_cost: float = 0.0
    """Σ unclaimed rate-card cpu + memory + gpu before capacity sharing (rule H)."""
    reconciled_compute_cost: float = 0.0
    """Σ compute (shares and idle) x its (month, service, region) factor (rule F)."""
    revenue: float = 0.0

    @property
    def busy_ms(self) -> float:
        """Busy time in milliseconds."""
        return self.busy_ns / NS_PER_MS

    @property
    def compute_cost(self) -> float:
        """cpu + memory + gpu cost (unclaimed)."""
        return self.cpu_cost + self.memory_cost + self.gpu_cost

    @property
    def direct_cost(self) -> float:
        """cpu + memory + gpu + db_query + llm cost."""
        return self.compute_cost + self.db_query_cost + self.llm_cost

    @property
    def amortized_cost(self) -> float:
        """build + maintenance."""
        return self.build_amortization_cost + self.maintenance_cost

    @property
    def total_cost(self) -> float:
        """Rule G: every component."""
        return self.direct_cost + self.shared_cost + self.amortized_cost

    @property
    def cost_low(self) -> float:
        """Rule G: total with the shared allocation at the low end of its range."""
        return self.direct_cost + self.shared_low + self.amortized_cost

    @property
    def cost_high(self) -> float:
        """Rule G: total with the shared allocation at the high end of its range."""
        return self.direct_cost + self.shared_high + self.amortized_cost

    @property
    def reconciled_cost(self) -> float:
        """Rule F: total with the compute reconciled to the bill."""
        return (
            self.reconciled_compute_cost
            + self.db_query_cost
            + self.llm_cost
            + self.shared_cost
            + self.amortized_cost
        )

    def has_usage(self) -> bool:
        """True when any usage-derived column is nonzero (revenue alone does not count)."""
        return bool(
            self.request_count
            or self.query_count
            or self.busy_ns
            or self.cpu_cost
            or self.memory_cost
            or self.gpu_cost
            or self.db_query_cost
        )


@dataclass
class SpanDay:
    """One accepted span's usage and cost on one day: the oracle's audit trail.

    The cost fields are the rate-card estimate before any pool claims them;
    ``compute_claimed``/``queries_claimed`` say whether a pool pays for them instead.
    """

    span: RawSpan
    attribution: Attribution
    day: date
    busy_ns: int
    invocation_count: int
    query_count: int
    rate_card_id: str
    rate_card: RateCard | None
    sizes: Sizes
    cpu_cost: float
    memory_cost: float
    gpu_cost: float
    db_query_cost: float
    compute_claimed: bool = False
    queries_claimed: bool = False
    llm_cost: float = 0.0
    llm_unpriced: bool = False
    """Tokens on the start day but no price for the model that day (cost 0)."""
    rows_returned: float = 0.0
    in_scope: tuple[str, ...] = ()
    """Resource ids whose scope the span is in (rule C's scope; cost or not)."""
    weight: float = 1.0
    """The span's sampling weight (adjusted count), times its share for linked work (rule 12):
    costs above already carry it; counts, busy time and drivers are the span's own and are
    multiplied by it where summed."""
    capacity_factor: float = 1.0
    """The share of its unclaimed compute its instance-hours charge it (rule H)."""
    child_islands: list[tuple[int, int]] = field(default_factory=list)
    """Where its same-service children ran (merged): not its own busy time (rule H)."""

    @property
    def busy_ms(self) -> float:
        """Busy time in milliseconds."""
        return self.busy_ns / NS_PER_MS

    @property
    def unclaimed_compute(self) -> float:
        """cpu + memory + gpu cost unless a compute pool pays for it."""
        return 0.0 if self.compute_claimed else self.cpu_cost + self.memory_cost + self.gpu_cost

    @property
    def capacity_compute(self) -> float:
        """The unclaimed compute x the capacity factor (rule H)."""
        return self.unclaimed_compute * self.capacity_factor

    @property
    def unclaimed_queries(self) -> float:
        """db_query cost unless a database or cache pays for it."""
        return 0.0 if self.queries_claimed else self.db_query_cost

    @property
    def month(self) -> str:
        """``YYYY-MM`` of the day."""
        return self.day.isoformat()[:7]


@dataclass(frozen=True)
class Allocation:
    """One share of one pool's cost on one day (rule D)."""

    day: date
    resource_id: str
    feature: str
    tenant: str
    kind: str
    """``usage`` (by the allocation key), ``idle`` or ``fixed``."""
    allocated: float
    low: float
    high: float


@dataclass
class OracleResult:
    """Everything the oracle computed."""

    read: ReadResult
    attributions: dict[tuple[str, str], Attribution]
    span_days: list[SpanDay]
    rows: dict[Key, MartRow]
    flag_off_requests_by_origin: Counter[Key]
    unpriced: list[SpanDay]
    pools: Pools
    bill: Bill
    allocations: list[Allocation]
    window: list[date]
    compute_factors: dict[tuple[str, str, str], float]
    """(month, service, region) -> billed / estimated, for every group with span-days."""
    compute_estimated: dict[tuple[str, str, str], float]
    compute_billed: dict[tuple[str, str, str], float]
    """(month, service, region) -> billed compute, for every group the bill names."""
    capacity_hours: list[InstanceHour]
    """Every instance-hour (rule H)."""

    def __repr__(self) -> str:
        """A short summary instead of every span (pytest prints fixtures on failure)."""
        return (
            f"OracleResult({len(self.read.accepted)} accepted spans, "
            f"{len(self.span_days)} span-days, {len(self.rows)} mart rows)"
        )

    def span_days_of(self, span_id: str) -> list[SpanDay]:
        """The per-day rows of the accepted span(s) with this (lowercase) span id."""
        return [d for d in self.span_days if d.span.span_id == span_id]


def compute(
    otlp_glob: str,
    revenue_glob: str,
    feature_flags_glob: str,
    seed_dir: Path,
    *,
    default_rate_card: str = "standard",
    now_ns: int | None = None,
    focus_billing_glob: str = "",
) -> OracleResult:
    """Compute the mart's usage and cost columns from the raw files and the seeds.

    A shared resource with a cost on a day pays for the work in its scope: compute pools
    (service_compute, gpu_pool) for its cpu, memory and gpu cost, databases and caches for its
    query cost; the mart's direct columns carry only what no pool pays for, and the pool's cost
    comes back through the shared allocation.
    """
    seeds = load_seeds(seed_dir)
    bill = load_bill(seed_dir, focus_billing_glob)
    pools = load_pools(seed_dir, bill)
    llm_prices = load_llm_prices(seed_dir)
    flags = load_flags(feature_flags_glob)
    read = read_spans(expand_glob(otlp_glob), now_ns=now_ns)

    traces: dict[str, list[RawSpan]] = defaultdict(list)
    for span in read.accepted:
        traces[str(span.trace_id)].append(span)

    attributions: dict[tuple[str, str], Attribution] = {}
    for trace_id, spans in traces.items():
        for span_id, attribution in attribute_trace(spans, seeds, flags).items():
            attributions[(trace_id, span_id)] = attribution
    shares: dict[tuple[str, str], list[tuple[Attribution, float, str]]] = {}
    for (trace_id, _), attribution in attributions.items():
        seed = attribution.feature_span
        if attribution.feature == LINKED and seed is not None:
            key = (trace_id, str(seed.span_id))
            if key not in shares:
                shares[key] = link_shares(seed, attributions)

    span_days: list[SpanDay] = []
    for trace_id, spans in traces.items():
        queries = queries_of_trace(spans)
        tokens = tokens_of_trace(spans)
        children: dict[tuple[str, str], list[RawSpan]] = defaultdict(list)
        for span in spans:
            if span.parent_span_id:
                children[(span.parent_span_id, span.service)].append(span)
        for span in spans:
            attribution = attributions[(trace_id, str(span.span_id))]
            seed = attribution.feature_span
            parts = (
                [
                    (share_attribution, share)
                    for share_attribution, share, _ in shares[(trace_id, str(seed.span_id))]
                ]
                if attribution.feature == LINKED and seed is not None
                else [(attribution, 1.0)]
            )
            for part_attribution, share in parts:
                span_days.extend(
                    _price_span(
                        span,
                        part_attribution,
                        children[(str(span.span_id), span.service)],
                        queries.get(str(span.span_id), 0),
                        tokens.get(str(span.span_id), NO_TOKENS),
                        seeds,
                        default_rate_card,
                        pools,
                        llm_prices,
                        share,
                    )
                )

    capacity_hours = share_capacity(span_days)
    rows: dict[Key, MartRow] = defaultdict(MartRow)
    flag_off_by_origin: dict[Key, float] = defaultdict(float)
    for item in span_days:
        key = (item.day.isoformat(), item.attribution.feature, item.attribution.tenant)
        row = rows[key]
        row.request_count += item.weight * item.invocation_count
        row.query_count += item.weight * item.query_count
        row.busy_ns += item.weight * item.busy_ns
        if not item.compute_claimed:
            row.cpu_cost += item.cpu_cost * item.capacity_factor
            row.memory_cost += item.memory_cost * item.capacity_factor
            row.gpu_cost += item.gpu_cost * item.capacity_factor
            row.dedicated_compute_cost += item.cpu_cost + item.memory_cost + item.gpu_cost
        if not item.queries_claimed:
            row.db_query_cost += item.db_query_cost
        row.llm_cost += item.llm_cost
        if item.attribution.feature == FLAG_OFF and item.invocation_count:
            origin = (item.day.isoformat(), item.attribution.original_feature, key[2])
            flag_off_by_origin[origin] += item.weight * item.invocation_count

    idle: dict[Group, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for hour in capacity_hours:
        day, service, service_region, _ = hour.instance
        for index, amount in enumerate(hour.idle):
            idle[(day.isoformat(), service, service_region)][index] += amount
    for (day_text, _, _), (cpu, memory, gpu) in idle.items():
        if cpu + memory + gpu > 0:
            row = rows[(day_text, IDLE, SHARED_TENANT)]
            row.cpu_cost += cpu
            row.memory_cost += memory
            row.gpu_cost += gpu

    allocations = allocate_shared(span_days, pools, seeds)
    for share in allocations:
        row = rows[(share.day.isoformat(), share.feature, share.tenant)]
        row.shared_cost += share.allocated
        row.shared_low += share.low
        row.shared_high += share.high

    priced_days = [d.day for d in span_days if d.rate_card is not None]
    window = (
        list(_days(min(priced_days), max(priced_days) + timedelta(days=1))) if priced_days else []
    )
    for key, (build, maintenance) in amortize(seed_dir, window, span_days).items():
        rows[key].build_amortization_cost += build
        rows[key].maintenance_cost += maintenance

    estimated, billed, factors = compute_factors(capacity_hours, bill)
    for item in span_days:
        factor = factors.get((item.month, item.span.service, region(item.span)), 1.0)
        key = (item.day.isoformat(), item.attribution.feature, item.attribution.tenant)
        rows[key].reconciled_compute_cost += item.capacity_compute * factor
    for (day_text, service, service_region), amounts in idle.items():
        if sum(amounts) > 0:
            factor = factors.get((day_text[:7], service, service_region), 1.0)
            rows[(day_text, IDLE, SHARED_TENANT)].reconciled_compute_cost += sum(amounts) * factor

    for key, amount in load_revenue(revenue_glob).items():
        rows[key].revenue += amount

    return OracleResult(
        read=read,
        attributions=attributions,
        span_days=span_days,
        rows=dict(rows),
        flag_off_requests_by_origin=flag_off_by_origin,
        unpriced=[d for d in span_days if d.rate_card is None],
        pools=pools,
        bill=bill,
        allocations=allocations,
        window=window,
        compute_factors=factors,
        compute_estimated=estimated,
        compute_billed=billed,
        capacity_hours=capacity_hours,
    )


def _price_span(
    span: RawSpan,
    attribution: Attribution,
    children: list[RawSpan],
    queries: int,
    tokens: Mapping[str, float],
    seeds: Seeds,
    default_rate_card: str,
    pools: Pools,
    llm_prices: list[LlmPrice],
    share: float = 1.0,
) -> list[SpanDay]:
    """Split one span's busy time by day and price each day (rules 2, 3, 5 and A); linked
    work (rule 12) is priced once per share, its weight times the share."""
    card_id = seeds.taxonomy_rate_card.get(attribution.original_feature, default_rate_card)
    sizes = sizes_of(span, seeds)
    start_day = day_of(int(span.start or 0))
    weight = sampling_weight(span) * share
    model = as_text(first_of(span.attributes, MODEL_ATTRIBUTES))
    rows_returned = as_number(span.attributes.get("db.response.returned_rows")) or 0.0
    in_scope = tuple(p.resource_id for p in pools.covering(span))
    out: list[SpanDay] = []
    islands = child_islands(span, children)
    for day, busy_ns in busy_by_day(span, islands).items():
        card = pick_rate_card(seeds.rate_cards, card_id, region(span), instance_family(span), day)
        on_start_day = day == start_day
        day_queries = queries if on_start_day else 0
        busy_ms = busy_ns / NS_PER_MS
        compute_claimed, queries_claimed = pools.claims(span, day)
        llm_cost, llm_unpriced = 0.0, False
        if on_start_day and any(tokens.values()):
            price = pick_llm_price(llm_prices, model, day)
            if price is None:
                llm_unpriced = True
            else:
                llm_cost = weight * price.cost(tokens)
        out.append(
            SpanDay(
                span=span,
                attribution=attribution,
                day=day,
                busy_ns=busy_ns,
                invocation_count=int(attribution.is_feature_span and on_start_day),
                query_count=day_queries,
                rate_card_id=card_id,
                rate_card=card,
                sizes=sizes,
                cpu_cost=weight * busy_ms * sizes.cores * card.cpu_per_ms if card else 0.0,
                memory_cost=weight * busy_ms * sizes.memory_gb * card.memory_per_ms
                if card
                else 0.0,
                gpu_cost=weight * busy_ms * sizes.gpus * card.gpu_per_ms if card else 0.0,
                db_query_cost=weight * day_queries * card.db_query_base if card else 0.0,
                compute_claimed=compute_claimed,
                queries_claimed=queries_claimed,
                llm_cost=llm_cost,
                llm_unpriced=llm_unpriced,
                rows_returned=rows_returned if on_start_day else 0.0,
                in_scope=in_scope,
                weight=weight,
                child_islands=islands,
            )
        )
    return out


# --- shared allocation (rule D) ------------------------------------------------------------------
IDLE = "__idle__"
RANGE_ALTERNATIVES = ("query_count", "duration")
STRATEGY_COST = {
    "proportional_duration": lambda d: d.cpu_cost + d.memory_cost,
    "proportional_queries": lambda d: d.db_query_cost,
    "gpu_minutes": lambda d: d.gpu_cost,
    "memory_usage": lambda d: d.memory_cost,
}


def driver(key: str, item: SpanDay, seeds: Seeds) -> float:
    """One span-day's contribution to a pair's driver under allocation key ``key``.

    ``even`` is 1 per pair, not per span-day: ``allocate_shared`` handles it.
    """
    if key == "query_count":
        return item.weight * item.query_count
    if key == "rows_scanned":
        return item.weight * item.rows_returned
    if key == "memory_usage":
        return item.weight * item.busy_ms * item.sizes.memory_gb
    if key == "duration":
        return item.weight * item.busy_ms
    if key == "gpu_minutes":
        return item.weight * item.busy_ms * item.sizes.gpus / 60_000
    if key == "cost_weighted":
        strategy = seeds.taxonomy_strategy.get(
            item.attribution.original_feature, "proportional_duration"
        )
        if strategy not in STRATEGY_COST:
            raise ValueError(f"unknown allocation strategy {strategy!r}")
        return float(STRATEGY_COST[strategy](item))
    raise ValueError(f"unknown allocation key {key!r}")


def allocate_shared(span_days: list[SpanDay], pools: Pools, seeds: Seeds) -> list[Allocation]:
    """Split every pool-day's cost over the (feature, tenant) pairs in its scope (rule D)."""
    by_id = {p.resource_id: p for p in pools.pools}
    # (resource, day) -> (feature, tenant) -> {"own" | alternative: driver}
    usage: dict[tuple[str, date], dict[tuple[str, str], dict[str, float]]] = defaultdict(dict)
    for item in span_days:
        pair = (item.attribution.feature, item.attribution.tenant)
        for resource_id in item.in_scope:
            pool = by_id[resource_id]
            if (resource_id, item.day) not in pools.cost or pool.allocation_key == "fixed_pct":
                continue
            drivers = usage[(resource_id, item.day)].setdefault(pair, defaultdict(float))
            if pool.allocation_key == "even":
                drivers["own"] = 1.0
            else:
                drivers["own"] += driver(pool.allocation_key, item, seeds)
            for alternative in RANGE_ALTERNATIVES:
                drivers[alternative] += driver(alternative, item, seeds)

    out: list[Allocation] = []
    for (resource_id, day), cost in sorted(pools.cost.items()):
        pool = by_id[resource_id]
        if pool.allocation_key == "fixed_pct":
            shares = pools.fixed_shares.get(resource_id, {})
            for feature, pct in sorted(shares.items()):
                amount = cost * pct / 100
                out.append(
                    Allocation(day, resource_id, feature, SHARED_TENANT, "fixed", *[amount] * 3)
                )
            rest = cost * (100 - sum(shares.values())) / 100
            out.append(
                Allocation(day, resource_id, UNATTRIBUTED, SHARED_TENANT, "fixed", *[rest] * 3)
            )
            continue
        pairs = usage.get((resource_id, day), {})
        total = sum(d["own"] for d in pairs.values())
        if not pairs or total == 0:
            out.append(Allocation(day, resource_id, IDLE, SHARED_TENANT, "idle", *[cost] * 3))
            continue
        totals = {a: sum(d[a] for d in pairs.values()) for a in RANGE_ALTERNATIVES}
        for (feature, tenant), drivers in sorted(pairs.items()):
            own = cost * drivers["own"] / total
            candidates = [own] + [
                cost * drivers[a] / totals[a] if totals[a] else own for a in RANGE_ALTERNATIVES
            ]
            out.append(
                Allocation(
                    day,
                    resource_id,
                    feature,
                    tenant,
                    "usage",
                    own,
                    min(candidates),
                    max(candidates),
                )
            )
    return out


# --- capacity (rule H) ----------------------------------------------------------------------------
NS_PER_HOUR = 3_600 * 1_000_000_000
DEFAULT_INSTANCE = "__service__"
INSTANCE_ATTRIBUTES = (
    "service.instance.id",
    "k8s.pod.uid",
    "container.id",
    "faas.instance",
    "host.id",
    "host.name",
)
Instance = tuple[date, str, str, str]
"""(day, service.name, cloud.region, instance id)."""


def instance_of(span: RawSpan) -> str:
    """``service.instance.id``, else the pod's, container's or function instance's id, else
    ``host.id``, else ``host.name``, else one per service."""
    value = as_text(first_of(span.resource, INSTANCE_ATTRIBUTES))
    return DEFAULT_INSTANCE if value is None else value


def hour_shares(item: SpanDay) -> Iterator[tuple[int, float]]:
    """(hour number, share of the span-day's own busy time) for each UTC hour it runs in: the
    hour's elapsed time less its children's, over its busy time; by elapsed time where it has
    no busy time of its own; an empty interval lies wholly in the hour it starts."""
    start, end = active_interval(item)
    if end <= start:
        yield start // NS_PER_HOUR, 1.0
        return
    for hour in range(start // NS_PER_HOUR, (end - 1) // NS_PER_HOUR + 1):
        hour_start, hour_end = hour * NS_PER_HOUR, (hour + 1) * NS_PER_HOUR
        elapsed = overlap(start, end, hour_start, hour_end)
        if item.busy_ns <= 0:
            yield hour, elapsed / (end - start)
            continue
        children = sum(overlap(s, e, hour_start, hour_end) for s, e in item.child_islands)
        yield hour, (elapsed - children) / item.busy_ns


def active_interval(item: SpanDay) -> tuple[int, int]:
    """The span's elapsed interval within the span-day's day."""
    day_start = (item.day - EPOCH_DAY).days * NS_PER_DAY
    start = max(int(item.span.start or 0), day_start)
    return start, max(min(int(item.span.end or 0), day_start + NS_PER_DAY), start)


@dataclass
class InstanceHour:
    """One hour of one instance: its capacity and how it was used (rule H)."""

    instance: Instance
    hour: int
    busy_ns: float
    work: tuple[float, float, float]
    """Rate-card (cpu, memory, gpu) cost of the work in the hour."""
    capacity: tuple[float, float, float]
    factor: float

    @property
    def capacity_cost(self) -> float:
        """The hour's cost."""
        return sum(self.capacity)

    @property
    def allocated(self) -> float:
        """What the work pays."""
        return sum(self.work) * self.factor

    @property
    def idle(self) -> tuple[float, float, float]:
        """The unused capacity as (cpu, memory, gpu), in the capacity's proportions."""
        total = self.capacity_cost
        rest = total - self.allocated
        cpu, memory, gpu = (rest * c / total if total else 0.0 for c in self.capacity)
        return cpu, memory, gpu


def share_capacity(span_days: list[SpanDay]) -> list[InstanceHour]:
    """Every instance-hour (rule H); sets each span-day's ``capacity_factor``."""
    work = [d for d in span_days if not d.compute_claimed and d.rate_card is not None]
    used: dict[Instance, dict[int, list[float]]] = defaultdict(dict)
    spread: list[tuple[SpanDay, Instance, list[tuple[int, float]]]] = []
    for item in work:
        instance = (item.day, item.span.service, region(item.span), instance_of(item.span))
        shares = list(hour_shares(item))
        spread.append((item, instance, shares))
        for hour, share in shares:
            totals = used[instance].setdefault(hour, [0.0, 0.0, 0.0, 0.0])
            totals[0] += item.weight * item.busy_ns * share
            totals[1] += item.cpu_cost * share
            totals[2] += item.memory_cost * share
            totals[3] += item.gpu_cost * share
    hours: list[InstanceHour] = []
    factors: dict[tuple[Instance, int], float] = {}
    for instance, by_hour in used.items():
        busy = sum(v[0] for v in by_hour.values())
        cpu, memory, gpu = (
            NS_PER_HOUR * sum(v[i] for v in by_hour.values()) / busy if busy else 0.0
            for i in (1, 2, 3)
        )
        capacity = (cpu, memory, gpu)
        for hour in range(min(by_hour), max(by_hour) + 1):
            totals = by_hour.get(hour, [0.0, 0.0, 0.0, 0.0])
            work_cost, capacity_cost = sum(totals[1:]), sum(capacity)
            factor = capacity_cost / work_cost if work_cost > capacity_cost else 1.0
            factors[(instance, hour)] = factor
            hours.append(
                InstanceHour(
                    instance,
                    hour,
                    totals[0],
                    (totals[1], totals[2], totals[3]),
                    capacity,
                    factor,
                )
            )
    for item, instance, shares in spread:
        item.capacity_factor = sum(share * factors[(instance, hour)] for hour, share in shares)
    return hours


# --- amortization (rule E) ------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def amortize(
    seed_dir: Path, window: list[date], span_days: list[SpanDay]
) -> dict[Key, tuple[float, float]]:
    """Build and maintenance cost per (day, feature, tenant) over the reporting window."""
    in_window = set(window)
    build: dict[tuple[date, str], float] = defaultdict(float)
    for row in _read_csv(seed_dir / "feature_build_costs.csv"):
        launch = date.fromisoformat(row["launch_date"])
        end = add_months(launch, int(row["useful_life_months"]))
        daily = float(row["build_cost"]) / (end - launch).days
        for day in _days(launch, end):
            if day in in_window:
                build[(day, row["feature_id"])] += daily

    owned: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _read_csv(seed_dir / "feature_ownership.csv"):
        owned[row["team_id"]].append(row)
    maintenance: dict[tuple[date, str], float] = defaultdict(float)
    for row in _read_csv(seed_dir / "team_costs.csv"):
        start = date.fromisoformat(row["period_start"])
        end = date.fromisoformat(row["period_end"])
        daily = float(row["team_cost"]) * float(row["maintenance_share"]) / (end - start).days
        column = (
            "complexity_score" if row["weight_basis"] == "complexity_score" else "changes_per_month"
        )
        weights = {f["feature_id"]: float(f[column] or 0) for f in owned[row["team_id"]]}
        total = sum(weights.values())
        if not total:
            continue
        for day in _days(start, end):
            if day in in_window:
                for feature, weight in weights.items():
                    maintenance[(day, feature)] += daily * weight / total

    invocations: dict[tuple[date, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for item in span_days:
        if item.invocation_count:
            invocations[(item.day, item.attribution.feature)][item.attribution.tenant] += (
                item.weight * item.invocation_count
            )
    out: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for index, amounts in enumerate((build, maintenance)):
        for (day, feature), amount in amounts.items():
            tenants = invocations.get((day, feature))
            if not tenants:
                out[(day.isoformat(), feature, SHARED_TENANT)][index] += amount
                continue
            requests = sum(tenants.values())
            for tenant, count in tenants.items():
                out[(day.isoformat(), feature, tenant)][index] += amount * count / requests
    return {k: (v[0], v[1]) for k, v in out.items()}


# --- reconciliation (rule F) ----------------------------------------------------------------------
Group = tuple[str, str, str]
"""(month ``YYYY-MM``, service.name, cloud.region)."""


def compute_factors(
    capacity_hours: list[InstanceHour], bill: Bill
) -> tuple[dict[Group, float], dict[Group, float], dict[Group, float]]:
    """(estimated, billed, factor) per (month, service, region) (rule F).

    estimated: Σ capacity of the group's instance-hours (rule H); billed: Σ its charges
    mapped to the service's compute, by day. The compute a service is billed that month in
    regions with no estimate (no region, ``global``) is placed by estimate on its regions with a
    bill of their own, else on all with an estimate. factor = (billed + placed share) /
    estimated where the estimate is not 0 and the group has a bill or a share of one, else 1
    (for every group with instance-hours).
    """
    estimated: dict[Group, float] = defaultdict(float)
    for hour in capacity_hours:
        day, service, service_region, _ = hour.instance
        estimated[(day.isoformat()[:7], service, service_region)] += hour.capacity_cost
    billed: dict[Group, float] = defaultdict(float)
    for (service, charge_region, day), amount in bill.service_cost.items():
        billed[(day.isoformat()[:7], service, charge_region)] += amount
    unplaced: dict[tuple[str, str], float] = defaultdict(float)
    for (month, service, region), amount in billed.items():
        if estimated.get((month, service, region), 0.0) == 0:
            unplaced[(month, service)] += amount
    # Placed by estimate on the regions with a bill of their own, else on all with an estimate.
    billed_regions: dict[tuple[str, str], float] = defaultdict(float)
    all_regions: dict[tuple[str, str], float] = defaultdict(float)
    for group, estimate in estimated.items():
        if estimate != 0:
            all_regions[group[:2]] += estimate
            if group in billed:
                billed_regions[group[:2]] += estimate
    factors: dict[Group, float] = {}
    for group, estimate in estimated.items():
        month_service = group[:2]
        rest = unplaced.get(month_service, 0.0)
        placing = billed_regions.get(month_service) or all_regions[month_service]
        if estimate == 0:
            factors[group] = 1.0
        elif group in billed:
            factors[group] = (billed[group] + rest * estimate / placing) / estimate
        elif month_service not in billed_regions and rest != 0:
            factors[group] = rest / placing
        else:
            factors[group] = 1.0
    return dict(estimated), dict(billed), factors
