"""`feature-cost alerts`: new alerts printed and posted once, to a webhook on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from feature_cost.cli import main


class Webhook:
    """A webhook on 127.0.0.1 that records the JSON bodies posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()


def _mart(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists feature_cost_marts")
        con.execute(
            "create or replace table feature_cost_marts.cost_alerts (date_day date, feature_id"
            " varchar,"
            " tenant_id varchar, alert_type varchar, cost_per_request double,"
            " limit_value double, request_count bigint, total_cost double,"
            " forecast_cost double)"
        )
        for day, feature, kind in rows:
            con.execute(
                "insert into feature_cost_marts.cost_alerts values (?, ?, '__all__', ?, 0.5,"
                " 0.3, 10, 5.0, null)",
                [day, feature, kind],
            )


def test_each_alert_is_posted_once_and_kept_until_the_webhook_takes_it(
    tmp_path: Path, webhook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feature_cost.duckdb"
    _mart(path, [("2026-01-08", "checkout-v2", "threshold")])
    args = ["alerts", "--duckdb", str(path), "--webhook", webhook.url]

    assert main(args) == 0
    assert len(webhook.bodies) == 1
    body = webhook.bodies[0]
    assert body["text"].startswith("feature-cost: 1 new cost alert\n")
    assert "2026-01-08 checkout-v2: threshold, cost per request 0.500 > 0.300" in body["text"]
    assert body["alerts"][0]["feature_id"] == "checkout-v2"

    # Nothing new: nothing posted.
    assert main(args) == 0
    assert len(webhook.bodies) == 1
    assert "no new cost alerts" in capsys.readouterr().out

    # A new alert while the webhook fails: not recorded, posted on the next run, alone.
    _mart(
        path,
        [("2026-01-08", "checkout-v2", "threshold"), ("2026-01-09", "smart-summary", "anomaly")],
    )
    webhook.status = 500
    assert main(args) == 3
    assert "posting to the webhook failed" in capsys.readouterr().err
    webhook.status = 200
    assert main(args) == 0
    assert [alert["feature_id"] for alert in webhook.bodies[-1]["alerts"]] == ["smart-summary"]
    assert len(webhook.bodies) == 3
    assert main(args) == 0
    assert len(webhook.bodies) == 3


def test_without_a_webhook_new_alerts_are_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feature_cost.duckdb"
    _mart(path, [("2026-01-08", "evil\x1b[2Jfeature", "threshold")])
    state = tmp_path / "state.json"
    assert main(["alerts", "--duckdb", str(path), "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert "1 new cost alert:" in out and "\x1b" not in out
    assert json.loads(state.read_text())["sent"] == [
        "2026-01-08|evil\x1b[2Jfeature|__all__|threshold"
    ]
    assert main(["alerts", "--duckdb", str(path), "--state", str(state)]) == 0
    assert "no new cost alerts" in capsys.readouterr().out


def test_a_missing_file_or_a_bad_url_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "--duckdb", str(tmp_path / "none.duckdb")]) == 1
    assert "no DuckDB file" in capsys.readouterr().err
    path = tmp_path / "feature_cost.duckdb"
    _mart(path, [])
    assert main(["alerts", "--duckdb", str(path), "--webhook", "file:///etc/passwd"]) == 2
    assert "must be an http(s) URL" in capsys.readouterr().err


def test_tenant_and_budget_alerts_say_their_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feature_cost.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists feature_cost_marts")
        con.execute(
            "create table feature_cost_marts.cost_alerts as select * from (values"
            " (date '2026-01-12', '__all__', 'acme', 'budget_forecast', null, 250.0, 900,"
            " 277.0, 715.0),"
            " (date '2026-01-12', 'checkout-v2', 'globex', 'threshold', 0.05, 0.048, 117,"
            " 5.67, null))"
            " as t(date_day, feature_id, tenant_id, alert_type, cost_per_request, limit_value,"
            " request_count, total_cost, forecast_cost)"
        )
    assert main(["alerts", "--duckdb", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "2026-01-12 all features for acme: budget_forecast, month forecast 715 > budget 250"
        " (month to date 277)" in out
    )
    assert "2026-01-12 checkout-v2 for globex: threshold, cost per request 0.0500 > 0.0480" in out
