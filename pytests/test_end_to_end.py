"""End to end: the public mart ``feature_cost_margin`` against an independent Python oracle.

dbt builds the project (in this process) into a throw-away DuckDB file (see ``conftest.py``);
``oracle.py`` recomputes the same numbers from the same raw files with the standard library
only. Two builds in all: the generated demo (``demo_build``, shared by most tests) and a tiny
hand-written OTLP/JSON file in shapes the demo generator never produces.

Every cost column of the mart is compared with the oracle: the rate-card components that no
shared pool claims (``cpu_cost``, ``memory_cost``, ``gpu_cost``, ``db_query_cost``), LLM tokens,
the shared-pool allocation, build and maintenance amortization, ``total_cost``, the
``cost_low``/``cost_high`` range and ``reconciled_cost``; plus the usage columns and revenue.
Two sums are checked on their own: the pools' cost is allocated in full, day by day, and each
billed service-month's reconciled compute is its bill. ``total_cost`` is also checked to be the
sum of every component ``*_cost`` column the mart has.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

import oracle
from conftest import PROJECT_ROOT, SEED_DIR, DemoBuild, run_dbt

REL_TOL = 1e-9
ABS_TOL = 1e-12
COST_ABS_TOL = 1e-9
# The mart rounds its adjusted counts to whole numbers; linked work (rule 12) and sampling give
# fractional counts, so a row's count is within half of the oracle's exact one.
ROUNDED_COUNT_COLUMNS = frozenset({"request_count", "query_count"})
MART = "feature_cost_marts.feature_cost_margin"
KEY_COLUMNS = ("date_day", "feature_id", "tenant_id")
USAGE_COLUMNS = ("request_count", "query_count", "busy_ms")
COMPONENT_COLUMNS = ("cpu_cost", "memory_cost", "gpu_cost", "db_query_cost")
COST_COLUMNS = (
    *COMPONENT_COLUMNS,
    "dedicated_compute_cost",
    "llm_cost",
    "shared_cost",
    "build_amortization_cost",
    "maintenance_cost",
    "total_cost",
    "cost_low",
    "cost_high",
    "reconciled_cost",
)
# The parts of reconciled_cost that are not compute (reconciled compute = reconciled_cost - these).
NON_COMPUTE_COLUMNS = (
    "db_query_cost",
    "llm_cost",
    "shared_cost",
    "build_amortization_cost",
    "maintenance_cost",
)
# `*_cost` columns that are not components of total_cost: sums of other components
# (direct = cpu + memory + gpu + db_query + llm, amortized = build + maintenance) and
# alternative totals (reconciled_cost = total_cost rescaled to the bill; dedicated_compute_cost
# = compute before capacity sharing). Every other `*_cost`
# column is taken to be a component: a new column that is not must be listed here.
NON_COMPONENT_COST_COLUMNS = frozenset(
    {"total_cost", "direct_cost", "amortized_cost", "reconciled_cost", "dedicated_compute_cost"}
)
INDIRECT_COLUMNS = frozenset({"shared_cost", "build_amortization_cost", "maintenance_cost"})
MAX_REPORTED = 15

Key = oracle.Key


# --- helpers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mart:
    """The mart as read from DuckDB: its column names and its rows keyed by the grain."""

    columns: tuple[str, ...]
    rows: dict[Key, dict[str, Any]]

    def __repr__(self) -> str:
        """A short summary instead of every row (pytest prints fixtures on failure)."""
        return f"Mart({len(self.rows)} rows, {len(self.columns)} columns)"

    def value(self, key: Key, column: str) -> float:
        """A numeric cell, NULL and missing rows read as 0."""
        row = self.rows.get(key)
        value = row.get(column) if row else None
        return 0.0 if value is None else float(value)


def read_mart(duckdb_path: Path) -> Mart:
    """Every column of the mart, selected by name, keyed by (day, feature, tenant)."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        columns = tuple(row[0] for row in con.execute(f"describe {MART}").fetchall())
        quoted = ", ".join(f'"{c}"' for c in columns)
        records = con.execute(f"select {quoted} from {MART}").fetchall()
    rows: dict[Key, dict[str, Any]] = {}
    for record in records:
        row = dict(zip(columns, record, strict=True))
        day = row["date_day"]
        key = (
            day.isoformat() if isinstance(day, date) else str(day),
            *(str(row[c]) for c in KEY_COLUMNS[1:]),
        )
        assert key not in rows, f"duplicate mart row for {key}"
        rows[key] = row
    return Mart(columns, rows)


def close(a: float, b: float, abs_tol: float = ABS_TOL) -> bool:
    """Equal within the suite's tolerance (relative 1e-9, absolute 1e-12 unless given)."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=abs_tol)


def oracle_value(row: oracle.MartRow | None, column: str) -> float:
    """The oracle's value of a mart column (0 for a key the oracle has no row for)."""
    return 0.0 if row is None else float(getattr(row, column))


def mart_has_activity(mart: Mart, key: Key, columns: tuple[str, ...]) -> bool:
    """True when any of ``columns`` is nonzero on the mart row."""
    return any(mart.value(key, c) != 0 for c in columns)


def compare(
    mart: Mart,
    result: oracle.OracleResult,
    columns: tuple[str, ...],
    abs_tol: float = ABS_TOL,
) -> list[str]:
    """Mismatches between mart and oracle on ``columns``, as readable lines.

    Keys: every oracle row with activity on ``columns`` must be in the mart, and every mart row
    with activity on ``columns`` must be in the oracle; then the values must agree.
    """
    problems: list[str] = []
    for key in sorted(set(result.rows) | set(mart.rows)):
        ours = result.rows.get(key)
        if key not in mart.rows:
            if any(oracle_value(ours, c) != 0 for c in columns):
                problems.append(f"{key}: in the oracle, missing from the mart")
            continue
        if ours is None:
            if mart_has_activity(mart, key, columns):
                problems.append(f"{key}: in the mart, unknown to the oracle")
            continue
        for column in columns:
            expected, actual = oracle_value(ours, column), mart.value(key, column)
            tolerance = max(abs_tol, 0.5 + 1e-9) if column in ROUNDED_COUNT_COLUMNS else abs_tol
            if not close(expected, actual, tolerance):
                problems.append(f"{key} {column}: oracle {expected!r} mart {actual!r}")
    return problems


def compare_keys(mart: Mart, result: oracle.OracleResult) -> list[str]:
    """The mart's grain against the oracle's: a row for every (day, feature, tenant) with any
    direct cost row, shared allocation, amortization or revenue, and no other."""
    return [
        f"{k}: in the oracle, missing from the mart" for k in result.rows.keys() - mart.rows
    ] + [f"{k}: in the mart, unknown to the oracle" for k in mart.rows.keys() - result.rows]


def report(problems: list[str]) -> str:
    """A failure message listing the first mismatches."""
    shown = "\n".join(problems[:MAX_REPORTED])
    more = len(problems) - MAX_REPORTED
    return f"{len(problems)} mismatches:\n{shown}" + (f"\n... and {more} more" if more > 0 else "")


