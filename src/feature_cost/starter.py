"""``feature-cost init``: starter seeds for your own traces, so a first build passes unedited.

The command reads the traces the way a build does (it builds the span staging into a scratch
DuckDB file, so every input, encoding and quarantine rule is the project's own) and writes, into
a folder of its own inside the project (dbt reads seeds only there) and never over the demo's:

- ``seeds/``: a taxonomy row per ``feature.id`` (its group from ``feature.group`` or
  ``feature.category``), a ``standard`` rate card row per cloud region seen, a size per
  service, an LLM price per ``gen_ai.request.model`` seen, and every other seed (shared pools,
  their costs, team costs, build costs, budgets, alert thresholds, bill mappings) empty: no demo
  pool or cost. Rate cards and LLM prices carry a ``price_basis`` that starts ``placeholder:``
  and names the public price it was taken from; ``feature-cost summary`` lists them until you
  replace them with your own.
- ``revenue/``, ``feature_flags/``, ``billing/``: a header-only file each, for your revenue,
  flag history and FOCUS bill (the build reads them, not the demo's).
- ``vars.yml``: the dbt vars of those inputs, for ``dbt build --vars "$(cat DIR/vars.yml)"``.

Placeholder prices are public list prices (``PRICE_BASIS``, ``LLM_LIST_PRICES``): right in
magnitude, not your bill. An LLM model the table does not know is priced at zero and named, so
the build passes and no cost is invented; add its price to the folder's ``llm_model_prices.csv``.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from feature_cost.billing import write_focus_csv
from feature_cost.demo import FLAG_COLUMNS, REVENUE_COLUMNS
from feature_cost.formatting import csv_text, price_text, printable
from feature_cost.publish import dbt_executable

EXIT_WRITTEN = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# The card the starter taxonomy names (the var default_rate_card, when given) and the currency
# of every placeholder price.
STARTER_CARD = "standard"
PRICE_CURRENCY = "USD"
UNGROUPED = "ungrouped"
PLACEHOLDER = "placeholder: "

# Per-millisecond prices from public on-demand list prices (USD, published by the providers in
# 2025): vCPU and memory from AWS Fargate (Linux/x86, us-east-1: $0.04048 per vCPU-hour,
# $0.004445 per GB-hour), a GPU from an Amazon EC2 g5.xlarge (one NVIDIA A10G, $1.006 an hour),
# a database query from Amazon Aurora Standard I/O ($0.20 per million requests).
MS_PER_HOUR = 3_600_000
PRICE_BASIS = {
    "cpu_per_ms": 0.04048 / MS_PER_HOUR,
    "memory_per_ms": 0.004445 / MS_PER_HOUR,
    "gpu_per_ms": 1.006 / MS_PER_HOUR,
    "db_query_base": 0.20 / 1_000_000,
}
RATE_BASIS_NOTE = (
    PLACEHOLDER + "AWS Fargate us-east-1 vCPU and GB hours, EC2 g5.xlarge GPU hour, Aurora I/O"
    " requests (2025 list prices); replace with your rates"
)
# Public list prices per 1,000 tokens (USD; the providers' pricing pages, 2025): input, output,
# cached input, cache write. A model named with a version suffix (gpt-4o-2024-08-06,
# claude-sonnet-4-20250514) takes the price of the longest name it starts with.
LLM_LIST_PRICES: dict[str, tuple[float, float, float | None, float | None]] = {
    "gpt-4o": (0.0025, 0.01, 0.00125, None),
    "gpt-4o-mini": (0.00015, 0.0006, 0.000075, None),
    "gpt-4.1": (0.002, 0.008, 0.0005, None),
    "gpt-4.1-mini": (0.0004, 0.0016, 0.0001, None),
    "gpt-4.1-nano": (0.0001, 0.0004, 0.000025, None),
    "o3-mini": (0.0011, 0.0044, 0.00055, None),
    "claude-sonnet-4": (0.003, 0.015, 0.0003, 0.00375),
    "claude-3-5-sonnet": (0.003, 0.015, 0.0003, 0.00375),
    "claude-3-5-haiku": (0.0008, 0.004, 0.00008, 0.001),
    "claude-opus-4": (0.015, 0.075, 0.0015, 0.01875),
    "gemini-2.0-flash": (0.0001, 0.0004, 0.000025, None),
}
SERVICE_SIZE = {"vcpu_cores": "1", "memory_gb": "2", "gpu_count": "0"}

# What a scan builds: the span staging, the rules every build reads traces by.
SCAN_SELECT = "+stg_otel__spans"
FEATURES_SQL = """
select feature_id, coalesce(mode(feature_group_attribute), '') as feature_group, count(*)
from main.stg_otel__spans
where quarantine_reason is null and feature_id is not null
group by feature_id
order by feature_id
"""
SERVICES_SQL = """
select distinct service_name
from main.stg_otel__spans
where quarantine_reason is null and service_name is not null
order by 1
"""
REGIONS_SQL = """
select coalesce(cloud_region, '*'), min(start_day), count(*)
from main.stg_otel__spans
where quarantine_reason is null
group by 1
order by 1
"""
MODELS_SQL = """
select gen_ai_request_model, min(start_day), count(*)
from main.stg_otel__spans
where quarantine_reason is null and gen_ai_request_model is not null
group by 1
order by 1
"""


@dataclass
class Scan:
    """What the traces hold that the seeds must name."""

    features: list[tuple[str, str, int]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    regions: list[tuple[str, date, int]] = field(default_factory=list)
    models: list[tuple[str, date, int]] = field(default_factory=list)


def list_price(model: str) -> tuple[float, float, float | None, float | None] | None:
    """The public list price of a model, by its name or the longest known name it starts with."""
    known = [name for name in LLM_LIST_PRICES if model == name or model.startswith(name + "-")]
    return LLM_LIST_PRICES[max(known, key=len)] if known else None


def price_cell(value: float | None) -> str:
    """A price to six significant figures, in the seeds' plain decimals; empty for none."""
    return "" if value is None else price_text(float(f"{value:.6g}"))


