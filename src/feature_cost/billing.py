"""Demo cloud bill in the FinOps FOCUS format, consistent with the demo traces.

The bill is the truth the rate cards are checked against: each service's compute is billed
by the instance-hour, for the hours its instances ran, at a "true" price a little off the
rate cards (so the reconciliation has something to find), and each shared pool is billed
per day. Rows follow FOCUS 1.0-1.3 columns, with the literal ``NULL`` strings real exports
contain, tags as JSON, a credit line, and hourly charge periods.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feature_cost.otlp import Span

FOCUS_COLUMNS = [
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "ResourceType",
    "SkuId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "SubAccountId",
    "Tags",
]

# Price actually billed per instance-hour of each service (the rate cards estimate these).
TRUE_PRICE_PER_INSTANCE_HOUR = {
    "web-gateway@us-east-1": 0.0360,
    "web-gateway@eu-west-1": 0.0395,
    "checkout-service@eu-west-1": 0.1075,
    "analytics-worker@us-east-1": 0.0455,
    "llm-gateway@us-east-1": 0.0165,
}

# Daily bill of each shared pool (the tag `cost-pool` names it).
POOL_DAILY_COST = {
    "prod-postgres-01": ("us-east-1", "Amazon Relational Database Service", 5.0),
    "prod-redis-01": ("us-east-1", "Amazon ElastiCache", 2.0),
    "gpu-pool-use1": ("us-east-1", "Amazon Elastic Compute Cloud", 10.0),
    "analytics-api-compute": ("us-east-1", "Amazon Elastic Compute Cloud", 3.0),
}


def instances_by_service_hour(spans: Iterable[Span]) -> dict[tuple[date, str], list[int]]:
    """How many instances of each service ran in each UTC hour of each day.

    A span's ``service`` is ``service@region/instance``; an instance runs from the first to
    the last hour of the day its spans ran in (the hours the bill charges; a span across
    midnight runs to the end of one day and from the start of the next).
    """
    seen: dict[tuple[date, str, str], tuple[int, int]] = {}
    for span in spans:
        service, _, instance = span.service.partition("/")
        at = datetime.fromtimestamp(span.start_unix_nano // 10**9, UTC)
        until = datetime.fromtimestamp(
            max(span.end_unix_nano - 1, span.start_unix_nano) // 10**9, UTC
        )
        day = at.date()
        while day <= until.date():
            first_hour = at.hour if day == at.date() else 0
            last_hour = until.hour if day == until.date() else 23
            first, last = seen.get((day, service, instance), (first_hour, last_hour))
            seen[(day, service, instance)] = (min(first, first_hour), max(last, last_hour))
            day += timedelta(days=1)
    out: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0] * 24)
    for (day, service, _), (first, last) in seen.items():
        for hour in range(first, last + 1):
            out[(day, service)][hour] += 1
    return dict(out)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def focus_rows(
    instances: dict[tuple[date, str], list[int]], days: list[date], rng: random.Random
) -> list[dict[str, str]]:
    """FOCUS rows: hourly compute per service (``instances``: how many of its instances ran in
    each hour of the day), daily pool charges, one credit."""
    rows: list[dict[str, str]] = []

    def row(
        start: datetime,
        hours: int,
        cost: float,
        service: str,
        region: str,
        resource: str,
        tags: dict[str, str],
        category: str = "Usage",
        description: str = "",
    ) -> dict[str, str]:
        month = start.replace(day=1, hour=0, minute=0, second=0)
        next_month = (month + timedelta(days=32)).replace(day=1)
        listed = cost * 1.25 if category == "Usage" else cost
        return {
            "BillingAccountId": "123456789012",
            "BillingCurrency": "USD",
            "BillingPeriodStart": _stamp(month),
            "BillingPeriodEnd": _stamp(next_month),
            "ChargeCategory": category,
            "ChargeDescription": description or f"{service} usage",
            "ChargePeriodStart": _stamp(start),
            "ChargePeriodEnd": _stamp(start + timedelta(hours=hours)),
            "BilledCost": f"{cost:.10f}",
            "EffectiveCost": f"{cost:.10f}",
            "ListCost": f"{listed:.10f}",
            "ContractedCost": "NULL",
            "ProviderName": "AWS",
            "ServiceName": service,
            "ServiceCategory": "Compute" if "Compute" in service else "Databases",
            "RegionId": region,
            "ResourceId": resource,
            "ResourceType": "NULL",
            "SkuId": "NULL",
            "ConsumedQuantity": "NULL",
            "ConsumedUnit": "NULL",
            "SubAccountId": "210987654321",
            "Tags": json.dumps(tags) if tags else "NULL",
        }

    for day in days:
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        for key, price in TRUE_PRICE_PER_INSTANCE_HOUR.items():
            service, region = key.split("@")
            running = instances.get((day, key), [0] * 24)
            for hour in range(24):
                if not running[hour]:
                    continue
                rows.append(
                    row(
                        midnight + timedelta(hours=hour),
                        1,
                        running[hour] * price,
                        "Amazon Elastic Compute Cloud",
                        region,
                        f"arn:aws:ecs:{region}:210987654321:service/prod/{service}",
                        {"service": service, "environment": "prod"},
                    )
                )
        for pool, (region, service, cost) in POOL_DAILY_COST.items():
            rows.append(
                row(
                    midnight,
                    24,
                    cost * rng.uniform(0.98, 1.02),
                    service,
                    region,
                    f"arn:aws:{pool}",
                    {"cost-pool": pool, "environment": "prod"},
                )
            )
    first = datetime.combine(days[0], datetime.min.time(), UTC)
    rows.append(
        row(
            first,
            24,
            -0.5,
            "Amazon Elastic Compute Cloud",
            "us-east-1",
            "NULL",
            {},
            category="Credit",
            description="Promotional credit",
        )
    )
    return rows


def write_focus_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows as a FOCUS CSV export (every field quoted, as exports do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOCUS_COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
