"""Telemetry as a hostile world delivers it: every class of damage, built for real.

Two builds of the same good spans: ``baseline`` reads them from plain files; ``hostile`` reads
them from plain, gzip and zstd files beside files with every kind of damage (absurd times,
wrong-shaped JSON, bytes that are not UTF-8, whitespace lines, compressed files cut short or
not compressed data at all, a second version of a span) and the legal shapes producers differ
in (the file exporter's length-prefixed zstd frames, protobuf field names). Its folder's name
holds a quote, so a path is data and never SQL. For each class the tests check that the build
did not stop, that ``span_accounting`` balances, that the item appears with its reason, and
that no cost appears or disappears: the hostile build's marts cost exactly what the
baseline's do.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
import zstandard

from conftest import BUILD_WITHOUT_TESTS, DEMO_CONFIG, DemoBuild, dbt_vars_for, run_dbt
from conftest import otlp_span as span
from feature_cost.demo import generate

# Each test builds its own data set with dbt: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

DAY = 1_767_571_200_000_000_000  # 2026-01-05T00:00:00Z
MS = 1_000_000
INT64_MAX = 2**63 - 1
HOUR = 3600 * 10**9
NOW = time.time_ns()

GATEWAY = [
    {"key": "service.name", "value": {"stringValue": "web-gateway"}},
    {"key": "cloud.region", "value": {"stringValue": "us-east-1"}},
    {"key": "host.type", "value": {"stringValue": "m5.xlarge"}},
]


def line(*spans: dict) -> str:
    body = {
        "resourceSpans": [
            {"resource": {"attributes": GATEWAY}, "scopeSpans": [{"spans": list(spans)}]}
        ]
    }
    return json.dumps(body, separators=(",", ":"))


TRACE_GOOD = "a" * 32
GOOD_FEATURE_SPAN = span(
    TRACE_GOOD, "1" * 16, DAY + 1000 * MS, DAY + 1100 * MS,
    **{"feature.id": "checkout-v2", "tenant.id": "tenant-acme"},
)  # fmt: skip
GOOD_CHILD = span(TRACE_GOOD, "2" * 16, DAY + 1010 * MS, DAY + 1050 * MS, parent="1" * 16)
# A span that is its own parent (a feature span) and two spans that are each other's parent.
SELF_PARENT = span(
    "c" * 32, "3" * 16, DAY + 5000 * MS, DAY + 5200 * MS, parent="3" * 16,
    **{"feature.id": "advanced-reports", "tenant.id": "tenant-acme"},
)  # fmt: skip
CYCLE_X = span("d" * 32, "4" * 16, DAY + 6000 * MS, DAY + 6300 * MS, parent="5" * 16)
CYCLE_Y = span("d" * 32, "5" * 16, DAY + 6100 * MS, DAY + 6200 * MS, parent="4" * 16)
GZIP_SPAN = span(
    "e" * 32, "6" * 16, DAY + 7000 * MS, DAY + 7400 * MS,
    **{"feature.id": "advanced-reports", "tenant.id": "tenant-globex"},
)  # fmt: skip
ZSTD_SPAN = span(
    "f" * 32, "7" * 16, DAY + 8000 * MS, DAY + 8250 * MS,
    **{"feature.id": "checkout-v2", "tenant.id": "tenant-globex"},
)  # fmt: skip
# The file exporter's `compression: zstd` (without its native-compression gate): each message
# a zstd frame behind its length.
FRAMED_SPAN = span(
    "b" * 32, "c" * 16, DAY + 3000 * MS, DAY + 3300 * MS,
    **{"feature.id": "checkout-v2", "tenant.id": "tenant-acme"},
)  # fmt: skip
FRAMED_CHILD = span("b" * 32, "d" * 16, DAY + 3010 * MS, DAY + 3100 * MS, parent="c" * 16)
FRAMED_LINES = [line(FRAMED_SPAN), line(FRAMED_CHILD)]


def zstd_frames(lines: list[str]) -> bytes:
    """Each line a zstd frame behind its length (4 bytes, big-endian), as the exporter writes."""
    frames = [zstandard.ZstdCompressor().compress(text.encode()) for text in lines]
    return b"".join(len(frame).to_bytes(4, "big") + frame for frame in frames)


# Written with the protobuf field names, which protojson parsers accept beside the JSON names:
# the whole line, and in a line of JSON names the attribute values alone.
PROTO_SPAN = span(
    "12" * 16, "e" * 16, DAY + 4000 * MS, DAY + 4200 * MS,
    **{"feature.id": "advanced-reports", "tenant.id": "tenant-acme"},
)  # fmt: skip
PROTO_CHILD = span(
    "12" * 16, "f" * 16, DAY + 4010 * MS, DAY + 4100 * MS, parent="e" * 16,
    **{"feature.variant": "b"},
)  # fmt: skip


def proto_names(text: str, only: frozenset[str] | None = None) -> str:
    """A JSON line with its keys (or only those in ``only``) as protobuf field names."""

    def snake(fields: dict[str, Any]) -> dict[str, Any]:
        return {
            re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
            if only is None or key in only
            else key: value
            for key, value in fields.items()
        }

    return json.dumps(json.loads(text, object_hook=snake), separators=(",", ":"))


PROTO_LINES = [
    proto_names(line(PROTO_SPAN)),
    proto_names(line(PROTO_CHILD), only=frozenset({"stringValue"})),
]

# Attributes written as a JSON map (not OTLP): read without them, the line named. In both
# builds, so its (unattributed) cost is the same in each.
MAP_ATTRIBUTES = dict(
    span("9" * 32, "8" * 16, DAY + 9000 * MS, DAY + 9100 * MS),
    attributes={"feature.id": "checkout-v2"},
)
GOOD_LINES = [line(GOOD_FEATURE_SPAN, GOOD_CHILD), line(SELF_PARENT), line(CYCLE_X, CYCLE_Y)]
GZIP_LINES = [line(GZIP_SPAN)]
ZSTD_LINES = [line(ZSTD_SPAN)]

TEN_YEARS = 3652 * 86_400 * 10**9
BOUNDS_LINES = [
    line(span("1" * 32, "a" * 16, DAY, DAY + TEN_YEARS)),  # $24M of compute, once
    line(span("2" * 32, "a" * 16, DAY, INT64_MAX)),  # overflowed every build
    line(span("3" * 32, "a" * 16, 10**9, 10**9 + MS)),  # 1970
    line(span("4" * 32, "a" * 16, DAY, DAY + 25 * 3600 * 10**9)),  # over 24 h
    line(span("5" * 32, "a" * 16, DAY, 10**30)),  # beyond int64
    # Starts within the future tolerance (24 h) of the run, ends beyond it.
    line(span("6" * 32, "a" * 16, NOW + 23 * HOUR, NOW + 26 * HOUR)),
]
BOUNDS_REASONS = [
    "duration_too_long",
    "duration_too_long",
    "starts_before_earliest_date",
    "duration_too_long",
    "invalid_timestamp",
    "ends_in_the_future",
]

SHAPE_LINES = {
    1: ('{"resourceSpans":{"scopeSpans":[]}}', "unexpected_shape", "resource_spans_not_a_list"),
    2: (
        '{"resourceSpans":[{"scopeSpans":{"spans":[]}}]}',
        "unexpected_shape",
        "scope_spans_not_a_list",
    ),
    3: (
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": GOOD_FEATURE_SPAN}]}]}),
        "unexpected_shape",
        "spans_not_a_list",
    ),
    4: ("[1, 2]", "unexpected_shape", "not_an_object"),
    5: ('{"resourceSpans":[]}', "no_spans", "no_resource_spans"),
    6: ("{}", "no_spans", "no_resource_spans"),
    7: ('{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]}', "no_spans", "no_spans"),
    8: (" \t \r", "blank", None),
    # A sound span (a redelivery of one already received) beside a wrong-shaped part.
    9: (
        json.dumps(
            {
                "resourceSpans": [
                    json.loads(line(GOOD_CHILD))["resourceSpans"][0],
                    {"scopeSpans": {"oops": True}},
                ]
            },
            separators=(",", ":"),
        ),
        "unexpected_shape",
        "scope_spans_not_a_list",
    ),
}

# Same ids as the kept feature span, other content: a conflicting second version.
CONFLICTING = dict(GOOD_FEATURE_SPAN, endTimeUnixNano=str(DAY + 9000 * MS))


def write_good(otlp: Path, compressed: bool) -> None:
    otlp.mkdir(parents=True, exist_ok=True)
    (otlp / "a-good.jsonl").write_text("\n".join(GOOD_LINES) + "\n", encoding="utf-8")
    (otlp / "i-map.jsonl").write_text(line(MAP_ATTRIBUTES) + "\n", encoding="utf-8")
    (otlp / "l-proto-names.jsonl").write_text("\n".join(PROTO_LINES) + "\n", encoding="utf-8")
    gz_text = ("\n".join(GZIP_LINES) + "\n").encode()
    zst_text = ("\n".join(ZSTD_LINES) + "\n").encode()
    if compressed:
        (otlp / "b-good.jsonl.gz").write_bytes(gzip.compress(gz_text))
        (otlp / "c-good.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(zst_text))
        (otlp / "j-framed.jsonl.zst").write_bytes(zstd_frames(FRAMED_LINES))
    else:
        (otlp / "b-good.jsonl").write_bytes(gz_text)
        (otlp / "c-good.jsonl").write_bytes(zst_text)
        (otlp / "j-framed.jsonl").write_text("\n".join(FRAMED_LINES) + "\n", encoding="utf-8")


def write_hostile(otlp: Path) -> None:
    write_good(otlp, compressed=True)
    (otlp / "d-bounds.jsonl").write_text("\n".join(BOUNDS_LINES) + "\n", encoding="utf-8")
    shapes = [SHAPE_LINES[number][0] for number in sorted(SHAPE_LINES)]
    (otlp / "e-shapes.jsonl").write_text("\n".join(shapes) + "\n", encoding="utf-8")
    # Line 1 is not UTF-8; line 2 redelivers a span already received.
    (otlp / "f-binary.jsonl").write_bytes(
        b'{"resourceSpans": "caf\xe9 \xff\xfe"}\n' + line(GOOD_CHILD).encode() + b"\n"
    )
    # The Collector crashed while writing: the gzip stream stops half-way.
    whole = gzip.compress(("\n".join([line(GOOD_CHILD)] * 50) + "\n").encode())
    (otlp / "g-truncated.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    # zstd magic bytes, then garbage.
    (otlp / "h-junk.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 10)
    # Length-prefixed frames: a sound one, one that is not zstd, one the crash cut short.
    cut = zstd_frames([line(GOOD_CHILD)])
    (otlp / "k-framed-damaged.jsonl.zst").write_bytes(
        zstd_frames([line(GOOD_CHILD)])
        + (5).to_bytes(4, "big")
        + b"\x28\xb5\x2f\xfd!"
        + cut[: len(cut) - 8]
    )
    (otlp / "z-conflict.jsonl").write_text(line(CONFLICTING) + "\n", encoding="utf-8")


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def build(
    root: Path,
    context: Path,
    otlp: Path,
    command: Sequence[str] = ("build",),
    **paths: str,
) -> Path:
    """Build the span files in ``otlp`` with the context's revenue and flags (or the input
    ``paths`` given, as dbt vars) and no bill."""
    db = root / "feature_cost.duckdb"
    dbt_vars = {
        **dbt_vars_for(context),
        "otlp_path": str(otlp / "*.jsonl*"),
        "focus_billing_path": "",
        **paths,
    }
    run_dbt(command, duckdb_path=db, vars=dbt_vars, target_dir=root)
    return db


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rate-card, revenue and flag context: a generated day with no requests."""
    root = tmp_path_factory.mktemp("context")
    generate(replace(DEMO_CONFIG, days=1, requests_per_day=0), root)
    return root


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, context: Path) -> Path:
    root = tmp_path_factory.mktemp("baseline")
    write_good(root / "otlp", compressed=False)
    # Only compared with: the data tests run on the hostile build, which holds these spans.
    return build(root, context, root / "otlp", BUILD_WITHOUT_TESTS)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, context: Path) -> Path:
    root = tmp_path_factory.mktemp("hostile") / 'it\'s a "path"; drop table x'
    write_hostile(root / "otlp")
    return build(root, context, root / "otlp")