def run_oracle(vars: Mapping[str, str]) -> oracle.OracleResult:
    """The oracle on the files a set of dbt vars points at."""
    return oracle.compute(
        vars["otlp_path"],
        vars["revenue_path"],
        vars["feature_flags_path"],
        SEED_DIR,
        focus_billing_glob=vars.get("focus_billing_path", ""),
    )


# --- the generated demo -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_oracle(demo_build: DemoBuild) -> oracle.OracleResult:
    """The oracle's numbers for the demo data set."""
    return run_oracle(demo_build.vars)


@pytest.fixture(scope="module")
def demo_mart(demo_build: DemoBuild) -> Mart:
    """The mart dbt built from the demo data set."""
    return read_mart(demo_build.duckdb_path)


def test_oracle_accepts_every_generated_span(
    demo_build: DemoBuild, demo_oracle: oracle.OracleResult
) -> None:
    """The demo is clean: every span the generator wrote is read, accepted and priced."""
    read = demo_oracle.read
    assert read.invalid_lines == []
    assert read.quarantined == []
    assert read.duplicates == []
    assert len(read.accepted) == demo_build.demo.spans
    assert demo_oracle.unpriced == []


def test_usage_matches_oracle(demo_mart: Mart, demo_oracle: oracle.OracleResult) -> None:
    """Requests, queries and busy ms per (day, feature, tenant) equal the oracle's."""
    problems = compare(demo_mart, demo_oracle, USAGE_COLUMNS)
    assert not problems, report(problems)


def test_cost_components_match_oracle(demo_mart: Mart, demo_oracle: oracle.OracleResult) -> None:
    """Every cost column per (day, feature, tenant) equals the oracle's, both ways.

    The mart and the oracle have the same rows; on each, cpu, memory, gpu and db_query cost
    (what no shared pool claims: a compute pool pays for the cpu, memory and gpu of the work in
    its scope, a database or cache for its queries, on days the pool has a cost), llm, shared,
    build and maintenance cost, total_cost, cost_low, cost_high and reconciled_cost agree
    (relative 1e-9, absolute 1e-9).
    """
    problems = compare_keys(demo_mart, demo_oracle)
    problems += compare(
        demo_mart, demo_oracle, (*COST_COLUMNS, "request_count"), abs_tol=COST_ABS_TOL
    )
    assert not problems, report(problems)


def test_demo_exercises_every_cost_rule(demo_oracle: oracle.OracleResult) -> None:
    """The comparison above is not vacuous: the demo has claimed and unclaimed work, tokens,
    pool-days from the bill and from the seed, usage, idle and fixed shares with a range,
    amortization and a reconciliation factor other than 1."""
    span_days = demo_oracle.span_days
    assert any(d.compute_claimed for d in span_days)
    assert any(d.queries_claimed for d in span_days)
    assert any(not d.compute_claimed and d.cpu_cost for d in span_days)
    assert any(d.llm_cost for d in span_days)
    assert not [d for d in span_days if d.llm_unpriced]
    assert set(demo_oracle.pools.source.values()) == {"bill", "seed"}
    assert {a.kind for a in demo_oracle.allocations} == {"usage", "idle", "fixed"}
    assert any(a.low < a.allocated < a.high for a in demo_oracle.allocations)
    rows = demo_oracle.rows.values()
    assert sum(r.build_amortization_cost for r in rows) > 0
    assert sum(r.maintenance_cost for r in rows) > 0
    assert any(not math.isclose(f, 1.0) for f in demo_oracle.compute_factors.values())


def test_shared_cost_equals_pool_cost(demo_mart: Mart, demo_oracle: oracle.OracleResult) -> None:
    """Per day, the mart's shared_cost sums to the shared resources' cost that day (from the
    mapped bill, else the cost seed): every pool is allocated in full, idle days included."""
    pool_cost: dict[str, float] = defaultdict(float)
    for (_, day), amount in demo_oracle.pools.cost.items():
        pool_cost[day.isoformat()] += amount
    shared: dict[str, float] = defaultdict(float)
    for key in demo_mart.rows:
        shared[key[0]] += demo_mart.value(key, "shared_cost")
    problems = [
        f"{day}: pools cost {pool_cost.get(day, 0.0)!r}, mart shared_cost {shared.get(day, 0.0)!r}"
        for day in sorted(pool_cost.keys() | shared.keys())
        if not close(pool_cost.get(day, 0.0), shared.get(day, 0.0), COST_ABS_TOL)
    ]
    assert not problems, report(problems)
    assert sum(pool_cost.values()) > 0


def billed_compute_by_month(bill_glob: str) -> dict[oracle.Group, float]:
    """EffectiveCost per (month, service, region) of the bill's lines mapped to a service's
    compute, read straight from the CSV: every line must fall inside one month."""
    with (SEED_DIR / "billing_mappings.csv").open(encoding="utf-8", newline="") as handle:
        mappings = [m for m in csv.DictReader(handle) if m["target_type"] == "service_compute"]
    billed: dict[oracle.Group, float] = defaultdict(float)
    for path in oracle.expand_glob(bill_glob):
        with open(path, encoding="utf-8", newline="") as handle:
            for charge in csv.DictReader(handle):
                tags = json.loads(charge["Tags"]) if charge["Tags"] not in ("", "NULL") else {}
                for m in mappings:
                    value = charge["ResourceId"] if m["match_on"] == "resource_id" else None
                    if m["match_on"] == "tag":
                        value = tags.get(m["tag_key"])
                    if value != m["match_value"] or charge["RegionId"] in ("", "NULL"):
                        continue
                    start, end = charge["ChargePeriodStart"], charge["ChargePeriodEnd"]
                    last_instant = datetime.fromisoformat(end) - timedelta(microseconds=1)
                    assert start[:7] == last_instant.isoformat()[:7], f"crosses a month: {charge}"
                    key = (start[:7], m["target_id"], charge["RegionId"])
                    billed[key] += float(charge["EffectiveCost"])
    return dict(billed)


