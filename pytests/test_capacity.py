"""Rule 14 (capacity is paid once) on shapes the demo does not make, built by dbt and by the
oracle from the same OTLP/JSON file.

A Kubernetes deployment whose SDK sets no ``service.instance.id``: the Collector names each
pod (``k8s.pod.uid``) and adds its node's ``host.id`` to both. On pod A a nightly job runs
01:00-03:00 with a same-service child 01:00-02:00, beside a request 01:00-02:00; on pod B a
second request runs 01:00-02:00. Every span is priced at the same rate card and size, so an
hour of either pod costs what an hour of work costs at the rate card.

Worked by hand: the job's own busy time is 02:00-03:00, when its child did not run. Pod A's
hour 1 holds the child and the first request, twice its capacity (factor 0.5); its hour 2
holds the job alone (factor 1, nothing idle); pod B's hour 1 holds the second request (factor
1). The job's feature and tenant pay 1.5 of their 2 hours at the rate card, the first request
0.5 of its hour, the second request all of it, and nothing is idle. Spread over its elapsed
time, the job would have put half an hour into the full hour 1 and left half of hour 2 idle;
with the node's ``host.id`` as the instance, both pods would have been one instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import run_dbt
from test_end_to_end import (
    COMPONENT_COLUMNS,
    USAGE_COLUMNS,
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


@pytest.fixture(scope="module")
def pods_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The file, built by dbt into its own DuckDB file."""
    root = tmp_path_factory.mktemp("pods")
    (root / "otlp").mkdir()
    (root / "otlp" / "pods.jsonl").write_text(
        line(
            resource_spans(
                _pod("pod-a"),
                _span(JOB_TRACE, JOB, T1, T1 + 2 * HOUR, tenant="tenant-acme"),
                _span(JOB_TRACE, CHILD, T1, T1 + HOUR, parent=JOB),
                _span(A_TRACE, "c" * 16, T1, T1 + HOUR, tenant="tenant-globex"),
            ),
            resource_spans(_pod("pod-b"), _span(B_TRACE, "d" * 16, T1, T1 + HOUR, "", "tenant-b")),
        )
        + "\n",
        encoding="utf-8",
    )
    (root / "revenue").mkdir()
    (root / "revenue" / "revenue.csv").write_text(
        "date_day,feature_id,tenant_id,revenue,currency\n", encoding="utf-8"
    )
    dbt_vars = {
        "otlp_path": str(root / "otlp" / "*.jsonl"),
        "revenue_path": str(root / "revenue" / "*.csv"),
        "feature_flags_path": "",
        "focus_billing_path": "",
    }
    duckdb_path = root / "pods.duckdb"
    run_dbt(
        ["build", "--exclude-resource-type", "unit_test"],
        duckdb_path=duckdb_path,
        vars=dbt_vars,
        target_dir=root,
    )
    return duckdb_path, dbt_vars


def test_pods_on_one_node_and_a_job_waiting_on_its_child_pay_capacity_once(
    pods_build: tuple[Path, dict[str, str]],
) -> None:
    duckdb_path, dbt_vars = pods_build
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        hours = con.execute(
            "select instance_id, hour(hour_start), capacity_share_factor, idle_cost"
            " from main.int_instance_hours order by 1, 2"
        ).fetchall()
    assert [(i, h, f) for i, h, f, _ in hours] == [
        ("pod-a", 1, 0.5),
        ("pod-a", 2, 1.0),
        ("pod-b", 1, 1.0),
    ]
    assert all(close(idle, 0.0) for *_, idle in hours), hours

    mart = read_mart(duckdb_path)
    paid = {
        key: mart.value(key, "cpu_cost")
        + mart.value(key, "memory_cost")
        + mart.value(key, "gpu_cost")
        for key in mart.rows
    }
    assert {key[1:] for key, value in paid.items() if value} == {
        (FEATURE, "tenant-acme"),
        (FEATURE, "tenant-globex"),
        (FEATURE, "tenant-b"),
    }  # no __idle__ compute
    paid = {key[2]: value for key, value in paid.items() if value}
    dedicated = {key[2]: mart.value(key, "dedicated_compute_cost") for key in mart.rows}
    hour_cost = dedicated["tenant-b"]
    assert close(dedicated["tenant-acme"], 2 * hour_cost)
    assert close(paid["tenant-acme"], 1.5 * hour_cost), paid
    assert close(paid["tenant-globex"], 0.5 * hour_cost), paid
    assert close(paid["tenant-b"], hour_cost), paid

    result = run_oracle(dbt_vars)
    problems = compare_keys(mart, result) + compare(
        mart, result, (*USAGE_COLUMNS, *COMPONENT_COLUMNS)
    )
    assert not problems, report(problems)