ACCOUNTING = (
    "spans_received, spans_attributed, spans_unattributed, spans_flag_off, spans_quarantined,"
    " duplicates_removed, conflicting_duplicates, spans_awaiting_backfill, spans_unaccounted,"
    " spans_in_parent_cycles, lines_quarantined, lines_without_spans, lines_blank"
)


def accounting(db: Path) -> dict[str, int]:
    names = [name.strip() for name in ACCOUNTING.split(",")]
    totals = rows(
        db,
        f"select {', '.join(f'sum({n})' for n in names)} from feature_cost_marts.span_accounting",
    )
    return dict(zip(names, (int(value or 0) for value in totals[0]), strict=True))


def assert_balances(db: Path) -> dict[str, int]:
    counts = accounting(db)
    assert counts["spans_unaccounted"] == 0
    assert counts["spans_received"] == sum(
        counts[name]
        for name in (
            "spans_attributed",
            "spans_unattributed",
            "spans_flag_off",
            "spans_quarantined",
            "duplicates_removed",
            "conflicting_duplicates",
            "spans_awaiting_backfill",
        )
    )
    return counts


def quarantine(db: Path, file_part: str) -> list[tuple]:
    return rows(
        db,
        "select line_number, quarantine_reason, quarantine_detail"
        " from feature_cost_marts.span_quarantine"
        f" where filename like '%{file_part}%' order by line_number, span_index",
    )


