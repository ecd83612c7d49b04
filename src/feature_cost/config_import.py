"""Import the method's `cost-attribution-config.yaml` into the dbt seeds, validated first.

The configuration template names the feature taxonomy (groups of features, each with its rate
card, allocation strategy and whether a feature flag gates it), the rate cards (unit prices)
and the shared resources (cluster id and allocation key). This module checks all of it and
reports every problem at once; only a configuration without problems is written, as the seeds
`feature_taxonomy.csv`, `rate_cards.csv` and `shared_resources.csv`. A section missing from
the file leaves its seed untouched.

The import keeps the seeds consistent with each other: a rate card a feature names that the file
does not define, but the current `rate_cards.csv` does (the project's `standard` card, say), is
kept from the seed with a warning; a feature's name comes from the current taxonomy when the
file gives none; and an import that would leave another seed naming a feature or a shared
resource the new seeds no longer have is refused, with every such row listed.

A rate card in the template's short form (a mapping of prices) applies to every region and
instance family from `effective_from` (default 2000-01-01) on; the long form lists periods:

    rate_cards:
      standard:
        rates:
          - {region: us-east-1, effective_from: 2026-01-01, cpu_per_ms: 0.00003}
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from feature_cost.formatting import price_text

SUPPORTED_VERSIONS = {"1.0"}
PRICE_KEYS = ("cpu_per_ms", "memory_per_ms", "gpu_per_ms", "db_query_base")
PERIOD_KEYS = ("region", "instance_family", "effective_from", "effective_to", "currency")
ALLOCATION_STRATEGIES = {
    "proportional_duration",
    "proportional_queries",
    "gpu_minutes",
    "memory_usage",
}
ALLOCATION_KEYS = {
    "query_count",
    "rows_scanned",
    "memory_usage",
    "duration",
    "gpu_minutes",
    "even",
    "fixed_pct",
    "cost_weighted",
}
DEFAULT_EFFECTIVE_FROM = date(2000, 1, 1)

TAXONOMY_HEADER = [
    "feature_id",
    "feature_group",
    "feature_name",
    "rate_card_id",
    "allocation_strategy",
    "requires_feature_flag",
    "feature_flag_key",
]
RATE_CARD_HEADER = [
    "rate_card_id",
    "cloud_region",
    "instance_family",
    "effective_from",
    "effective_to",
    *PRICE_KEYS,
    "currency",
]
SHARED_RESOURCE_HEADER = [
    "resource_id",
    "resource_type",
    "allocation_key",
    "cloud_region",
    "match_service_name",
    "match_server_address",
]


class ConfigError(Exception):
    """The configuration has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Seeds:
    """Seed rows to write, by file name (a file is absent when its section was)."""

    files: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)


