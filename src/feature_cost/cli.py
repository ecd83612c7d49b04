"""The ``feature-cost`` command line; ``feature-cost --help`` lists its commands.

Every command that reads the file dbt builds takes ``--duckdb``, by default
``$FEATURE_COST_DUCKDB`` (the variable the dbt profile and the Makefile use), else
``data/feature_cost.duckdb``. ``publish`` writes the file BI tools open instead:
``$FEATURE_COST_PUBLISHED``, else ``data/published/feature_cost.duckdb``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from feature_cost import (
    MARTS_SCHEMA,
    alerts,
    config_import,
    rate_card_impact,
    suggest_rates,
)
from feature_cost import seeds_dir as seeds_path
from feature_cost.check import run_check
from feature_cost.demo import DemoConfig, generate
from feature_cost.demo_seeds import write_demo_seeds
from feature_cost.formatting import printable
from feature_cost.publish import EXIT_USAGE, PUBLISHED_DEFAULT, main_publish
from feature_cost.report import write_report
from feature_cost.starter import run_init
from feature_cost.summary import print_summary

BUILT_DEFAULT = "data/feature_cost.duckdb"
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as a shell reports a reader that stopped early

F = TypeVar("F", bound=Callable[..., Any])


class IsoDate(click.ParamType):
    """A calendar day written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a day written YYYY-MM-DD", param, ctx)


ISO_DATE = IsoDate()
PATH = click.Path(path_type=Path)


def file_option(envvar: str, default: str, help: str) -> Callable[[F], F]:
    """``--duckdb``: a DuckDB file, by default ``$envvar`` (empty counts as unset), else
    ``default``."""
    return click.option(
        "--duckdb",
        type=PATH,
        envvar=envvar,
        default=default,
        show_default=True,
        show_envvar=True,
        help=help,
    )


# The file dbt built: what every command but publish reads.
duckdb_option = file_option("FEATURE_COST_DUCKDB", BUILT_DEFAULT, "the DuckDB file dbt built")