def mart_costs(db: Path) -> list[tuple]:
    return rows(
        db,
        "select date_day, feature_id, tenant_id, request_count, busy_ms, total_cost"
        " from feature_cost_marts.feature_cost_margin where total_cost != 0 or request_count != 0"
        " order by 1, 2, 3",
    )


def test_no_cost_appears_or_disappears(baseline: Path, hostile: Path) -> None:
    """Every kind of damage at once costs exactly what the good spans alone cost."""
    expected, actual = mart_costs(baseline), mart_costs(hostile)
    assert len(expected) == len(actual) > 0
    for left, right in zip(expected, actual, strict=True):
        assert left[:5] == right[:5]
        assert math.isclose(left[5], right[5], rel_tol=1e-12), (left, right)
    baseline_counts, hostile_counts = assert_balances(baseline), assert_balances(hostile)
    for name in ("spans_attributed", "spans_unattributed", "spans_flag_off"):
        assert hostile_counts[name] == baseline_counts[name], name


def test_absurd_times_are_quarantined_never_priced(hostile: Path) -> None:
    """Ten-year spans, an end at the int64 limit, 1970, over 24 h, beyond int64."""
    reasons = [reason for _, reason, _ in quarantine(hostile, "d-bounds")]
    assert reasons == BOUNDS_REASONS
    counts = assert_balances(hostile)
    # Counted once, as quarantined: a start beyond int64 has no day, and is not mistaken for a
    # span that a run has not screened yet.
    assert counts["spans_awaiting_backfill"] == 0
    priced = rows(
        hostile,
        "select count(*) from main.int_span_days_priced where trace_id in"
        " ('11111111111111111111111111111111', '22222222222222222222222222222222')",
    )
    assert priced == [(0,)]
    # The 1970 span never reaches pricing, so the rate-card coverage test holds.
    days = rows(hostile, "select min(date_day) from feature_cost_marts.feature_cost_margin")
    assert days[0][0].year == 2026