def seed_headers(reference_dir: Path) -> dict[str, list[str]]:
    """Each seed's columns, from the project's seed files."""
    headers = {}
    for path in sorted(reference_dir.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            headers[path.name] = next(csv.reader(handle))
    return headers


def starter_seeds(
    scan: Scan, headers: Mapping[str, list[str]], card: str = STARTER_CARD
) -> dict[str, str]:
    """Every seed's starter text for what the scan found."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in headers}
    rows["feature_taxonomy.csv"] = [
        {
            "feature_id": feature_id,
            "feature_group": group or UNGROUPED,
            "feature_name": feature_id,
            "rate_card_id": card,
            "allocation_strategy": "proportional_duration",
            "requires_feature_flag": "false",
            "feature_flag_key": "",
        }
        for feature_id, group, _ in scan.features
    ]
    # Every placeholder is in force from the first day of the traces.
    regions = scan.regions or [("*", date(2020, 1, 1), 0)]
    first_day = min(day for _, day, _ in regions)
    rows["rate_cards.csv"] = [
        {
            "rate_card_id": card,
            "cloud_region": region,
            "instance_family": "*",
            "effective_from": first_day.isoformat(),
            "effective_to": "",
            **{column: price_cell(price) for column, price in PRICE_BASIS.items()},
            "currency": PRICE_CURRENCY,
            "price_basis": RATE_BASIS_NOTE,
        }
        for region, _, _ in regions
    ]
    rows["service_resource_defaults.csv"] = [
        {"service_name": name, **SERVICE_SIZE} for name in ["__default__", *scan.services]
    ]
    llm_rows = []
    for model, _, _ in scan.models:
        price = list_price(model)
        basis = (
            PLACEHOLDER + "public list price (2025); replace with your contract's"
            if price
            else PLACEHOLDER + "unknown model, priced at 0 until you add its price"
        )
        input_, output, cached, cache_write = price or (0.0, 0.0, None, None)
        llm_rows.append(
            {
                "model": model,
                "effective_from": first_day.isoformat(),
                "effective_to": "",
                "input_per_1k_tokens": price_cell(input_),
                "output_per_1k_tokens": price_cell(output),
                "cached_input_per_1k_tokens": price_cell(cached),
                "cache_write_per_1k_tokens": price_cell(cache_write),
                "reasoning_per_1k_tokens": "",
                "currency": PRICE_CURRENCY,
                "price_basis": basis,
            }
        )
    rows["llm_model_prices.csv"] = llm_rows
    texts = {}
    for name, header in headers.items():
        columns = (
            [*header, "price_basis"] if rows[name] and "price_basis" in rows[name][0] else header
        )
        texts[name] = csv_text(columns, rows[name])
    return texts


def scan_built(path: Path) -> Scan:
    """Read what the seeds must name from a DuckDB file the span models were built into."""
    with duckdb.connect(str(path), read_only=True) as con:
        return Scan(
            features=[(f, g, int(n)) for f, g, n in con.execute(FEATURES_SQL).fetchall()],
            services=[s for (s,) in con.execute(SERVICES_SQL).fetchall()],
            regions=[(r, d, int(n)) for r, d, n in con.execute(REGIONS_SQL).fetchall()],
            models=[(m, d, int(n)) for m, d, n in con.execute(MODELS_SQL).fetchall()],
        )


def input_paths(out: Path) -> dict[str, str]:
    """The vars of the revenue, flag and bill files in ``out``."""
    return {
        "revenue_path": str(out / "revenue" / "*.csv"),
        "feature_flags_path": str(out / "feature_flags" / "*.csv"),
        "focus_billing_path": str(out / "billing" / "*.csv"),
    }


def write_input_templates(out: Path) -> None:
    """Header-only revenue, flag and bill files in ``out``; a file already there is kept."""
    templates = {
        out / "revenue" / "revenue.csv": REVENUE_COLUMNS,
        out / "feature_flags" / "feature_flags.csv": FLAG_COLUMNS,
    }
    for path, columns in templates.items():
        if not any(path.parent.glob("*.csv")):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(csv_text(columns, []), encoding="utf-8")
    if not any((out / "billing").glob("*.csv")):
        write_focus_csv(out / "billing" / "focus.csv", [])


def _scan(project_dir: Path, dbt_vars: Mapping[str, Any]) -> Scan | str:
    """Build the span staging into a scratch file and scan it (or say why not). No seed is
    loaded: the project's reference seeds only let dbt parse."""
    with tempfile.TemporaryDirectory(prefix="feature-cost-init-") as scratch_name:
        scratch = Path(scratch_name)
        env = {name: value for name, value in os.environ.items() if name != "FEATURE_COST_SEEDS"}
        env |= {
            "DBT_PROFILES_DIR": str(project_dir),
            "FEATURE_COST_DUCKDB": str(scratch / "scan.duckdb"),
        }
        command = [
            dbt_executable(),
            "build",
            "--select",
            SCAN_SELECT,
            "--exclude-resource-type",
            "test",
            "unit_test",
            "--vars",
            yaml.safe_dump(dict(dbt_vars)),
            "--project-dir",
            str(project_dir),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ]
        built = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if built.returncode != 0:
            return built.stdout[-4000:] + built.stderr[-2000:]
        return scan_built(scratch / "scan.duckdb")


def _refusal(out: Path, project: Path, extra_vars: Mapping[str, Any]) -> str | None:
    """Why init must not write to ``out`` with these vars, or None."""
    try:
        out.relative_to(project)
    except ValueError:
        return (
            f"--out {printable(str(out))} is not inside the project folder"
            f" {printable(str(project))}: dbt reads seeds only from a folder inside it (it writes"
            " each seed's SQL under target/run/ at the seed's path)"
        )
    reference = project / "seeds"
    seeds = out / "seeds"
    # Folders `make clean` removes or `make data` rewrites.
    for scratch in ("data/demo", "target", "logs", "dbt_packages"):
        if out == project / scratch or project / scratch in out.parents:
            return (
                f"--out {printable(str(out))} is inside {scratch}/, which make clean removes"
                f" (or make data rewrites); choose a folder of its own (the default:"
                " feature_cost_local)"
            )
    if seeds == reference or reference in seeds.parents or seeds in reference.parents:
        return (
            f"--out {printable(str(out))} would put the seeds in or around the demo's"
            f" {printable(str(reference))}; choose a folder of its own (the default:"
            " feature_cost_local)"
        )
    currency = str(extra_vars.get("currency", PRICE_CURRENCY))
    if currency != PRICE_CURRENCY:
        return (
            f"the placeholder prices are {PRICE_CURRENCY} list prices and the vars say currency"
            f" {printable(currency)}: run init without it and convert the prices, or write the"
            " rate cards and LLM prices yourself"
        )
    return None


def unmatched_local_glob(dbt_vars: Mapping[str, Any]) -> str | None:
    """The OTLP glob the scan would read, when it is a local path that matches no file (as
    DuckDB, which reads it, globs: hidden files included); else None. dbt says the same, but
    only after parsing the project."""
    path = str(dbt_vars.get("otlp_path") or "")
    if dbt_vars.get("span_source", "otlp_json") != "otlp_json" or not path or "://" in path:
        return None
    with duckdb.connect() as con:
        (matches,) = con.execute("select count(*) from glob(?)", [path]).fetchone() or (0,)
    return path if matches == 0 else None


def run_init(
    out: Path,
    otlp_path: str | None,
    extra_vars: Mapping[str, Any],
    project_dir: Path,
    force: bool = False,
) -> int:
    """Write starter seeds, input templates and vars for the traces; return an exit code.

    Nothing is written until the traces were read: a failed scan leaves ``out`` as it was.
    """
    project = project_dir.resolve()
    out = (project / out.expanduser()).resolve()
    refusal = _refusal(out, project, extra_vars)
    if refusal:
        print(f"feature-cost init: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    seeds = out / "seeds"
    if any(seeds.glob("*.csv")) and not force:
        print(
            f"feature-cost init: {printable(str(seeds))} already has seeds; nothing written"
            " (--force replaces them)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    headers = seed_headers(project / "seeds")
    if not headers:
        print(
            f"feature-cost init: no seeds in {printable(str(project / 'seeds'))}; run it in"
            " the feature-cost project folder",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if otlp_path and "://" not in otlp_path:
        otlp_path = str(Path(otlp_path).expanduser().resolve())
    dbt_vars = {
        **input_paths(out),
        **({"otlp_path": otlp_path} if otlp_path else {}),
        **extra_vars,
    }
    unmatched = unmatched_local_glob(dbt_vars)
    if unmatched is not None:
        print(
            f"feature-cost init: the otlp_path glob {printable(unmatched)} matches no file;"
            " nothing was written",
            file=sys.stderr,
        )
        return EXIT_FAILED
    scanned = _scan(project, dbt_vars)
    if isinstance(scanned, str):
        print(scanned, file=sys.stderr)
        print(
            "feature-cost init: the traces could not be read (see dbt's output above);"
            " nothing was written",
            file=sys.stderr,
        )
        return EXIT_FAILED
    card = str(extra_vars.get("default_rate_card", STARTER_CARD))
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    for name, text in starter_seeds(scanned, headers, card).items():
        (seeds / name).write_text(text, encoding="utf-8")
    write_input_templates(out)
    (out / "vars.yml").write_text(yaml.safe_dump(dbt_vars, sort_keys=True), encoding="utf-8")
    _report(out.relative_to(project), scanned, card)
    return EXIT_WRITTEN


def _report(out: Path, scan: Scan, card: str) -> None:
    unknown = [model for model, _, _ in scan.models if list_price(model) is None]
    regions = ", ".join(f"`{r}`" for r, _, _ in scan.regions) or "`*` (any)"
    if not scan.regions:
        print(
            "feature-cost init: the traces hold no span a build would price; check the glob"
            " (span_accounting says what a build read)",
            file=sys.stderr,
        )
    print(f"Starter seeds in {printable(str(out / 'seeds'))}:")
    print(f"  features: {len(scan.features)} ({UNGROUPED!r} where spans name no group)")
    print(
        f"  rate card `{printable(card)}` for regions {printable(regions)}: placeholder list prices"
    )
    print(
        f"  services: {len(scan.services)}, sized {SERVICE_SIZE['vcpu_cores']} vCPU,"
        f" {SERVICE_SIZE['memory_gb']} GB (placeholders)"
    )
    print(f"  LLM models: {len(scan.models)}, placeholder list prices")
    if unknown:
        names = ", ".join(f"`{m}`" for m in unknown)
        print(f"  no list price for {printable(names)}: priced at 0 until you add a price")
    print("  no shared pools, team or build costs, budgets or alert thresholds yet")
    seeds = printable(str(out / "seeds"))
    vars_file = printable(str(out / "vars.yml"))
    duckdb_file = printable(str(out / "feature_cost.duckdb"))
    print("Build into a file of its own:")
    print(
        f'  FEATURE_COST_SEEDS={seeds} FEATURE_COST_DUCKDB={duckdb_file} dbt build --vars "$(cat'
        f' {vars_file})"'
    )
    print(f"  feature-cost summary --duckdb {duckdb_file}")
