"""Command line: `feature-cost <command>`; `feature-cost --help` lists the commands."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from feature_cost import alerts, bigquery_check, config_import, rate_card_impact, suggest_rates
from feature_cost.demo import DemoConfig, generate
from feature_cost.publish import EXIT_USAGE, PUBLISHED_DEFAULT, main_publish
from feature_cost.report import write_report
from feature_cost.summary import print_summary


def _add_duckdb_option(command: argparse.ArgumentParser) -> None:
    """`--duckdb`: the built DuckDB file, by default the one dbt builds (FEATURE_COST_DUCKDB)."""
    command.add_argument(
        "--duckdb",
        type=Path,
        default=Path(os.environ.get("FEATURE_COST_DUCKDB") or "data/feature_cost.duckdb"),
        help="the DuckDB file dbt built (default: $FEATURE_COST_DUCKDB, else"
        " data/feature_cost.duckdb)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feature-cost", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write deterministic demo telemetry")
    gen.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder")
    gen.add_argument("--days", type=int, default=DemoConfig.days)
    gen.add_argument("--requests-per-day", type=int, default=DemoConfig.requests_per_day)
    gen.add_argument("--start-date", type=date.fromisoformat, default=DemoConfig.start_date)
    gen.add_argument("--seed", type=int, default=DemoConfig.seed)
    gen.add_argument("--spans-per-line", type=int, default=DemoConfig.spans_per_line)
    gen.add_argument(
        "--clickhouse-parquet",
        action="store_true",
        help="also write the spans as Parquet in the ClickHouse exporter's otel_traces layout",
    )

    pub = commands.add_parser(
        "publish",
        help="build incrementally into a working copy and atomically replace the published"
        " DuckDB file with a copy of it",
        description="For schedulers: exit 0 published, 1 build failed (published file"
        " untouched), 2 telemetry stale (nothing built), 3 bad arguments, 4 another process"
        " holds the published file open for writing (nothing published), 5 another publish"
        " of the same file held its lock beyond --lock-timeout, 128+N interrupted by signal N"
        " (130 SIGINT, 143 SIGTERM).",
    )
    pub.add_argument(
        "--duckdb",
        type=Path,
        default=Path(PUBLISHED_DEFAULT),
        help=f"the published file BI tools open (default: {PUBLISHED_DEFAULT}); the build"
        " file .<stem>.build.duckdb is kept beside it",
    )
    pub.add_argument("--vars", default=None, help="dbt vars (YAML/JSON), passed to dbt")
    pub.add_argument("--target", default=None, help="dbt target (default: the profile's)")
    pub.add_argument(
        "--no-freshness", action="store_true", help="skip `dbt source freshness` before building"
    )
    pub.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the build file from scratch (dbt build --full-refresh): forgets decoded"
        " files the glob no longer matches and re-prices every day",
    )
    pub.add_argument(
        "--event-time-start",
        default=None,
        help="backfill: rebuild the days from this date (dbt's flag, with --event-time-end)",
    )
    pub.add_argument("--event-time-end", default=None, help="backfill: up to this date (exclusive)")
    pub.add_argument(
        "--lock-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up (exit 5) when another publish of the same file still runs after this"
        " long (default: wait for it)",
    )

    impact = commands.add_parser(
        "rate-card-impact",
        help="show which days and features a proposed rate card changes, and by how much",
    )
    impact.add_argument("proposed", type=Path, help="the proposed rate_cards.csv")
    _add_duckdb_option(impact)
    impact.add_argument("--vars", default=None, help="dbt vars (YAML/JSON), passed to dbt")

    suggest = commands.add_parser(
        "suggest-rates",
        help="propose rate-card prices from the bill (billed / estimated compute per card)",
        description="Writes a proposed rate_cards.csv (never over the seed) with new rows from"
        " the effective date, prints its diff, and names cards not reviewed recently.",
    )
    _add_duckdb_option(suggest)
    suggest.add_argument("--seeds-dir", type=Path, default=Path("seeds"))
    suggest.add_argument(
        "--out", type=Path, default=Path("reports/rate_cards.proposed.csv"), help="the proposal"
    )
    suggest.add_argument(
        "--effective-from",
        type=date.fromisoformat,
        default=None,
        help="first day of the new prices (default: the day after the latest billed month)",
    )
    suggest.add_argument(
        "--month",
        type=date.fromisoformat,
        default=None,
        help="the billed month to learn from, as its first day (default: the latest)",
    )
    suggest.add_argument(
        "--max-age-days",
        type=int,
        default=7,
        help="name the cards in use whose newest prices are older than this (default 7)",
    )
    suggest.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="leave cards whose billed / estimated is within 1 +- this (default 0.05)",
    )

    imp = commands.add_parser(
        "import-config",
        help="validate a cost-attribution-config.yaml and write it into the seeds",
        description="Writes feature_taxonomy.csv, rate_cards.csv and shared_resources.csv for"
        " the sections the file has; nothing is written if any check fails (exit 2).",
    )
    imp.add_argument("config", type=Path, help="the cost-attribution-config.yaml")
    imp.add_argument("--seeds-dir", type=Path, default=Path("seeds"))
    imp.add_argument("--check", action="store_true", help="validate and report; write nothing")
    imp.add_argument(
        "--keep-existing-rate-cards",
        action="store_true",
        help="keep every rate card of the current seed the file does not define (without it,"
        " only the cards the seeds name, with a warning)",
    )

    rep = commands.add_parser("report", help="write a static HTML report of the marts")
    _add_duckdb_option(rep)
    rep.add_argument("--out", type=Path, default=Path("reports/feature_cost_report.html"))

    bq = commands.add_parser(
        "check-bigquery",
        help="compile every model for BigQuery offline; parse and analyze it as GoogleSQL",
        description="Exit 0 when every model and data test parses (sqlglot) and analyzes"
        " (ZetaSQL, against declared source schemas and upstream output schemas), else 1.",
    )
    bq.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the compiled SQL, manifest and resolved schemas (schemas.json) in DIR",
    )

    alert = commands.add_parser(
        "alerts",
        help="print the cost alerts new since the last run; post them to a webhook",
        description="Reads cost_alerts; an alert is reported once (the state file remembers"
        " it). With --webhook the new alerts are posted as JSON (Slack-compatible `text`, and"
        " `alerts`) and count as reported only when the webhook answers 2xx (else exit 3).",
    )
    _add_duckdb_option(alert)
    alert.add_argument(
        "--state",
        type=Path,
        default=None,
        help="the file that remembers reported alerts (default: <duckdb>.alerts-sent.json)",
    )
    alert.add_argument("--webhook", default=None, metavar="URL", help="an http(s) webhook URL")
    alert.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for it")

    summary = commands.add_parser("summary", help="print a short summary of feature_cost_margin")
    _add_duckdb_option(summary)
    summary.add_argument("--top", type=int, default=10, help="rows in the per-feature table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; output piped into a reader that stops early (``| head``) ends quietly."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader is gone: point stdout at /dev/null so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        try:
            config = DemoConfig(
                seed=args.seed,
                days=args.days,
                requests_per_day=args.requests_per_day,
                start_date=args.start_date,
                spans_per_line=args.spans_per_line,
                clickhouse_parquet=args.clickhouse_parquet,
            )
        except ValueError as error:
            print(f"feature-cost generate: {error}", file=sys.stderr)
            return 2
        result = generate(config, args.out)
        print(
            f"wrote {result.spans:,} spans in {result.traces:,} traces to "
            f"{len(result.files)} files under {result.out_dir / 'otlp'}"
        )
        return 0
    if args.command == "publish":
        dbt_args = [
            *(["--vars", args.vars] if args.vars else []),
            *(["--target", args.target] if args.target else []),
        ]
        if (args.event_time_start is None) != (args.event_time_end is None):
            print(
                "feature-cost publish: --event-time-start and --event-time-end go together",
                file=sys.stderr,
            )
            return EXIT_USAGE
        build_args = (
            ["--event-time-start", args.event_time_start, "--event-time-end", args.event_time_end]
            if args.event_time_start
            else []
        )
        return main_publish(
            args.duckdb,
            Path.cwd(),
            dbt_args,
            not args.no_freshness,
            full_refresh=args.full_refresh,
            build_args=build_args,
            lock_timeout=args.lock_timeout,
        )
    if args.command == "rate-card-impact":
        dbt_args = ["--vars", args.vars] if args.vars else []
        return rate_card_impact.run(args.proposed, args.duckdb, Path.cwd(), dbt_args)
    if args.command == "suggest-rates":
        return suggest_rates.suggest_rates(
            args.duckdb,
            args.seeds_dir,
            args.out,
            effective_from=args.effective_from,
            month=args.month,
            max_age_days=args.max_age_days,
            tolerance=args.tolerance,
        )
    if args.command == "check-bigquery":
        return bigquery_check.main(Path.cwd(), args.keep)
    if args.command == "report":
        return write_report(args.duckdb, args.out)
    if args.command == "alerts":
        return alerts.run(args.duckdb, args.state, args.webhook, args.timeout)
    if args.command == "import-config":
        try:
            lines = config_import.import_config(
                args.config,
                args.seeds_dir,
                args.check,
                args.keep_existing_rate_cards,
                config_import.default_rate_card(Path("dbt_project.yml")),
            )
        except (config_import.ConfigError, OSError) as error:
            problems = getattr(error, "problems", [str(error)])
            for problem in problems:
                print(f"{args.config}: {problem}", file=sys.stderr)
            return 2
        print("\n".join(lines))
        return 0
    return print_summary(args.duckdb, args.top)


if __name__ == "__main__":
    sys.exit(main())