def test_every_line_is_accounted_for(hostile: Path) -> None:
    """Wrong shapes are quarantined with the part named; empty and blank lines counted."""
    outcomes = rows(
        hostile,
        "select line_number, line_outcome, line_detail from main.stg_otel__otlp_lines"
        " where filename like '%e-shapes%' order by line_number",
    )
    assert outcomes == [(n, o, d) for n, (_, o, d) in sorted(SHAPE_LINES.items())]
    quarantined = [(n, r, d) for n, r, d in quarantine(hostile, "e-shapes")]
    assert quarantined == [
        (n, o, d) for n, (_, o, d) in sorted(SHAPE_LINES.items()) if o == "unexpected_shape"
    ]
    counts = assert_balances(hostile)
    assert counts["lines_without_spans"] == 3
    assert counts["lines_blank"] == 1
    assert quarantine(hostile, "i-map") == [(1, "unexpected_shape", "attributes_not_a_list")]
    assert rows(
        hostile,
        f"select feature_id from main.int_spans_attributed where span_id = '{'8' * 16}'",
    ) == [("__unattributed__",)]
    # The sound span beside the wrong-shaped part was read (a redelivery: a duplicate).
    ninth = rows(
        hostile,
        "select span_status from main.int_spans_screened"
        " where filename like '%e-shapes%' and line_number = 9",
    )
    assert ninth == [("duplicate",)]