def test_reconciled_compute_equals_the_bill(
    demo_build: DemoBuild, demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """Each billed (month, service, region)'s reconciled compute is what the bill says.

    Per billed group: the capacity of its instance-hours (the work's shares and the idle) x
    its factor sums to the EffectiveCost of the bill lines mapped to it (read straight from the
    CSV). Per month, in the
    mart: Σ reconciled compute (reconciled_cost minus its non-compute parts) = Σ billed of the
    billed groups + Σ rate-card estimate of the groups the bill does not name.
    """
    billed = billed_compute_by_month(demo_build.vars["focus_billing_path"])
    assert billed, "the demo bill names no service's compute"
    reconciled: dict[oracle.Group, float] = defaultdict(float)
    for hour in demo_oracle.capacity_hours:
        day, service, service_region, _ = hour.instance
        group = (day.isoformat()[:7], service, service_region)
        reconciled[group] += hour.capacity_cost * demo_oracle.compute_factors[group]
    problems = [
        f"{group}: billed {amount!r}, reconciled compute {reconciled.get(group)!r}"
        for group, amount in sorted(billed.items())
        if group not in reconciled or not close(amount, reconciled[group], COST_ABS_TOL)
    ]

    expected_by_month: dict[str, float] = defaultdict(float)
    for group, estimate in demo_oracle.compute_estimated.items():
        expected_by_month[group[0]] += billed.get(group, estimate) if estimate else 0.0
    mart_by_month: dict[str, float] = defaultdict(float)
    for key in demo_mart.rows:
        mart_by_month[key[0][:7]] += demo_mart.value(key, "reconciled_cost") - sum(
            demo_mart.value(key, c) for c in NON_COMPUTE_COLUMNS
        )
    problems += [
        f"{month}: mart reconciled compute {mart_by_month.get(month, 0.0)!r}, "
        f"expected {expected_by_month.get(month, 0.0)!r}"
        for month in sorted(expected_by_month.keys() | mart_by_month.keys())
        if not close(expected_by_month.get(month, 0.0), mart_by_month.get(month, 0.0), COST_ABS_TOL)
    ]
    assert not problems, report(problems)


def test_revenue_matches_revenue_files(demo_mart: Mart, demo_oracle: oracle.OracleResult) -> None:
    """Each mart row's revenue is the sum of the revenue CSV rows of its key."""
    problems = compare(demo_mart, demo_oracle, ("revenue",))
    assert not problems, report(problems)
    assert sum(r.revenue for r in demo_oracle.rows.values()) > 0


def test_the_last_day_of_the_data_is_in_progress_and_raises_no_alert(
    demo_build: DemoBuild, demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """Rule 16: a day is complete once some span's work reached a later day. The oracle's last
    day with span work, and the days after it (pool and amortization cost only), are in
    progress, every earlier day complete; cost_alerts has no row on a day in progress, though
    the demo's alerts fire on complete days."""
    last_span_day = max(span_day.day for span_day in demo_oracle.span_days).isoformat()
    days = {key[0]: row["is_complete_day"] for key, row in demo_mart.rows.items()}
    assert last_span_day in days
    assert {day: complete for day, complete in days.items()} == {
        day: day < last_span_day for day in days
    }
    with duckdb.connect(str(demo_build.duckdb_path), read_only=True) as con:
        alert_days = {
            row[0].isoformat()
            for row in con.execute(
                "select distinct date_day from feature_cost_marts.cost_alerts"
            ).fetchall()
        }
    assert alert_days, "the demo raises alerts on complete days"
    assert all(day < last_span_day for day in alert_days)


def test_bi_tools_see_the_marts_alone_in_their_schema(demo_build: DemoBuild) -> None:
    """Every model of models/marts is a table or view of schema `feature_cost_marts` and
    nothing else is; staging, intermediate models and seeds are in `main`."""
    marts = {path.stem for path in (PROJECT_ROOT / "models" / "marts").rglob("*.sql")}
    seeds = {path.stem for path in SEED_DIR.glob("*.csv")}
    with duckdb.connect(str(demo_build.duckdb_path), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    by_schema: dict[str, set[str]] = defaultdict(set)
    for schema, name in relations:
        by_schema[schema].add(name)
    assert by_schema["feature_cost_marts"] == marts
    assert not by_schema["main"] & marts
    assert seeds <= by_schema["main"]
    assert {"stg_otel__spans", "int_span_days_priced"} <= by_schema["main"]


def test_total_cost_is_sum_of_cost_columns(demo_mart: Mart) -> None:
    """total_cost = the sum of every component ``*_cost`` column the mart has (more may come).

    Also: amortized_cost = build + maintenance, and direct_cost = the sum of the components
    that are neither shared nor amortized, when those columns exist.
    """
    leaves = [
        c for c in demo_mart.columns if c.endswith("_cost") and c not in NON_COMPONENT_COST_COLUMNS
    ]
    assert set(COMPONENT_COLUMNS) <= set(leaves)
    problems = []
    for key in sorted(demo_mart.rows):
        total = demo_mart.value(key, "total_cost")
        parts = sum(demo_mart.value(key, c) for c in leaves)
        if not math.isclose(total, parts, rel_tol=REL_TOL, abs_tol=1e-9):
            problems.append(f"{key}: total_cost {total!r} != sum of {leaves} = {parts!r}")
        if "amortized_cost" in demo_mart.columns:
            amortized = demo_mart.value(key, "build_amortization_cost") + demo_mart.value(
                key, "maintenance_cost"
            )
            if not math.isclose(demo_mart.value(key, "amortized_cost"), amortized, abs_tol=1e-9):
                problems.append(f"{key}: amortized_cost != build + maintenance")
        if "direct_cost" in demo_mart.columns:
            direct = sum(demo_mart.value(key, c) for c in leaves if c not in INDIRECT_COLUMNS)
            if not math.isclose(demo_mart.value(key, "direct_cost"), direct, abs_tol=1e-9):
                problems.append(f"{key}: direct_cost != sum of the direct components")
    assert not problems, report(problems)


def test_a_query_reported_as_client_span_and_event_counts_once(
    demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """Checkout's queries arrive twice, as the method's middleware writes them: a database
    client span from the driver's instrumentation and a ``db.query`` event on the handler
    span. The mart counts each once: checkout-v2's query_count is its client spans (with the
    order-events consumer's, in checkout-v2's share of each batch it processed)."""
    client_spans: Counter[str] = Counter()
    handler_events: Counter[str] = Counter()
    consumer_queries = 0.0
    for span in demo_oracle.read.accepted:
        attribution = demo_oracle.attributions[(str(span.trace_id), str(span.span_id))]
        if attribution.feature == oracle.LINKED and attribution.feature_span is not None:
            if oracle.is_database_client(span):
                consumer_queries += sum(
                    share
                    for linked, share, _ in oracle.link_shares(
                        attribution.feature_span, demo_oracle.attributions
                    )
                    if linked.original_feature == "checkout-v2"
                )
            continue
        if attribution.original_feature != "checkout-v2":
            continue
        if oracle.is_database_client(span):
            client_spans[span.service] += 1
        else:
            handler_events[span.service] += oracle.query_events(span)
    checkout_rows = [key for key in demo_mart.rows if key[1] == "checkout-v2"]
    mart_queries = sum(demo_mart.value(key, "query_count") for key in checkout_rows)
    assert client_spans["checkout-service"] > 0
    assert consumer_queries > 0
    # Every checkout-service query is reported both ways.
    assert handler_events["checkout-service"] == client_spans["checkout-service"]
    # The mart rounds each row's (fractional, with linked shares) count to a whole number.
    expected = sum(client_spans.values()) + consumer_queries
    assert abs(mart_queries - expected) <= 0.5 * len(checkout_rows)


def test_linked_consumer_work_is_split_over_the_messages_it_processed(
    demo_build: DemoBuild, demo_oracle: oracle.OracleResult
) -> None:
    """Rule 12, from the raw files: the order-events consumer's work is split over the tenants
    of the checkouts whose messages its batch processed, each link weighing the messages it
    stands for; a link to the legacy importer (whose spans never arrive) goes to
    ``__shared__`` work and is counted in span_accounting's ``links_not_received``."""
    tenants_of_trace: dict[str, set[str]] = defaultdict(set)
    received: set[tuple[str, str]] = set()
    linking: list[tuple[str, str, int, list[dict[str, Any]]]] = []
    for path in sorted((demo_build.data_dir / "otlp").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            for resource_spans in json.loads(line)["resourceSpans"]:
                for scope_spans in resource_spans["scopeSpans"]:
                    for span in scope_spans["spans"]:
                        received.add((span["traceId"], span["spanId"]))
                        for attribute in span.get("attributes", []):
                            if attribute["key"] == "tenant.id":
                                tenant = attribute["value"]["stringValue"]
                                tenants_of_trace[span["traceId"]].add(tenant)
                        if span.get("links"):
                            start = int(span["startTimeUnixNano"])
                            linking.append((span["traceId"], span["spanId"], start, span["links"]))
    expected: dict[str, Counter[str]] = {}
    links_missing: Counter[str] = Counter()
    for _, span_id, start, links in linking:
        weights: Counter[str] = Counter()
        for link in links:
            messages = next(
                (
                    int(a["value"]["intValue"])
                    for a in link.get("attributes", [])
                    if a["key"] == "messaging.batch.message_count"
                ),
                1,
            )
            if (link["traceId"], link["spanId"]) in received:
                # A checkout trace names one tenant, or none (work with no tenant is shared).
                (tenant,) = tenants_of_trace[link["traceId"]] or {"__shared__"}
            else:
                tenant = "__shared__"
                links_missing[oracle.day_of(start).isoformat()] += 1
            weights[tenant] += messages
        total = sum(weights.values())
        expected[span_id] = Counter({t: w / total for t, w in weights.items()})
    assert expected, "the demo has no linked consumer"
    assert sum(links_missing.values()) > 0, "the demo links to no span that is missing"
    assert any(len(shares) > 2 for shares in expected.values())
    with duckdb.connect(str(demo_build.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "select priced.span_id, priced.tenant_id, sum(priced.attribution_share)"
            " from main.int_span_days_priced as priced"
            " inner join main.int_spans_attributed as spans using (trace_id, span_id)"
            " where priced.date_day = priced.start_day and spans.link_span_id = spans.span_id"
            " group by priced.span_id, priced.tenant_id"
        ).fetchall()
        missing_by_day = dict(
            con.execute(
                "select cast(date_day as varchar), links_not_received"
                " from feature_cost_marts.span_accounting"
                " where links_not_received > 0"
            ).fetchall()
        )
    actual: dict[str, Counter[str]] = defaultdict(Counter)
    for span_id, tenant, share in rows:
        actual[span_id][tenant] += share
    assert actual.keys() == expected.keys()
    for span_id, shares in expected.items():
        assert shares.keys() == actual[span_id].keys(), span_id
        for tenant, share in shares.items():
            assert math.isclose(actual[span_id][tenant], share, rel_tol=1e-9), (span_id, tenant)
    assert missing_by_day == dict(links_missing)


def test_agent_usage_counts_once_on_its_llm_calls(
    demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """The summary agent span reports the summed usage of its chat calls: smart-summary's
    llm_cost equals its chat calls priced alone (cached input at its own price, reasoning as
    output), counted straight from the raw spans without the oracle's rule."""
    prices = oracle.load_llm_prices(SEED_DIR)
    agents = 0
    by_key: Counter[Key] = Counter()
    for span in demo_oracle.read.accepted:
        attribution = demo_oracle.attributions[(str(span.trace_id), str(span.span_id))]
        operation = span.attributes.get("gen_ai.operation.name")
        if attribution.feature != "smart-summary":
            continue
        if operation == "invoke_agent" and oracle.reported_tokens(span):
            agents += 1
        if operation != "chat":
            continue
        day = oracle.day_of(int(span.start or 0))
        price = oracle.pick_llm_price(prices, span.attributes.get("gen_ai.request.model"), day)
        assert price is not None
        usage = oracle.reported_tokens(span)
        assert usage is not None
        key = (day.isoformat(), attribution.feature, attribution.tenant)
        by_key[key] += oracle.sampling_weight(span) * price.cost(usage)
    assert agents > 0
    assert any(
        (oracle.reported_tokens(s) or {}).get("cache_read") for s in demo_oracle.read.accepted
    )
    for key, expected in by_key.items():
        assert math.isclose(demo_mart.value(key, "llm_cost"), expected, rel_tol=1e-9), key


@pytest.mark.slow
def test_flag_off_requests_are_found_without_a_flag_file(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """With no flag-history file, the telemetry's ``feature_flag.evaluation`` events alone say
    which dashboard requests ran with the flag off (the middleware opened no feature span and
    ran the handler anyway): flag_leakage lists them under the feature with their count, day
    by day, counted here straight from the raw events; and the mart agrees with the oracle."""
    dbt_vars = {**demo_build.vars, "feature_flags_path": ""}
    path = tmp_path / "no_flag_file" / "feature_cost.duckdb"
    run_dbt(
        ["build", "--exclude-resource-type", "test", "unit_test"],
        duckdb_path=path,
        vars=dbt_vars,
        target_dir=tmp_path,
    )
    off_requests: Counter[str] = Counter()
    read = oracle.read_spans(oracle.expand_glob(dbt_vars["otlp_path"]), now_ns=2**62)
    for span in read.accepted:
        for event in span.events:
            attributes = event.get("attributes") or {}
            if (
                event.get("name") == "feature_flag.evaluation"
                and attributes.get("feature_flag.result.value") is False
            ):
                off_requests[oracle.day_of(int(span.start or 0)).isoformat()] += 1
    assert sum(off_requests.values()) > 0, "the demo has no flag-off request"
    with duckdb.connect(str(path), read_only=True) as con:
        listed = dict(
            con.execute(
                "select cast(date_day as varchar), sum(invocation_count)"
                " from feature_cost_marts.flag_leakage"
                " where feature_id = 'real-time-dashboard' group by date_day"
            ).fetchall()
        )
    assert listed == dict(off_requests)
    result = run_oracle(dbt_vars)
    mart = read_mart(path)
    problems = compare_keys(mart, result)
    problems += compare(mart, result, (*COST_COLUMNS, "request_count"), abs_tol=COST_ABS_TOL)
    assert not problems, report(problems)


def test_request_count_is_feature_spans_started_that_day(
    demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """request_count = feature spans (own ``feature.id``) that started that day, per the oracle.

    Adjusted counts: a feature span of a trace sampled at 1 in 2 counts 2 (the demo samples
    its reports route), so the sampled feature must show more requests than spans received.
    """
    started: Counter[Key] = Counter()
    received: Counter[Key] = Counter()
    for item in demo_oracle.span_days:
        if item.attribution.is_feature_span and item.day == oracle.day_of(
            int(item.span.start or 0)
        ):
            key = (item.day.isoformat(), item.attribution.feature, item.attribution.tenant)
            started[key] += int(oracle.sampling_weight(item.span))
            received[key] += 1
    assert sum(started.values()) > 0
    assert sum(started.values()) > sum(received.values())
    mart_counts = {
        k: int(demo_mart.value(k, "request_count"))
        for k in demo_mart.rows
        if demo_mart.value(k, "request_count")
    }
    assert mart_counts == dict(started)


def test_request_count_agrees_with_generator(
    demo_build: DemoBuild, demo_mart: Mart, demo_oracle: oracle.OracleResult
) -> None:
    """The generator's own count of feature spans matches the mart.

    The generator counts every span it tagged with ``feature.id`` under that feature; the mart
    moves the invocations of a flag-gated feature made while its flag was off to
    ``__flag_off__``. So for each (day, feature, tenant): generator count = mart request_count
    + the ``__flag_off__`` invocations whose original feature it is (from the oracle, the only
    place that still knows the original feature of a ``__flag_off__`` request). And, without
    the oracle, the totals per (day, tenant) across all features and ``__flag_off__`` agree.
    """
    generated = demo_build.demo.feature_requests
    assert sum(generated.values()) > 0
    assert sum(demo_oracle.flag_off_requests_by_origin.values()) > 0, "demo gates nothing"

    expected: dict[Key, int] = {}
    for key in set(generated) | {k for k in demo_mart.rows if k[1] != oracle.FLAG_OFF}:
        if key[1] == oracle.FLAG_OFF:
            continue
        mart_count = int(demo_mart.value(key, "request_count"))
        expected[key] = mart_count + demo_oracle.flag_off_requests_by_origin.get(key, 0)
    assert {k: v for k, v in expected.items() if v} == {k: v for k, v in generated.items() if v}

    per_day_tenant_generated: Counter[tuple[str, str]] = Counter()
    for (day, _, tenant), count in generated.items():
        per_day_tenant_generated[(day, tenant)] += count
    per_day_tenant_mart: Counter[tuple[str, str]] = Counter()
    for key in demo_mart.rows:
        per_day_tenant_mart[(key[0], key[2])] += int(demo_mart.value(key, "request_count"))
    assert +per_day_tenant_mart == +per_day_tenant_generated


# --- Collector output the project has never seen ------------------------------------------------
NS_PER_MS = 1_000_000


def at(text: str) -> int:
    """Unix nanoseconds of a UTC ``YYYY-MM-DDTHH:MM:SS[.fff]`` timestamp, in integer arithmetic."""
    whole, _, fraction = text.partition(".")
    seconds = calendar.timegm(datetime.fromisoformat(whole).timetuple())
    return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))


def kv(key: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """One OTLP attribute."""
    return {"key": key, "value": dict(value)}


def line(*resource_spans: dict[str, Any]) -> str:
    """One TracesData JSON line."""
    return json.dumps({"resourceSpans": list(resource_spans)}, separators=(",", ":"))


def resource_spans(resource: list[dict[str, Any]], *spans: dict[str, Any]) -> dict[str, Any]:
    """A ResourceSpans object with one scope."""
    return {
        "resource": {"attributes": resource},
        "scopeSpans": [{"scope": {"name": "handmade", "version": "0.0.1"}, "spans": list(spans)}],
    }


# shop-api: cores as a *numeric* intValue, memory as a double, gpus as a string intValue.
SHOP_API = [
    kv("service.name", {"stringValue": "shop-api"}),
    kv("cloud.region", {"stringValue": "us-east-1"}),
    kv("host.type", {"stringValue": "m5.large"}),
    kv("cost.cpu.cores", {"intValue": 2}),
    kv("cost.memory.gb", {"doubleValue": 2.0}),
    kv("cost.gpu.count", {"intValue": "0"}),
    kv("service.name", {"stringValue": "ignored: the first occurrence wins"}),
]
# report-worker: no host.type (instance family __unknown__, priced by the "*" row).
REPORT_WORKER = [
    kv("service.name", {"stringValue": "report-worker"}),
    kv("cloud.region", {"stringValue": "us-east-1"}),
    kv("cost.cpu.cores", {"doubleValue": 1.5}),
    kv("cost.memory.gb", {"intValue": "3"}),
    kv("cost.gpu.count", {"intValue": 0}),
]

TRACE_A = "0AF7651916CD43DD8448EB211C80319C"  # uppercase: must be lowercased
TRACE_B = "4BF92F3577B34DA6A3CE929D0E0E4736"
TRACE_C = "5b8efff798038103d269b633813fc60c"
TRACE_D = "6e0c63257de34c92bf9efcd03927272e"
TRACE_E = "7f1d74368ef45da3c0a0fde14a38383f"
A_ROOT = "B7AD6B7169203331"
T_A = at("2026-01-06T10:00:00")
T_C = at("2026-01-06T11:00:00")
T_D = at("2026-01-06T13:00:00")


def handmade_lines() -> list[str]:
    """The hand-written Collector output, one string per line (including a corrupt one)."""
    a1 = {  # checkout-v2 feature span, kind as a string enum, timestamps as strings
        "traceId": TRACE_A,
        "spanId": A_ROOT,
        "parentSpanId": "",
        "name": "POST /checkout",
        "kind": "SPAN_KIND_SERVER",
        "startTimeUnixNano": str(T_A),
        "endTimeUnixNano": str(T_A + 100 * NS_PER_MS),
        "attributes": [
            kv("feature.id", {"stringValue": "checkout-v2"}),
            kv("tenant.id", {"stringValue": "tenant-a"}),
            kv("cost.memory.gb", {"intValue": "4"}),  # span attribute beats the resource
        ],
    }
    a2 = {  # CLIENT database call, 10..30 ms: one query
        "traceId": TRACE_A,
        "spanId": "A1B2C3D4E5F60718",
        "parentSpanId": A_ROOT,
        "name": "SELECT orders",
        "kind": 3,
        "startTimeUnixNano": str(T_A + 10 * NS_PER_MS),
        "endTimeUnixNano": str(T_A + 30 * NS_PER_MS),
        "attributes": [
            kv("db.system.name", {"stringValue": "postgresql"}),
            kv("db.query.summary", {"stringValue": "SELECT orders"}),
        ],
    }
    a3 = {  # 20..50 ms, overlaps a2: the children's union is 10..50 ms
        "traceId": TRACE_A,
        "spanId": "00F067AA0BA902B7",
        "parentSpanId": A_ROOT.lower(),
        "name": "compute totals",
        "kind": 1,
        "startTimeUnixNano": str(T_A + 20 * NS_PER_MS),
        "endTimeUnixNano": str(T_A + 50 * NS_PER_MS),
    }
    a3_duplicate = {**a3, "endTimeUnixNano": str(T_A + 90 * NS_PER_MS)}  # ignored: first wins
    c1 = {  # no feature anywhere in the trace; its own tenant; numeric ns-precise timestamps
        "traceId": TRACE_C,
        "spanId": "1111111111111111",
        "name": "GET /session",
        "kind": 2,
        "startTimeUnixNano": T_C + 123,
        "endTimeUnixNano": T_C + 5 * NS_PER_MS + 123,
        "attributes": [kv("tenant.id", {"stringValue": "tenant-a"})],
    }
    c2 = {
        "traceId": TRACE_C,
        "spanId": "2222222222222222",
        "parentSpanId": "1111111111111111",
        "name": "lookup",
        "kind": 1,
        "startTimeUnixNano": str(T_C + 1 * NS_PER_MS),
        "endTimeUnixNano": str(T_C + 2 * NS_PER_MS),
    }
    b1 = {  # crosses midnight: 500 ms on the 6th, 1000 ms on the 7th; padded feature id
        "traceId": TRACE_B,
        "spanId": "53995C3F42CD8AD8",
        "parentSpanId": "",
        "name": "job:nightly-report",
        "kind": 2,
        "startTimeUnixNano": str(at("2026-01-06T23:59:59.500")),
        "endTimeUnixNano": str(at("2026-01-07T00:00:01")),
        "attributes": [
            kv("feature.id", {"stringValue": " advanced-reports "}),
            kv("tenant.id", {"stringValue": "tenant-b"}),
            kv("feature.id", {"stringValue": "checkout-v2"}),  # repeated key: ignored
        ],
    }
    b2 = {  # other service, so it does not reduce b1's busy time; two db.query events
        "traceId": TRACE_B,
        "spanId": "53995c3f42cd8ad9",
        "parentSpanId": "53995c3f42cd8ad8",
        "name": "fetch rows",
        "kind": 3,
        "startTimeUnixNano": at("2026-01-07T00:00:00.200"),
        "endTimeUnixNano": at("2026-01-07T00:00:00.700"),
        "events": [
            {"name": "db.query", "timeUnixNano": str(at("2026-01-07T00:00:00.300"))},
            {"name": "db.query", "timeUnixNano": str(at("2026-01-07T00:00:00.400"))},
            {"name": "cache.miss", "timeUnixNano": str(at("2026-01-07T00:00:00.500"))},
        ],
    }
    d1 = {  # flag-gated feature after the flag went off for everyone: __flag_off__
        "traceId": TRACE_D,
        "spanId": "3333333333333333",
        "name": "GET /dashboard",
        "kind": 2,
        "startTimeUnixNano": str(T_D),
        "endTimeUnixNano": str(T_D + 40 * NS_PER_MS),
        "attributes": [
            kv("feature.id", {"stringValue": "real-time-dashboard"}),
            kv("tenant.id", {"stringValue": "tenant-c"}),
            kv("cost.gpu.count", {"intValue": "1"}),
        ],
    }
    e1 = {  # same feature, a tenant whose flag was switched back on: stays gated in
        **d1,
        "traceId": TRACE_E,
        "spanId": "4444444444444444",
        "endTimeUnixNano": str(T_D + 10 * NS_PER_MS),
        "attributes": [
            kv("feature.id", {"stringValue": "real-time-dashboard"}),
            kv("tenant.id", {"stringValue": "tenant-d"}),
        ],
    }
    zero_trace = {  # all-zero trace id: quarantined, so its request never counts
        **d1,
        "traceId": "0" * 32,
        "spanId": "5555555555555555",
        "attributes": [
            kv("feature.id", {"stringValue": "checkout-v2"}),
            kv("tenant.id", {"stringValue": "tenant-a"}),
        ],
    }
    return [
        line(resource_spans(SHOP_API, a1, a2, a3, c1, c2)),
        "",
        '{"resourceSpans":[{"resource":{"attributes":[',  # truncated write: corrupt
        line(resource_spans(REPORT_WORKER, b1), resource_spans(SHOP_API, b2)),
        line(resource_spans(SHOP_API, d1, e1, zero_trace, a3_duplicate)),
        *pool_lines(),
    ]


# Work in shared pools' scope, in tenants of its own (``pool-*``) so that the rows worked out by
# hand above are not touched: only the oracle comparison of every cost column checks it.
POOL_TENANT_PREFIX = "pool-"
ANALYTICS_API = [
    kv("service.name", {"stringValue": "analytics-api"}),  # the cost_weighted compute pool
    kv("cloud.region", {"stringValue": "us-east-1"}),
    kv("host.type", {"stringValue": "m5.large"}),
]
LLM_GATEWAY = [
    kv("service.name", {"stringValue": "llm-gateway"}),
    kv("cloud.region", {"stringValue": "us-east-1"}),
]
T_P = at("2026-01-06T14:00:00")
T_LLM = at("2026-01-07T23:59:59.800")  # gpt-4.1's price changes at midnight
LLM_TOKENS = (1200, 300)
HANDMADE_POOL_SPANS = 9  # the spans pool_lines() writes


def pool_lines() -> list[str]:
    """Spans for the shared-pool and token rules: features of every allocation strategy (and
    flag-off work, unattributed work, a feature the taxonomy does not list) in the
    cost_weighted ``analytics-api`` pool; a pair whose only span-day has no busy time; an LLM
    call that crosses midnight into a new token price."""

    def feature_span(
        trace: str, span_id: str, feature: str | None, tenant: str, ms: int, **kw: Any
    ) -> dict[str, Any]:
        attributes = [kv("tenant.id", {"stringValue": tenant}), *kw.pop("attributes", [])]
        if feature is not None:
            attributes.insert(0, kv("feature.id", {"stringValue": feature}))
        start = kw.pop("start", T_P)
        return {
            "traceId": trace,
            "spanId": span_id,
            "name": "pool work",
            "kind": kw.pop("kind", 2),
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + ms * NS_PER_MS),
            "attributes": attributes,
            **kw,
        }

    queries = feature_span("a1" * 16, "a100000000000001", "checkout-v2", "pool-a", 200)
    query = feature_span(  # a same-service database call: proportional_queries has a driver
        "a1" * 16,
        "a100000000000002",
        None,
        "pool-a",
        20,
        start=T_P + 10 * NS_PER_MS,
        kind=3,
        parentSpanId="a100000000000001",
        attributes=[
            kv("db.system.name", {"stringValue": "postgresql"}),
            kv("db.operation.name", {"stringValue": "SELECT"}),
        ],
    )
    gated = feature_span(  # flag off for everyone since 12:00: weighted by its gpu cost
        "a2" * 16,
        "a200000000000001",
        "real-time-dashboard",
        "pool-b",
        100,
        attributes=[kv("cost.gpu.count", {"intValue": "1"})],
    )
    unattributed = feature_span("a3" * 16, "a300000000000001", None, "pool-c", 50)
    unlisted = feature_span("a4" * 16, "a400000000000001", "beta-feature", "pool-d", 70)
    duration = feature_span("a5" * 16, "a500000000000001", "advanced-reports", "pool-d", 90)
    covered = feature_span(  # fully covered by its same-service child: 0 ms busy
        "a6" * 16, "a600000000000001", "advanced-reports", "pool-e", 40
    )
    cover = feature_span(
        "a6" * 16, "a600000000000002", "checkout-v2", "pool-e", 40, parentSpanId=covered["spanId"]
    )
    llm = feature_span(
        "a7" * 16,
        "a700000000000001",
        "smart-summary",
        "pool-f",
        500,
        start=T_LLM,
        attributes=[
            kv("gen_ai.request.model", {"stringValue": "gpt-4.1"}),
            kv("gen_ai.usage.input_tokens", {"intValue": LLM_TOKENS[0]}),
            kv("gen_ai.usage.output_tokens", {"intValue": str(LLM_TOKENS[1])}),
        ],
    )
    return [
        line(
            resource_spans(ANALYTICS_API, queries, query, gated, unattributed, unlisted, duration),
            resource_spans(SHOP_API, covered, cover),
            resource_spans(LLM_GATEWAY, llm),
        )
    ]


FLAG_ROWS = [
    ["changed_at", "flag_key", "feature_id", "tenant_id", "enabled"],
    ["2026-01-01T00:00:00Z", "rtd", "real-time-dashboard", "", "true"],
    ["2026-01-06T12:00:00Z", "rtd", "real-time-dashboard", "", "false"],
    ["2026-01-06T12:30:00Z", "rtd", "real-time-dashboard", "tenant-d", "true"],
]
REVENUE_ROWS = [
    ["date_day", "feature_id", "tenant_id", "revenue", "currency"],
    ["2026-01-06", "checkout-v2", "tenant-a", "1.50", "USD"],
    ["2026-01-07", "advanced-reports", "tenant-b", "3.00", "USD"],
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """Write rows to a CSV file, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def seed_rate(rate_card_id: str, region: str, effective_from: str) -> dict[str, float]:
    """The prices of one named row of ``seeds/rate_cards.csv`` (chosen by hand, not matched)."""
    with (SEED_DIR / "rate_cards.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["rate_card_id"], row["cloud_region"], row["effective_from"]) == (
                rate_card_id,
                region,
                effective_from,
            ):
                return {
                    k: float(row[k])
                    for k in ("cpu_per_ms", "memory_per_ms", "gpu_per_ms", "db_query_base")
                }
    raise LookupError((rate_card_id, region, effective_from))


@dataclass(frozen=True)
class Expected:
    """A mart row computed by hand."""

    request_count: int
    query_count: int
    busy_ms: float
    cpu_cost: float
    memory_cost: float
    gpu_cost: float
    db_query_cost: float
    revenue: float = 0.0


def priced_at(
    rate: Mapping[str, float],
    *,
    busy_ms: float,
    core_ms: float,
    gb_ms: float,
    gpu_ms: float = 0.0,
    requests: int = 0,
    queries: int = 0,
    revenue: float = 0.0,
) -> Expected:
    """A row whose usage, in core-, GB- and GPU-milliseconds and queries, costs ``rate``."""
    return Expected(
        request_count=requests,
        query_count=queries,
        busy_ms=busy_ms,
        cpu_cost=core_ms * rate["cpu_per_ms"],
        memory_cost=gb_ms * rate["memory_per_ms"],
        gpu_cost=gpu_ms * rate["gpu_per_ms"],
        db_query_cost=queries * rate["db_query_base"],
        revenue=revenue,
    )


def expected_handmade_rows() -> dict[Key, Expected]:
    """The mart rows of the hand-written file, worked out by hand.

    busy: a1 = 100 - |[10, 50]| = 60 ms (a2, a3 overlap), a2 = 20, a3 = 30 (the duplicate a3
    that ends at 90 ms is ignored); c1 = 5 - 1 = 4 ms, c2 = 1 ms (c2 has no tenant: the
    trace's only tenant); b1 = 500 ms before midnight and 1000 ms after (b2 is another
    service), b2 = 500 ms after midnight with 2 db.query events; d1 = 40 ms, e1 = 10 ms.
    Sizes: shop-api 2 cores / 2 GB / 0 GPU, a1 4 GB, d1 1 GPU; report-worker 1.5 / 3 / 0.
    """
    high = seed_rate("high_compute", "us-east-1", "2025-01-01")
    std = seed_rate("standard", "us-east-1", "2025-01-01")  # in force until 2026-01-08
    gpu = seed_rate("gpu_enabled", "us-east-1", "2025-01-01")
    return {
        ("2026-01-06", "checkout-v2", "tenant-a"): priced_at(
            high,
            requests=1,
            queries=1,
            busy_ms=110.0,
            core_ms=110 * 2,
            gb_ms=60 * 4 + 20 * 2 + 30 * 2,
            revenue=1.50,
        ),
        ("2026-01-06", "__unattributed__", "tenant-a"): priced_at(
            std, busy_ms=5.0, core_ms=5 * 2, gb_ms=5 * 2
        ),
        ("2026-01-06", "advanced-reports", "tenant-b"): priced_at(
            std, requests=1, busy_ms=500.0, core_ms=500 * 1.5, gb_ms=500 * 3
        ),
        ("2026-01-07", "advanced-reports", "tenant-b"): priced_at(
            std,
            queries=2,
            busy_ms=1500.0,
            core_ms=1000 * 1.5 + 500 * 2,
            gb_ms=1000 * 3 + 500 * 2,
            revenue=3.00,
        ),
        ("2026-01-06", "__flag_off__", "tenant-c"): priced_at(
            gpu, requests=1, busy_ms=40.0, core_ms=40 * 2, gb_ms=40 * 2, gpu_ms=40 * 1
        ),
        ("2026-01-06", "real-time-dashboard", "tenant-d"): priced_at(
            gpu, requests=1, busy_ms=10.0, core_ms=10 * 2, gb_ms=10 * 2
        ),
    }


@pytest.fixture(scope="module")
def handmade_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Write the hand-made files and ``dbt build`` them into their own DuckDB file."""
    root = tmp_path_factory.mktemp("handmade")
    otlp = root / "otlp" / "collector-0001.jsonl"
    otlp.parent.mkdir(parents=True)
    otlp.write_text("\n".join(handmade_lines()) + "\n", encoding="utf-8")
    write_csv(root / "flags" / "flags.csv", FLAG_ROWS)
    write_csv(root / "revenue" / "revenue.csv", REVENUE_ROWS)
    dbt_vars = {
        "otlp_path": str(root / "otlp" / "*.jsonl"),
        "revenue_path": str(root / "revenue" / "*.csv"),
        "feature_flags_path": str(root / "flags" / "*.csv"),
        "focus_billing_path": "",  # no bill: every cost stays a rate-card estimate
    }
    duckdb_path = root / "feature_cost.duckdb"
    run_dbt(["build"], duckdb_path=duckdb_path, vars=dbt_vars, target_dir=root)
    return duckdb_path, dbt_vars


def _check_rows(source: str, actual: Mapping[Key, Mapping[str, float]]) -> list[str]:
    """Differences between hand-computed rows and ``actual`` (missing or extra rows included)."""
    expected = expected_handmade_rows()
    problems = [f"{source}: missing row {k}" for k in expected if k not in actual]
    # Idle capacity (rule 14) mixes the pool lines' services in: it is worked out by hand in
    # test_collector_output_capacity_worked_by_hand and checked against the oracle.
    problems += [
        f"{source}: unexpected row {k} {dict(v)}"
        for k, v in actual.items()
        if k not in expected
        and not k[2].startswith(POOL_TENANT_PREFIX)
        and k[1] != oracle.IDLE
        and any(v.get(c, 0) for c in (*USAGE_COLUMNS, *COMPONENT_COLUMNS))
    ]
    for key, row in expected.items():
        if key not in actual:
            continue
        for column, value in row.__dict__.items():
            got = actual[key].get(column) or 0.0
            if not close(float(value), float(got)):
                problems.append(f"{source} {key} {column}: expected {value!r}, got {got!r}")
    return problems


def test_collector_output_never_seen_before(
    handmade_build: tuple[Path, dict[str, str]],
) -> None:
    """Integer and string enums, string and numeric 64-bit ints, uppercase ids, a span across
    midnight, a corrupt line, a duplicate and a quarantined span: mart and oracle both give
    the numbers worked out by hand."""
    duckdb_path, dbt_vars = handmade_build
    result = run_oracle(dbt_vars)
    assert result.read.invalid_lines == [(dbt_vars["otlp_path"].replace("*", "collector-0001"), 3)]
    assert [reason for _, reason in result.read.quarantined] == ["invalid_trace_id"]
    assert [s.span_id for s in result.read.duplicates] == ["00f067aa0ba902b7"]
    assert len(result.read.accepted) == 9 + HANDMADE_POOL_SPANS

    mart = read_mart(duckdb_path)
    mart_rows = {
        key: {c: mart.value(key, c) for c in (*USAGE_COLUMNS, *COMPONENT_COLUMNS, "revenue")}
        for key in mart.rows
    }
    oracle_rows = {
        key: {c: oracle_value(row, c) for c in (*USAGE_COLUMNS, *COMPONENT_COLUMNS, "revenue")}
        for key, row in result.rows.items()
    }
    problems = _check_rows("mart", mart_rows) + _check_rows("oracle", oracle_rows)

    busy_by_day: dict[str, float] = defaultdict(float)
    for key, row in mart_rows.items():
        if not key[2].startswith(POOL_TENANT_PREFIX):
            busy_by_day[key[0]] += row["busy_ms"]
    if not (close(busy_by_day["2026-01-06"], 665.0) and close(busy_by_day["2026-01-07"], 1500.0)):
        problems.append(f"mart busy ms per day: {dict(busy_by_day)}")
    assert not problems, "\n".join(problems)


def test_collector_output_capacity_worked_by_hand(
    handmade_build: tuple[Path, dict[str, str]],
) -> None:
    """Rule 14 on the hand-made file. report-worker ran only b1's 500 ms on 2026-01-06, in
    hour 23: one instance-hour costing an hour of its size at the standard card, 500 ms of
    it allocated, the rest idle. shop-api ran work in hours 10, 11, 13 and (the pool lines)
    14: five instance-hours at one price, each hour's work paying its rate-card cost (no
    hour is full), hour 12 wholly idle."""
    duckdb_path, _ = handmade_build
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        hours = {
            (service, hour): (busy_ns, capacity, allocated, idle)
            for service, hour, busy_ns, capacity, allocated, idle in con.execute(
                "select service_name, hour(hour_start), busy_ns, capacity_cost, allocated_cost,"
                " idle_cost from main.int_instance_hours where date_day = date '2026-01-06'"
                " and service_name in ('report-worker', 'shop-api')"
            ).fetchall()
        }
    assert sorted(hours) == [("report-worker", 23)] + [("shop-api", h) for h in range(10, 15)]
    std = seed_rate("standard", "us-east-1", "2025-01-01")
    per_ms = 1.5 * std["cpu_per_ms"] + 3 * std["memory_per_ms"]
    capacity = 3_600_000 * per_ms
    want = (500 * NS_PER_MS, capacity, 500 * per_ms, capacity - 500 * per_ms)
    got = hours[("report-worker", 23)]
    assert all(close(a, b, 1e-15) for a, b in zip(got, want, strict=True)), (got, want)

    rows = {k[1]: r for k, r in expected_handmade_rows().items() if k[0] == "2026-01-06"}
    features_by_hour = {
        10: ["checkout-v2"],
        11: ["__unattributed__"],
        12: [],
        13: ["__flag_off__", "real-time-dashboard"],
    }
    shop_capacity = hours[("shop-api", 10)][1]
    for hour, features in features_by_hour.items():
        work = [rows[f] for f in features]
        busy_ns, capacity, allocated, idle = hours[("shop-api", hour)]
        assert close(busy_ns, sum(r.busy_ms for r in work) * NS_PER_MS, 1e-6), hour
        assert close(allocated, sum(r.cpu_cost + r.memory_cost + r.gpu_cost for r in work), 1e-15)
        assert close(capacity, shop_capacity, 1e-15) and close(idle, capacity - allocated, 1e-15)
    assert hours[("shop-api", 12)][2] == 0 and hours[("shop-api", 12)][3] == shop_capacity


def llm_price(model: str, effective_from: str) -> tuple[float, float]:
    """(input, output) price per 1,000 tokens of one named row of ``seeds/llm_model_prices.csv``."""
    with (SEED_DIR / "llm_model_prices.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["model"], row["effective_from"]) == (model, effective_from):
                return float(row["input_per_1k_tokens"]), float(row["output_per_1k_tokens"])
    raise LookupError((model, effective_from))


def test_collector_output_costs_match_oracle(
    handmade_build: tuple[Path, dict[str, str]],
) -> None:
    """Without a bill (every pool-day from the cost seed, every reconciliation factor 1), mart
    and oracle have the same rows and agree on every cost column of the hand-made file too.

    The file puts features of every allocation strategy, flag-off, unattributed and unlisted
    work in the cost_weighted pool, a pair with no busy time in the ``even`` pool, and an LLM
    call across the midnight its model's price changes: its tokens are priced once, on its
    start day, at the old price (worked out by hand).
    """
    duckdb_path, dbt_vars = handmade_build
    result = run_oracle(dbt_vars)
    assert result.bill.charges == []
    assert set(result.pools.source.values()) == {"seed"}
    weighted = {
        (a.feature, a.tenant)
        for a in result.allocations
        if a.resource_id == "analytics-api-compute" and a.kind == "usage"
    }
    assert {
        ("checkout-v2", "pool-a"),
        (oracle.FLAG_OFF, "pool-b"),
        (oracle.UNATTRIBUTED, "pool-c"),
        ("beta-feature", "pool-d"),
        ("advanced-reports", "pool-d"),
    } <= weighted
    assert any(
        a.resource_id == "observability-stack"
        and (a.feature, a.tenant) == ("advanced-reports", "pool-e")
        for a in result.allocations
    )
    assert [d.busy_ns for d in result.span_days_of("a600000000000001")] == [0]

    mart = read_mart(duckdb_path)
    problems = compare_keys(mart, result)
    problems += compare(mart, result, (*COST_COLUMNS, "request_count"), abs_tol=COST_ABS_TOL)
    for key in mart.rows:
        if not close(mart.value(key, "reconciled_cost"), mart.value(key, "total_cost"), 1e-9):
            problems.append(f"{key}: reconciled_cost != total_cost without a bill")
    price_in, price_out = llm_price("gpt-4.1", "2025-01-01")
    tokens_cost = (LLM_TOKENS[0] * price_in + LLM_TOKENS[1] * price_out) / 1000
    for key, expected in (
        (("2026-01-07", "smart-summary", "pool-f"), tokens_cost),
        (("2026-01-08", "smart-summary", "pool-f"), 0.0),
    ):
        if key not in mart.rows or not close(mart.value(key, "llm_cost"), expected):
            problems.append(f"{key} llm_cost: expected {expected!r}, mart {mart.rows.get(key)}")
    assert not problems, report(problems)
