"""`feature-cost alerts`: the cost alerts that are new since the last run, printed, and posted to
a webhook when one is given.

An alert is one row of the `cost_alerts` mart: a (day, feature, tenant, alert type). The alerts
already reported are kept in a small JSON state file beside the DuckDB file, so a scheduled run
reports each alert once. With ``--webhook URL`` the new alerts are posted as one JSON message whose
``text`` is what Slack-compatible incoming webhooks show, with the alerts as structured
``alerts`` beside it; they count as reported only once the webhook answers 2xx, so an alert is
never posted twice and never lost when the webhook is down (the next run posts it).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from feature_cost import MARTS_SCHEMA
from feature_cost.formatting import printable, say_no_duckdb_file, sig

EXIT_OK = 0
EXIT_NO_DATABASE = 1
EXIT_USAGE = 2
EXIT_WEBHOOK_FAILED = 3

_ALERTS = f"""
select cast(date_day as varchar), feature_id, tenant_id, alert_type, cost_per_request,
    limit_value, request_count, total_cost, forecast_cost
from {MARTS_SCHEMA}.cost_alerts
order by date_day, feature_id, tenant_id, alert_type
"""


@dataclass(frozen=True)
class Alert:
    """One row of `cost_alerts`."""

    date_day: str
    feature_id: str
    tenant_id: str
    alert_type: str
    cost_per_request: float | None
    limit_value: float | None
    request_count: float | None
    total_cost: float | None
    forecast_cost: float | None

    @property
    def key(self) -> str:
        """What makes the alert one alert: its day, feature, tenant and type."""
        return f"{self.date_day}|{self.feature_id}|{self.tenant_id}|{self.alert_type}"

    def line(self) -> str:
        """The alert as one line of text, safe to print or post."""
        scope = "all features" if self.feature_id == "__all__" else printable(self.feature_id)
        if self.tenant_id != "__all__":
            scope += f" for {printable(self.tenant_id)}"
        if self.alert_type == "budget_forecast":
            return (
                f"{printable(self.date_day)} {scope}: budget_forecast, month forecast"
                f" {sig(self.forecast_cost)} > budget {sig(self.limit_value)}"
                f" (month to date {sig(self.total_cost)})"
            )
        return (
            f"{printable(self.date_day)} {scope}: {printable(self.alert_type)},"
            f" cost per request {sig(self.cost_per_request)}"
            f" > {sig(self.limit_value)}"
            f" ({sig(self.request_count)} requests, cost {sig(self.total_cost)})"
        )


def default_state_path(duckdb_path: Path) -> Path:
    """The state file of a DuckDB file: ``<file>.alerts-sent.json`` beside it."""
    return duckdb_path.with_name(duckdb_path.name + ".alerts-sent.json")


def alerts_of(con: duckdb.DuckDBPyConnection) -> list[Alert]:
    """Every row of `cost_alerts`, oldest first."""
    return [Alert(*row) for row in con.execute(_ALERTS).fetchall()]


def read_alerts(duckdb_path: Path) -> list[Alert]:
    """Every row of `cost_alerts` in a DuckDB file, oldest first."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return alerts_of(con)


def read_sent(state_path: Path) -> set[str]:
    """The keys of the alerts already reported (none when there is no state file yet)."""
    if not state_path.exists():
        return set()
    return set(json.loads(state_path.read_text(encoding="utf-8")).get("sent", []))


def write_sent(state_path: Path, sent: set[str]) -> None:
    """Record the reported alerts, atomically (a crash leaves the old state or the new)."""
    staging = state_path.with_name(f".{state_path.name}.{os.getpid()}.tmp")
    staging.write_text(json.dumps({"sent": sorted(sent)}, indent=1) + "\n", encoding="utf-8")
    os.replace(staging, state_path)


def message(alerts: Sequence[Alert]) -> dict[str, object]:
    """The webhook's JSON body: Slack-compatible ``text`` and the alerts as data."""
    text = f"feature-cost: {len(alerts)} new cost alert{'s' if len(alerts) != 1 else ''}\n"
    return {
        "text": text + "\n".join(f"- {alert.line()}" for alert in alerts),
        "alerts": [
            {
                "date_day": a.date_day,
                "feature_id": a.feature_id,
                "tenant_id": a.tenant_id,
                "alert_type": a.alert_type,
                "cost_per_request": a.cost_per_request,
                "limit_value": a.limit_value,
                "request_count": a.request_count,
                "total_cost": a.total_cost,
                "forecast_cost": a.forecast_cost,
            }
            for a in alerts
        ],
    }


def post(webhook: str, body: dict[str, object], timeout: float) -> None:
    """POST ``body`` as JSON; raise OSError (or urllib's errors) unless the answer is 2xx."""
    request = urllib.request.Request(
        webhook,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"the webhook answered HTTP {response.status}")


def run(
    duckdb_path: Path,
    state_path: Path | None = None,
    webhook: str | None = None,
    timeout: float = 10.0,
) -> int:
    """Print (and post) the alerts new since the last run; return the exit code."""
    if not duckdb_path.exists():
        say_no_duckdb_file("alerts", duckdb_path, "run `make build` first")
        return EXIT_NO_DATABASE
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        print(
            f"feature-cost alerts: the webhook must be an http(s) URL, got {printable(webhook)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    state = state_path or default_state_path(duckdb_path)
    sent = read_sent(state)
    new = [alert for alert in read_alerts(duckdb_path) if alert.key not in sent]
    if not new:
        print("no new cost alerts")
        return EXIT_OK
    print(f"{len(new)} new cost alert{'s' if len(new) != 1 else ''}:")
    for alert in new:
        print(f"  {alert.line()}")
    if webhook is not None:
        try:
            post(webhook, message(new), timeout)
        except (OSError, urllib.error.URLError) as error:
            print(
                f"feature-cost alerts: posting to the webhook failed ({printable(error)});"
                " the alerts stay new and are posted on the next run",
                file=sys.stderr,
            )
            return EXIT_WEBHOOK_FAILED
        print("posted to the webhook")
    write_sent(state, sent | {alert.key for alert in new})
    return EXIT_OK