def test_bytes_and_compression_never_stop_the_build(hostile: Path) -> None:
    """A non-UTF-8 line is quarantined alone; gzip and zstd files are read, and so are the
    file exporter's length-prefixed zstd frames; a truncated gzip gives its complete lines, a
    frame that does not decompress or was cut short is a quarantined line; zstd magic with
    garbage is an unreadable file."""
    assert [(n, r) for n, r, _ in quarantine(hostile, "f-binary")] == [(1, "invalid_utf8")]
    assert rows(
        hostile,
        "select span_status from main.int_spans_screened where filename like '%f-binary%'",
    ) == [("duplicate",)]
    read = rows(
        hostile,
        "select span_id, span_status from main.int_spans_screened"
        " where filename like '%-good.jsonl.%' order by span_id",
    )
    assert read == [("6" * 16, "accepted"), ("7" * 16, "accepted")]
    framed = rows(
        hostile,
        "select span_id, span_status from main.int_spans_screened"
        " where filename like '%j-framed%' order by span_id",
    )
    assert framed == [("c" * 16, "accepted"), ("d" * 16, "accepted")]
    damaged = rows(
        hostile,
        "select line_number, line_outcome from main.stg_otel__otlp_lines"
        " where filename like '%k-framed-damaged%' order by line_number",
    )
    assert damaged == [(1, "spans"), (2, "invalid_json"), (3, "invalid_json")]
    truncated = rows(
        hostile,
        "select line_outcome, count(*) from main.stg_otel__otlp_lines"
        " where filename like '%g-truncated%' group by 1 order by 1",
    )
    assert dict(truncated).get("spans", 0) + dict(truncated).get("invalid_json", 0) >= 1
    assert set(dict(truncated)) <= {"spans", "invalid_json"}
    assert [(n, r) for n, r, _ in quarantine(hostile, "h-junk")] == [(0, "unreadable_file")]
    assert_balances(hostile)


def test_protobuf_field_names_are_read_as_the_json_names(hostile: Path) -> None:
    """A line written with the protobuf field names (``resource_spans``, ``trace_id``,
    ``string_value``), whole or in its attribute values alone, gives its spans, times and
    attributes as if written with the JSON names."""
    assert "resource_spans" in PROTO_LINES[0] and "string_value" in PROTO_LINES[1]
    read = rows(
        hostile,
        "select span_id, parent_span_id, feature_id, tenant_id, feature_variant,"
        " (end_ns - start_ns) // 1000000, quarantine_reason from main.stg_otel__spans"
        " where filename like '%l-proto-names%' order by span_id",
    )
    assert read == [
        ("e" * 16, None, "advanced-reports", "tenant-acme", None, 200, None),
        ("f" * 16, "e" * 16, None, None, "b", 90, None),
    ]


def test_a_span_that_is_its_own_ancestor_keeps_its_time(hostile: Path) -> None:
    """Self-parent and two-span cycles are roots: each keeps its own busy time."""
    busy = dict(
        rows(
            hostile,
            "select span_id, sum(busy_ns) / 1e6 from main.int_span_days_priced"
            " where trace_id in (repeat('c', 32), repeat('d', 32)) group by span_id",
        )
    )
    assert busy == {"3" * 16: 200.0, "4" * 16: 300.0, "5" * 16: 100.0}
    features = rows(
        hostile,
        "select span_id, feature_id from main.int_spans_attributed"
        " where trace_id in (repeat('c', 32), repeat('d', 32)) order by span_id",
    )
    assert features == [
        ("3" * 16, "advanced-reports"),
        ("4" * 16, "__unattributed__"),
        ("5" * 16, "__unattributed__"),
    ]
    assert assert_balances(hostile)["spans_in_parent_cycles"] == 3