def yaml_mapping(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Reject ``--vars`` that dbt would reject later, after freshness or a read of the traces."""
    if value:  # empty: no vars, as when the option is left out
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            detail = getattr(error, "problem", None) or str(error)
            at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
            raise click.BadParameter(f"not YAML: {detail}{at}", ctx, param) from error
        if not isinstance(parsed, dict):
            raise click.BadParameter("must be a YAML mapping, e.g. '{otlp_path: ...}'", ctx, param)
    return value


def vars_option(command: F) -> F:
    return click.option(
        "--vars",
        default=None,
        callback=yaml_mapping,
        help="dbt vars (a YAML mapping), passed to dbt",
    )(command)


seeds_dir_option = click.option(
    "--seeds-dir",
    type=PATH,
    default=seeds_path,
    show_default="$FEATURE_COST_SEEDS, else data/demo/seeds after make data, else seeds",
    help="the seeds the build reads",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Cost, revenue and margin per product feature and tenant, from OpenTelemetry traces."""


@cli.command("generate")
@click.option("--out", type=PATH, default=Path("data/demo"), show_default=True)
@click.option("--days", type=int, default=DemoConfig.days, show_default=True)
@click.option(
    "--requests-per-day", type=int, default=DemoConfig.requests_per_day, show_default=True
)
@click.option(
    "--start-date",
    type=ISO_DATE,
    default=None,
    help="the first day (default: the demo ends yesterday, UTC)",
)
@click.option("--seed", type=int, default=DemoConfig.seed, show_default=True)
@click.option("--spans-per-line", type=int, default=DemoConfig.spans_per_line, show_default=True)
@click.option(
    "--clickhouse-parquet",
    is_flag=True,
    help="also write the spans as Parquet in the ClickHouse exporter's otel_traces layout",
)
@click.option(
    "--reference-seeds",
    type=PATH,
    default=Path("seeds"),
    show_default=True,
    help="the demo's seeds, written for its reference days; moved to the demo's days in OUT/seeds",
)
def generate_command(
    out: Path,
    days: int,
    requests_per_day: int,
    start_date: date | None,
    seed: int,
    spans_per_line: int,
    clickhouse_parquet: bool,
    reference_seeds: Path,
) -> int:
    """Write deterministic demo telemetry and the demo's seeds for its days.

    The telemetry goes to OUT/otlp, revenue, feature_flags and billing; the seeds to OUT/seeds
    (build with FEATURE_COST_SEEDS=OUT/seeds). Without --start-date the demo ends yesterday.
    """
    if start_date is None:
        start_date = datetime.now(UTC).date() - timedelta(days=days)
    if not any(reference_seeds.glob("*.csv")):
        click.echo(
            f"feature-cost generate: no seeds in {printable(str(reference_seeds))}; run it in the"
            " project folder or name the folder with --reference-seeds",
            err=True,
        )
        return 2
    try:
        config = DemoConfig(
            seed=seed,
            days=days,
            requests_per_day=requests_per_day,
            start_date=start_date,
            spans_per_line=spans_per_line,
            clickhouse_parquet=clickhouse_parquet,
        )
    except ValueError as error:
        click.echo(f"feature-cost generate: {error}", err=True)
        return 2
    if (out / "seeds").resolve() == reference_seeds.resolve():
        click.echo(
            f"feature-cost generate: --out {printable(str(out))} would write the demo's seeds over"
            f" {printable(str(reference_seeds))}; choose another folder",
            err=True,
        )
        return 2
    seeds = write_demo_seeds(reference_seeds, out / "seeds", start_date, days)
    result = generate(config, out)
    last_day = start_date + timedelta(days=days - 1)
    click.echo(
        f"wrote {result.spans:,} spans in {result.traces:,} traces ({start_date}..{last_day}) to "
        f"{len(result.files)} files under {result.out_dir / 'otlp'}, and {len(seeds)} seeds for"
        f" those days to {out / 'seeds'}"
    )
    return 0


class PublishUsageError(click.UsageError):
    """A usage error of ``publish``: its exit codes are a scheduler's, and 2 there means stale
    telemetry."""

    exit_code = EXIT_USAGE


class PublishCommand(click.Command):
    """``publish``, whose usage errors exit 3."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise PublishUsageError(error.format_message(), error.ctx) from error


@cli.command(
    "publish",
    cls=PublishCommand,
    epilog="For schedulers: exit 0 published, 1 build failed (published file untouched),"
    " 2 telemetry stale (nothing built), 3 bad arguments, 4 another process holds the"
    " published file open for writing (nothing published), 5 another publish of the same file"
    " held its lock beyond --lock-timeout, 128+N interrupted by signal N (130 SIGINT, 143"
    " SIGTERM).",
)
@file_option(
    "FEATURE_COST_PUBLISHED",
    PUBLISHED_DEFAULT,
    "the published file BI tools open; the build file .<stem>.build.duckdb is kept beside it",
)
@vars_option
@click.option("--target", default=None, help="dbt target (default: the profile's)")
@click.option("--no-freshness", is_flag=True, help="skip `dbt source freshness` before building")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="rebuild the build file from scratch (dbt build --full-refresh): forgets decoded"
    " files the glob no longer matches and re-prices every day",
)
@click.option(
    "--event-time-start",
    default=None,
    help="backfill: rebuild the days from this date (dbt's flag, with --event-time-end)",
)
@click.option("--event-time-end", default=None, help="backfill: up to this date (exclusive)")
@click.option(
    "--lock-timeout",
    type=float,
    default=None,
    metavar="SECONDS",
    help="give up (exit 5) when another publish of the same file still runs after this long"
    " (default: wait for it)",
)
def publish_command(
    duckdb: Path,
    vars: str | None,
    target: str | None,
    no_freshness: bool,
    full_refresh: bool,
    event_time_start: str | None,
    event_time_end: str | None,
    lock_timeout: float | None,
) -> int:
    """Build incrementally into a working copy, then atomically replace the published
    DuckDB file with a copy of it."""
    if (event_time_start is None) != (event_time_end is None):
        click.echo(
            "feature-cost publish: --event-time-start and --event-time-end go together", err=True
        )
        return EXIT_USAGE
    dbt_args = [*(["--vars", vars] if vars else []), *(["--target", target] if target else [])]
    build_args = (
        ["--event-time-start", str(event_time_start), "--event-time-end", str(event_time_end)]
        if event_time_start
        else []
    )
    return main_publish(
        duckdb,
        Path.cwd(),
        dbt_args,
        not no_freshness,
        full_refresh=full_refresh,
        build_args=build_args,
        lock_timeout=lock_timeout,
    )


@cli.command("rate-card-impact")
@click.argument("proposed", type=PATH)
@duckdb_option
@vars_option
def rate_card_impact_command(proposed: Path, duckdb: Path, vars: str | None) -> int:
    """Show which days and features a proposed rate card changes, and by how much."""
    return rate_card_impact.run(proposed, duckdb, Path.cwd(), ["--vars", vars] if vars else [])


@cli.command("suggest-rates")
@duckdb_option
@seeds_dir_option
@click.option(
    "--out",
    type=PATH,
    default=Path("reports/rate_cards.proposed.csv"),
    show_default=True,
    help="the proposal",
)
@click.option(
    "--effective-from",
    type=ISO_DATE,
    default=None,
    help="first day of the new prices (default: the day after the latest billed month)",
)
@click.option(
    "--month",
    type=ISO_DATE,
    default=None,
    help="the billed month to learn from, as its first day (default: the latest)",
)
@click.option(
    "--max-age-days",
    type=int,
    default=7,
    show_default=True,
    help="name the cards in use whose newest prices are older than this",
)
@click.option(
    "--tolerance",
    type=float,
    default=0.05,
    show_default=True,
    help="leave cards whose billed / estimated is within 1 +- this",
)
def suggest_rates_command(
    duckdb: Path,
    seeds_dir: Path,
    out: Path,
    effective_from: date | None,
    month: date | None,
    max_age_days: int,
    tolerance: float,
) -> int:
    """Propose rate-card prices from the bill (billed / estimated compute per card).

    Writes a proposed rate_cards.csv (never over the seed) with new rows from the effective
    date, prints its diff, and names cards not reviewed recently.
    """
    return suggest_rates.suggest_rates(
        duckdb,
        seeds_dir,
        out,
        effective_from=effective_from,
        month=month,
        max_age_days=max_age_days,
        tolerance=tolerance,
    )


@cli.command("import-config")
@click.argument("config", type=PATH)
@seeds_dir_option
@click.option("--check", is_flag=True, help="validate and report; write nothing")
@click.option(
    "--keep-existing-rate-cards",
    is_flag=True,
    help="keep every rate card of the current seed the file does not define (without it,"
    " only the cards the seeds name, with a warning)",
)
def import_config_command(
    config: Path, seeds_dir: Path, check: bool, keep_existing_rate_cards: bool
) -> int:
    """Validate a cost-attribution-config.yaml and write it into the seeds.

    Writes feature_taxonomy.csv, rate_cards.csv and shared_resources.csv for the sections the
    file has; nothing is written if any check fails (exit 2).
    """
    try:
        lines = config_import.import_config(
            config,
            seeds_dir,
            check,
            keep_existing_rate_cards,
            config_import.default_rate_card(Path("dbt_project.yml")),
        )
    except (config_import.ConfigError, OSError) as error:
        for problem in getattr(error, "problems", [str(error)]):
            click.echo(f"{config}: {problem}", err=True)
        return 2
    click.echo("\n".join(lines))
    return 0


@cli.command("init")
@click.option(
    "--otlp-path",
    default=None,
    metavar="GLOB",
    help="your Collector's OTLP/JSON files (the var otlp_path)",
)
@click.option("--out", type=PATH, default=Path("feature_cost_local"), show_default=True)
@vars_option
@click.option("--force", is_flag=True, help="replace the seeds an earlier init wrote in OUT")
def init_command(otlp_path: str | None, out: Path, vars: str | None, force: bool) -> int:
    """Write starter seeds for your own traces into OUT/seeds, apart from the demo's.

    OUT is a folder inside the project (dbt reads seeds only there); nothing is written until
    the traces were read.

    Reads the traces the way a build does and writes a taxonomy row per feature.id, placeholder
    rate cards for the regions seen and LLM prices for the models seen (public list prices,
    marked price_basis=placeholder), service sizes, and empty pools, costs and budgets; plus
    header-only revenue, flag and bill files and OUT/vars.yml. Spans in a warehouse table:
    --vars '{span_source: clickhouse_table, clickhouse_spans_table: ...}'. Prints the build
    command.
    """
    extra = yaml.safe_load(vars) if vars else {}
    if otlp_path is None and "span_source" not in extra:
        click.echo(
            "feature-cost init: name the traces: --otlp-path GLOB, or --vars with span_source",
            err=True,
        )
        return 2
    return run_init(out, otlp_path, extra, Path.cwd(), force=force)


@cli.command("check")
@duckdb_option
def check_command(duckdb: Path) -> int:
    """Name what the seeds lack for the telemetry in a built file.

    Reads the priced span-days a build made (also one that stopped at the price tests): each
    rate card without a row for a region, instance family and run of days, and each LLM model
    without a price, with the seed to add it to. Exit 0 when nothing is missing, 1 when
    something is, 2 when the file has no build.
    """
    return run_check(duckdb)


@cli.command("report")
@duckdb_option
@click.option(
    "--out", type=PATH, default=Path("reports/feature_cost_report.html"), show_default=True
)
def report_command(duckdb: Path, out: Path) -> int:
    """Write a static HTML report of the marts."""
    return write_report(duckdb, out)


@cli.command("alerts")
@duckdb_option
@click.option(
    "--state",
    type=PATH,
    default=None,
    help="the file that remembers reported alerts (default: <duckdb>.alerts-sent.json)",
)
@click.option("--webhook", default=None, metavar="URL", help="an http(s) webhook URL")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="seconds to wait")
def alerts_command(duckdb: Path, state: Path | None, webhook: str | None, timeout: float) -> int:
    """Print the cost alerts new since the last run; post them to a webhook.

    Reads cost_alerts; an alert is reported once (the state file remembers it). With
    --webhook the new alerts are posted as JSON (Slack-compatible `text`, and `alerts`) and
    count as reported only when the webhook answers 2xx (else exit 3).
    """
    return alerts.run(duckdb, state, webhook, timeout)


@cli.command("summary")
@duckdb_option
@click.option(
    "--top", type=int, default=10, show_default=True, help="rows in the per-feature table"
)
def summary_command(duckdb: Path, top: int) -> int:
    """Print a short summary of feature_cost_margin."""
    return print_summary(duckdb, top)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (2 for a usage error, as click reports it).

    Output piped into a reader that stops early (``| head``) ends quietly.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", MARTS_SCHEMA):
        click.echo(
            f"feature-cost: FEATURE_COST_MARTS_SCHEMA {printable(MARTS_SCHEMA)!r} is not a plain"
            " schema name (letters, digits and _)",
            err=True,
        )
        return 2
    try:
        # Not cli.main(): it turns a closed pipe into exit 1 before this function sees it.
        with cli.make_context("feature-cost", args) as context:
            result = cli.invoke(context)
    except click.exceptions.Exit as done:  # --help
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except BrokenPipeError:
        # The reader is gone: point stdout at /dev/null so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