def _as_date(value: Any, where: str, problems: list[str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: '{value}' is not a date (YYYY-MM-DD)")
        return None


def _rate_rows(
    card_id: str, card: Any, default_currency: str, problems: list[str]
) -> list[dict[str, Any]]:
    """A rate card as rows: one for the short form, one per period for the long form."""
    if not isinstance(card, Mapping):
        problems.append(f"rate card '{card_id}': expected a mapping of prices")
        return []
    entries = card.get("rates") if "rates" in card else [card]
    if not isinstance(entries, list):
        problems.append(f"rate card '{card_id}': `rates` must be a list of periods")
        return []
    rows = []
    for index, entry in enumerate(entries):
        where = f"rate card '{card_id}'" + (f" period {index + 1}" if "rates" in card else "")
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected a mapping")
            continue
        for key in entry:
            if key not in (*PRICE_KEYS, *PERIOD_KEYS):
                problems.append(
                    f"{where}: unknown key '{key}' (prices are {', '.join(PRICE_KEYS)})"
                )
        prices = {}
        for key in PRICE_KEYS:
            value = entry.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: {key} '{value}' is not a number")
                continue
            if value < 0:
                problems.append(f"{where}: {key} is negative ({value})")
            prices[key] = float(value)
        start = _as_date(entry.get("effective_from"), where, problems) or DEFAULT_EFFECTIVE_FROM
        end = _as_date(entry.get("effective_to"), where, problems)
        if end is not None and end <= start:
            problems.append(f"{where}: effective_to {end} is not after effective_from {start}")
        rows.append(
            {
                "rate_card_id": card_id,
                "cloud_region": str(entry.get("region", "*")),
                "instance_family": str(entry.get("instance_family", "*")),
                "effective_from": start,
                "effective_to": end,
                "currency": str(entry.get("currency", default_currency)).upper(),
                **prices,
            }
        )
    return rows


def _check_overlaps(rows: list[dict[str, Any]], problems: list[str]) -> None:
    """Two periods of one card, region and instance family may not share a day."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["rate_card_id"], row["cloud_region"], row["instance_family"])
        groups.setdefault(key, []).append(row)
    for (card, region, family), periods in groups.items():
        periods.sort(key=lambda r: r["effective_from"])
        for earlier, later in itertools.pairwise(periods):
            if earlier["effective_to"] is None or earlier["effective_to"] > later["effective_from"]:
                problems.append(
                    f"rate card '{card}' ({region}, {family}): periods from "
                    f"{earlier['effective_from']} and {later['effective_from']} overlap"
                )


def build_seeds(
    config: Any,
    existing_rate_cards: set[str] | None = None,
    existing_names: Mapping[str, str] | None = None,
) -> Seeds:
    """Validate a parsed configuration and turn it into seed rows; raise ConfigError.

    ``existing_rate_cards``: card ids a feature may name without the file defining them;
    ``existing_names``: feature names by id, for features the file gives no name. Every
    problem of every section is collected before the error is raised.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(["the file is not a YAML mapping"])
    problems: list[str] = []
    version = str(config.get("version", ""))
    if version not in SUPPORTED_VERSIONS:
        problems.append(f"version '{version}' is not supported (use \"1.0\")")
    currency = str(config.get("currency", "USD")).upper()
    seeds = Seeds()
    card_rows: list[dict[str, Any]] = []
    if "rate_cards" in config:
        card_rows = _rate_card_rows(config["rate_cards"], currency, problems)
        seeds.files["rate_cards.csv"] = (RATE_CARD_HEADER, _rate_card_csv(card_rows))
    known_cards = {r["rate_card_id"] for r in card_rows} | (existing_rate_cards or set())
    if "feature_taxonomy" in config:
        rows = _taxonomy_rows(
            config["feature_taxonomy"], known_cards, existing_names or {}, problems
        )
        seeds.files["feature_taxonomy.csv"] = (TAXONOMY_HEADER, rows)
    if "shared_resources" in config:
        rows = _shared_resource_rows(config["shared_resources"], problems)
        seeds.files["shared_resources.csv"] = (SHARED_RESOURCE_HEADER, rows)
    if problems:
        raise ConfigError(problems)
    return seeds


def _rate_card_rows(cards: Any, currency: str, problems: list[str]) -> list[dict[str, Any]]:
    """The `rate_cards` section as one row per card, region, family and period."""
    cards = cards or {}
    if not isinstance(cards, Mapping):
        problems.append("rate_cards: expected a mapping of rate card ids")
        return []
    rows: list[dict[str, Any]] = []
    for card_id, card in cards.items():
        rows.extend(_rate_rows(str(card_id), card, currency, problems))
    _check_overlaps(rows, problems)
    currencies = {row["currency"] for row in rows}
    if len(currencies) > 1:
        problems.append(f"rate cards use more than one currency: {', '.join(sorted(currencies))}")
    return rows


def _rate_card_csv(rows: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Rate-card rows as seed lines, ordered by card, region, family and start."""

    def order(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            row["rate_card_id"],
            row["cloud_region"],
            row["instance_family"],
            row["effective_from"],
        )

    return [
        [
            r["rate_card_id"],
            r["cloud_region"],
            r["instance_family"],
            r["effective_from"].isoformat(),
            r["effective_to"].isoformat() if r["effective_to"] else "",
            *(price_text(r[k]) for k in PRICE_KEYS),
            r["currency"],
        ]
        for r in sorted(rows, key=order)
    ]


def _taxonomy_rows(
    taxonomy: Any, known_cards: set[str], existing_names: Mapping[str, str], problems: list[str]
) -> list[list[str]]:
    """The `feature_taxonomy` section as seed lines, ordered by group and feature."""
    groups = (taxonomy or {}).get("groups") or []
    seen_groups: set[str] = set()
    seen_features: dict[str, str] = {}
    rows = []
    for group in groups:
        group_id = str(group.get("id", "")).strip() if isinstance(group, Mapping) else ""
        if not group_id:
            problems.append("feature_taxonomy: a group has no id")
            continue
        if group_id in seen_groups:
            problems.append(f"feature_taxonomy: group '{group_id}' is defined twice")
        seen_groups.add(group_id)
        for feature in group.get("features") or []:
            feature_id = str(feature.get("id", "")).strip() if isinstance(feature, Mapping) else ""
            if not feature_id:
                problems.append(f"group '{group_id}': a feature has no id")
                continue
            if feature_id in seen_features:
                problems.append(
                    f"feature '{feature_id}' is defined twice (groups "
                    f"'{seen_features[feature_id]}' and '{group_id}')"
                )
                continue
            seen_features[feature_id] = group_id
            rows.append(
                _feature_row(feature, feature_id, group_id, known_cards, existing_names, problems)
            )
    return sorted(rows, key=lambda r: (r[1], r[0]))


def _feature_row(
    feature: Mapping[str, Any],
    feature_id: str,
    group_id: str,
    known_cards: set[str],
    existing_names: Mapping[str, str],
    problems: list[str],
) -> list[str]:
    """One feature's taxonomy line; an unknown rate card or strategy is a problem."""
    card = str(feature.get("rate_card", ""))
    if card not in known_cards:
        problems.append(
            f"feature '{feature_id}' names rate card '{card}', which rate_cards does not define"
        )
    strategy = str(feature.get("allocation_strategy", "proportional_duration"))
    if strategy not in ALLOCATION_STRATEGIES:
        problems.append(
            f"feature '{feature_id}': unknown allocation_strategy '{strategy}' "
            f"(use one of {', '.join(sorted(ALLOCATION_STRATEGIES))})"
        )
    name = feature.get("name") or existing_names.get(feature_id) or feature_id
    flag = feature.get("requires_feature_flag", False)
    return [
        feature_id,
        group_id,
        str(name),
        card,
        strategy,
        "true" if flag is True else "false",
        str(feature.get("feature_flag_key") or ""),
    ]


def _shared_resource_rows(resources: Any, problems: list[str]) -> list[list[str]]:
    """The `shared_resources` section as seed lines, ordered by resource id."""
    rows = []
    seen_resources: set[str] = set()
    for resource_type, resource in (resources or {}).items():
        if not isinstance(resource, Mapping):
            problems.append(f"shared resource '{resource_type}': expected a mapping")
            continue
        resource_id = str(resource.get("id") or resource.get("cluster_id") or "").strip()
        if not resource_id:
            problems.append(f"shared resource '{resource_type}': no cluster_id or id")
            continue
        if resource_id in seen_resources:
            problems.append(f"shared resource '{resource_id}' is defined twice")
        seen_resources.add(resource_id)
        key = str(resource.get("allocation_key", ""))
        if key not in ALLOCATION_KEYS:
            problems.append(
                f"shared resource '{resource_id}': unknown allocation_key '{key}' "
                f"(use one of {', '.join(sorted(ALLOCATION_KEYS))})"
            )
        rows.append(
            [
                resource_id,
                str(resource.get("type", resource_type)),
                key,
                str(resource.get("region", "*")),
                str(resource.get("service_name", "")),
                str(resource.get("server_address", resource_id)),
            ]
        )
    return sorted(rows)


def render_csv(header: list[str], rows: list[list[str]]) -> str:
    """CSV text with a header row and `\\n` line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def default_rate_card(project_file: Path) -> str:
    """The project's var `default_rate_card` (it prices unattributed work), else `standard`."""
    if project_file.exists():
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
        card = (project.get("vars") or {}).get("default_rate_card")
        if card:
            return str(card)
    return "standard"


def _read_seed(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    """The rows of a seed file (none when the file does not exist)."""
    path = seeds_dir / name
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def existing_card_ids(seeds_dir: Path) -> set[str]:
    """Rate-card ids in the current rate_cards seed (empty when there is none)."""
    return {row["rate_card_id"] for row in _read_seed(seeds_dir, "rate_cards.csv")}


# Seeds that name a feature or a shared resource: (file, column, what it must name, filter).
REFERENCES = (
    ("cost_alert_thresholds.csv", "feature_id", "feature", None),
    ("cost_budgets.csv", "feature_id", "feature", None),
    ("feature_build_costs.csv", "feature_id", "feature", None),
    ("feature_ownership.csv", "feature_id", "feature", None),
    ("shared_resource_fixed_shares.csv", "feature_id", "feature", None),
    ("shared_resource_fixed_shares.csv", "resource_id", "shared resource", None),
    ("shared_resource_costs.csv", "resource_id", "shared resource", None),
    ("billing_mappings.csv", "target_id", "shared resource", ("target_type", "shared_resource")),
)


def dangling_references(seeds_dir: Path, seeds: Seeds) -> list[str]:
    """Rows of the other seeds that name a feature or shared resource the seeds after the
    import would not have, one line each (file, row, what to do)."""
    known: dict[str, set[str]] = {}
    for kind, name, column in (
        ("feature", "feature_taxonomy.csv", "feature_id"),
        ("shared resource", "shared_resources.csv", "resource_id"),
    ):
        if name in seeds.files:
            header, rows = seeds.files[name]
            known[kind] = {row[header.index(column)] for row in rows}
        else:
            known[kind] = {row[column] for row in _read_seed(seeds_dir, name)}
    problems = []
    for name, column, kind, only in REFERENCES:
        for number, row in enumerate(_read_seed(seeds_dir, name), start=2):
            if only is not None and row.get(only[0]) != only[1]:
                continue
            value = row.get(column, "")
            if value and value != "*" and value not in known[kind]:
                problems.append(
                    f"{seeds_dir / name} line {number} names {kind} '{value}', which the"
                    f" imported seeds do not have: remove the row, or add the {kind} to the file"
                )
    return problems


def import_config(
    config_path: Path,
    seeds_dir: Path,
    check_only: bool = False,
    keep_existing_cards: bool = False,
    default_rate_card: str = "standard",
) -> list[str]:
    """Validate and write the seeds; return the lines to print. Raises ConfigError."""
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError([f"not valid YAML{line}: {getattr(error, 'problem', error)}"]) from error
    existing = existing_card_ids(seeds_dir)
    names = {
        row["feature_id"]: row["feature_name"]
        for row in _read_seed(seeds_dir, "feature_taxonomy.csv")
        if row.get("feature_name")
    }
    seeds = build_seeds(config, existing, names)
    lines: list[str] = []
    if "rate_cards.csv" in seeds.files:
        header, rows = seeds.files["rate_cards.csv"]
        defined = {row[0] for row in rows}
        # The cards the seeds will name: the features' (the file's taxonomy, else the
        # current one) and the default card that prices unattributed work.
        if "feature_taxonomy.csv" in seeds.files:
            taxonomy_header, features = seeds.files["feature_taxonomy.csv"]
            named = {row[taxonomy_header.index("rate_card_id")] for row in features}
        else:
            named = {row["rate_card_id"] for row in _read_seed(seeds_dir, "feature_taxonomy.csv")}
        named.add(default_rate_card)
        keep = existing - defined if keep_existing_cards else (named & existing) - defined
        if not keep_existing_cards:
            lines.extend(
                f"warning: rate card '{card}' is not defined in the file; its rows in"
                f" {seeds_dir / 'rate_cards.csv'} are kept (the seeds name it)"
                for card in sorted(keep)
            )
        kept_rows = [
            row for row in _read_seed(seeds_dir, "rate_cards.csv") if row["rate_card_id"] in keep
        ]
        # A kept row's price_basis (init's `placeholder: ...`) stays; the file's rows have none.
        if any(row.get("price_basis") for row in kept_rows):
            header = [*header, "price_basis"]
            rows = [[*row, ""] for row in rows]
        kept = [[row.get(column) or "" for column in header] for row in kept_rows]
        seeds.files["rate_cards.csv"] = (header, sorted(rows + kept, key=lambda r: tuple(r[:4])))
    dangling = dangling_references(seeds_dir, seeds)
    if dangling:
        raise ConfigError(dangling)
    for name, (header, rows) in seeds.files.items():
        verb = "would write" if check_only else "wrote"
        if not check_only:
            (seeds_dir / name).write_text(render_csv(header, rows), encoding="utf-8")
        lines.append(f"{verb} {seeds_dir / name}: {len(rows)} rows")
    return lines