def test_a_conflicting_second_version_is_counted_and_listed(hostile: Path) -> None:
    """Same ids, other content: the first delivery is kept, the other counted and listed."""
    ((line_number, reason, detail),) = quarantine(hostile, "z-conflict")
    assert (line_number, reason) == (1, "conflicting_duplicate")
    assert detail.startswith("differs from the delivery kept at ")
    assert detail.endswith("a-good.jsonl:1")
    counts = assert_balances(hostile)
    assert counts["conflicting_duplicates"] == 1
    kept = rows(
        hostile,
        "select end_ns from main.int_spans_screened"
        f" where span_id = '{'1' * 16}' and span_status = 'accepted'",
    )
    assert kept == [(DAY + 1100 * MS,)]


def test_a_history_without_spans_builds(tmp_path: Path, context: Path) -> None:
    """Only blank lines and empty files, the revenue and the flag history each a lone file
    of no bytes (not even a header): every test passes, the lines are counted, and there is
    no revenue and no flag change. Then a flag file without `tenant_id` beside a good one:
    the build stops and names it, as its changes would otherwise be read as global."""
    otlp = tmp_path / "otlp"
    otlp.mkdir()
    (otlp / "empty.jsonl").write_text("", encoding="utf-8")
    (otlp / "blank.jsonl").write_text("\n  \n", encoding="utf-8")
    for folder in ("revenue", "flags"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{folder}.csv").write_bytes(b"")
    paths = {
        "revenue_path": str(tmp_path / "revenue" / "*.csv"),
        "feature_flags_path": str(tmp_path / "flags" / "*.csv"),
    }
    db = build(tmp_path, context, otlp, **paths)
    counts = assert_balances(db)
    assert counts["spans_received"] == 0
    assert counts["lines_blank"] == 2
    assert rows(db, "select count(*) from main.stg_app__revenue") == [(0,)]
    assert rows(db, "select count(*) from main.stg_app__feature_flags") == [(0,)]

    header = "changed_at,flag_key,feature_id,tenant_id,enabled\n"
    (tmp_path / "flags" / "flags.csv").write_text(
        header + "2026-01-01T00:00:00Z,new-export,export,,true\n", encoding="utf-8"
    )
    (tmp_path / "flags" / "per-tenant.csv").write_text(
        header.replace("tenant_id,", "") + "2026-01-02T00:00:00Z,new-export,export,false\n",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match=r"flag file .*per-tenant\.csv: a row without"):
        build(tmp_path, context, otlp, ("build", "--select", "stg_app__feature_flags"), **paths)


def table_rows(db: Path) -> dict[str, list[tuple]]:
    """Every table and view of the build, its rows in a fixed order (but `read_at`, the
    start of the run that read a file)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name, list(column_name) from information_schema.columns"
            " where table_schema in ('main', 'feature_cost_marts') group by 1, 2 order by 1, 2"
        ).fetchall()
        rows = {}
        for schema, name, columns in tables:
            star = "* exclude (read_at)" if "read_at" in columns else "*"
            relation = f"{schema}.{name}"
            rows[relation] = con.execute(f"select {star} from {relation} order by all").fetchall()
        return rows


def test_a_rebuild_gives_identical_numbers(demo_build: DemoBuild, tmp_path: Path) -> None:
    """The same input built twice: every table equal to the last digit (sums of costs do not
    depend on the order in which parallel threads add them). The first build ran the data
    tests on this input; the second only has to give the same tables."""
    again = tmp_path / "again" / "feature_cost.duckdb"
    run_dbt(BUILD_WITHOUT_TESTS, duckdb_path=again, vars=demo_build.vars, target_dir=tmp_path)
    first, second = table_rows(demo_build.duckdb_path), table_rows(again)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
