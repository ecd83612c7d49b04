"""Benchmark: a full build and a one-day run against the floor, on generated span data.

For each size (spans over a 30-day history) the script generates the benchmark telemetry once
with `feature_cost.bench_data` (the demo's shapes, generated in DuckDB SQL; cached under
data/bench/), then times, in one run, with several repeats and the median kept:

- a build of seeds and models (tests excluded) from the Parquet span table (the ClickHouse
  exporter's layout) and its floor: a hand-written minimal DuckDB query over the same Parquet
  doing the irreducible work (the feature of each span through the trace, busy time priced at
  the feature's rate card, grouped by day, feature and tenant);
- the same build from OTLP/JSON Lines and its floor: a bare `read_json` of the same files that
  unnests every span;
- a one-day run: day 31 arrives as new OTLP files (its rotated chunks) and `dbt seed` +
  `dbt run` run again on the 30-day history (OTLP decoding is incremental by file, the span
  models by UTC day: they rebuild the latest day built, the lookback day and the new one);
- peak resident memory of the dbt process tree.

Each build figure is printed as a ratio to its floor. Data and unit tests are not timed.

The history probe (`--history-days`, `--spans-per-day`) measures how the daily run grows with
the history: with the same spans a day, the history (7 and 90 days by default) is built once,
then one new day of OTLP files arrives and `dbt seed` + `dbt run` is timed, repeated from a
copy of the built database; the medians are printed with their ratio to the shortest history's.

The tables, and the slowest models of the last full Parquet build, of the last one-day run and
of the history probe's runs (from dbt's run_results.json), are printed and written to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from feature_cost.bench_data import (  # noqa: E402
    DATA_VERSION,
    BenchConfig,
    generate,
    link_days,
    write_side_inputs,
)

DAYS = 30
START = date(2026, 1, 1)
GENERATOR = "feature_cost.bench_data"

FLOOR_SQL = """
with recursive
spans as (
    select TraceId as trace_id, SpanId as span_id, nullif(ParentSpanId, '') as parent_id,
           epoch_ns(Timestamp) as start_ns, Duration as duration_ns,
           ResourceAttributes['cloud.region'] as region,
           SpanAttributes['feature.id'] as own_feature,
           SpanAttributes['tenant.id'] as own_tenant
    from read_parquet('{parquet}')
),
lineage as (
    select trace_id, span_id, own_feature as feature_id, own_tenant as tenant_id
    from spans where own_feature is not null
    union all
    select c.trace_id, c.span_id, l.feature_id, l.tenant_id
    from lineage l join spans c on c.trace_id = l.trace_id and c.parent_id = l.span_id
    where c.own_feature is null
),
cards as (select * from read_csv('{seeds}/feature_taxonomy.csv')),
rates as (select * from read_csv('{seeds}/rate_cards.csv')),
priced as (
    select cast(to_timestamp(s.start_ns / 1e9) as date) as date_day,
           coalesce(l.feature_id, '__unattributed__') as feature_id,
           coalesce(l.tenant_id, '__shared__') as tenant_id,
           s.duration_ns / 1e6 * r.cpu_per_ms as cost
    from spans s
    left join lineage l on s.trace_id = l.trace_id and s.span_id = l.span_id
    left join cards c on c.feature_id = l.feature_id
    left join rates r on r.rate_card_id = coalesce(c.rate_card_id, 'standard')
        and r.cloud_region in (s.region, '*')
        and cast(to_timestamp(s.start_ns / 1e9) as date) >= r.effective_from
        and (r.effective_to is null
             or cast(to_timestamp(s.start_ns / 1e9) as date) < r.effective_to)
)
select date_day, feature_id, tenant_id, sum(cost) from priced group by all
"""

JSON_FLOOR_SQL = """
select sum(len(scope_spans.spans)) from (
    select unnest(resource_spans.scopeSpans) as scope_spans from (
        select unnest(resourceSpans) as resource_spans
        from read_json(
            '{otlp}', format = 'newline_delimited', maximum_object_size = 16777216,
            columns = {{'resourceSpans':
                'STRUCT(scopeSpans STRUCT(spans STRUCT(traceId VARCHAR)[])[])[]'}}
        )
    )
)
"""


@dataclass
class Timing:
    """Median seconds and peak RSS (bytes) of repeated runs."""

    seconds: float
    peak_rss: int


def _cached(folder: Path, config: BenchConfig) -> dict | None:
    """The manifest of a data set generated with this config, if the cache holds one."""
    manifest = folder / "data" / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    wanted = {
        "seed": config.seed,
        "days": config.days,
        "spans_per_day": config.spans_per_day,
        "start_date": config.start_date.isoformat(),
        "formats": list(config.formats),
    }
    if data.get("generator") != GENERATOR or data.get("data_version") != DATA_VERSION:
        return None
    if any(data["config"].get(k) != v for k, v in wanted.items()):
        return None
    return data


def _generate(folder: Path, config: BenchConfig) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    data = generate(config, folder / "data")
    size = sum(p.stat().st_size for paths in data.files.values() for p in paths) / 2**30
    print(
        f"  generated {data.spans:,} spans ({', '.join(config.formats)}; {size:.2f} GiB) in"
        f" {data.seconds:.1f} s: {data.spans_per_second:,.0f} spans/s",
        flush=True,
    )


def dataset(spans: int, cache: Path, formats: tuple[str, ...]) -> tuple[Path, int]:
    """Generate (or reuse) `spans` spans over DAYS days, plus day 31's files kept aside."""
    per_day = max(spans // DAYS, BenchConfig().smallest_spans_per_day)
    config = BenchConfig(days=DAYS + 1, spans_per_day=per_day, start_date=START, formats=formats)
    suffix = "" if set(formats) == {"otlp", "parquet"} else "-" + "-".join(formats)
    folder = cache / f"spans-{spans}{suffix}"
    if _cached(folder, config) is None:
        _generate(folder, config)
    aside = folder / "aside"
    if not aside.exists():
        day31 = (START + timedelta(days=DAYS)).isoformat()
        data = folder / "data"
        aside.mkdir()
        for path in sorted((data / "otlp").glob(f"traces-{day31}-*.jsonl")):
            shutil.move(path, aside / path.name)
        for path in (data / "clickhouse").glob(f"spans-{day31}-*.parquet"):
            path.unlink()
    return folder, per_day * DAYS


def _watch(process: subprocess.Popen[bytes], peak: list[int]) -> None:
    try:
        parent = psutil.Process(process.pid)
        while process.poll() is None:
            rss = parent.memory_info().rss + sum(
                c.memory_info().rss for c in parent.children(recursive=True)
            )
            peak[0] = max(peak[0], rss)
            time.sleep(0.1)
    except psutil.NoSuchProcess:
        pass


def _timed(command: list[str], env: dict[str, str], log_path: Path) -> Timing:
    peak = [0]
    with log_path.open("a") as log:
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        watcher = threading.Thread(target=_watch, args=(process, peak))
        watcher.start()
        code = process.wait()
        watcher.join()
        elapsed = time.perf_counter() - began
    if code != 0:
        raise RuntimeError(
            f"{' '.join(command[1:3])} failed ({code}):\n{log_path.read_text()[-3000:]}"
        )
    return Timing(elapsed, peak[0])


def dbt_run(
    duckdb_path: Path,
    dbt_vars: dict[str, str],
    work: Path,
    window: tuple[date, date] | None = None,
    seed: bool = True,
) -> Timing:
    """`dbt seed` then `dbt run` (tests excluded), timed together, with peak memory;
    `window`: only those days (`--event-time-start/--event-time-end`)."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(ROOT),
        "FEATURE_COST_DUCKDB": str(duckdb_path),
        "FEATURE_COST_TARGET": "dev",
    }
    work.mkdir(parents=True, exist_ok=True)
    common = [
        "--vars",
        json.dumps(dbt_vars),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    dbt = str(ROOT / ".venv" / "bin" / "dbt")
    log = work / "dbt-output.txt"
    seeded = _timed([dbt, "seed", *common], env, log) if seed else Timing(0.0, 0)
    if window:
        common += ["--event-time-start", window[0].isoformat()]
        common += ["--event-time-end", window[1].isoformat()]
    ran = _timed([dbt, "run", *common], env, log)
    return Timing(seeded.seconds + ran.seconds, max(seeded.peak_rss, ran.peak_rss))


def dbt_run_batches(
    duckdb_path: Path, dbt_vars: dict[str, str], work: Path, batch_days: int
) -> Timing:
    """The same first build made in batches of `batch_days` days, oldest first (`dbt run
    --event-time-start/--event-time-end`, the first batch on a new file): timed together,
    with the peak memory of the largest batch."""
    first = dbt_run(duckdb_path, dbt_vars, work, window=(START, START + timedelta(batch_days)))
    seconds, peak = first.seconds, first.peak_rss
    for offset in range(batch_days, DAYS + 1, batch_days):
        start = START + timedelta(days=offset)
        # The last batch runs to the day after the last, for work past its midnight.
        end = START + timedelta(days=min(offset + batch_days, DAYS + 1))
        batch = dbt_run(duckdb_path, dbt_vars, work, window=(start, end), seed=False)
        seconds, peak = seconds + batch.seconds, max(peak, batch.peak_rss)
    return Timing(seconds, peak)


def model_times(work: Path, top: int = 8) -> list[tuple[str, float]]:
    """The slowest models of the last dbt run in `work` (run_results.json), slowest first."""
    path = work / "target" / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    times = [(r["unique_id"].rsplit(".", 1)[-1], float(r["execution_time"])) for r in results]
    return sorted(times, key=lambda item: -item[1])[:top]


def query_time(sql: str, threads: int, memory_limit: str) -> float:
    """Seconds for one query on a fresh in-memory DuckDB with the same settings as dbt."""
    with duckdb.connect(config={"threads": threads, "memory_limit": memory_limit}) as con:
        began = time.perf_counter()
        con.execute(sql).fetchall()
        return time.perf_counter() - began


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(
    spans: int,
    repeats: int,
    threads: int,
    memory_limit: str,
    cache: Path,
    formats: tuple[str, ...] = ("otlp", "parquet"),
    batch_days: int | None = None,
) -> dict:
    """Every figure for one size (only the Parquet ones when `formats` has no "otlp")."""
    with_otlp = "otlp" in formats
    folder, total = dataset(spans, cache, ("otlp", "parquet") if with_otlp else ("parquet",))
    data = folder / "data"
    base_vars = _input_vars(data)
    parquet_vars = {
        **base_vars,
        "span_source": "clickhouse_parquet",
        "clickhouse_spans_path": str(data / "clickhouse" / "*.parquet"),
    }
    os.environ["FEATURE_COST_DUCKDB_THREADS"] = str(threads)
    os.environ["FEATURE_COST_DUCKDB_MEMORY_LIMIT"] = memory_limit
    results: dict[str, list[float]] = {
        k: [] for k in ("parquet", "batches", "otlp", "day", "floor", "json")
    }
    batch_peaks: list[int] = []
    peaks: list[int] = []
    profiles: dict[str, list[tuple[str, float]]] = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-") as name:
            work = Path(name)
            parquet = dbt_run(work / "p.duckdb", parquet_vars, work / "p")
            profiles["parquet"] = model_times(work / "p")
            results["parquet"].append(parquet.seconds)
            peaks.append(parquet.peak_rss)
            if batch_days:
                batches = dbt_run_batches(work / "b.duckdb", parquet_vars, work / "b", batch_days)
                results["batches"].append(batches.seconds)
                batch_peaks.append(batches.peak_rss)
            if not with_otlp:
                continue
            otlp = dbt_run(work / "o.duckdb", base_vars, work / "o")
            day31 = sorted((folder / "aside").glob("*.jsonl"))
            for path in day31:
                shutil.copy(path, data / "otlp" / path.name)
            try:
                day = dbt_run(work / "o.duckdb", base_vars, work / "o")
                profiles["day"] = model_times(work / "o")
            finally:
                for path in day31:
                    (data / "otlp" / path.name).unlink()
        results["otlp"].append(otlp.seconds)
        results["day"].append(day.seconds)
        peaks.append(max(otlp.peak_rss, day.peak_rss))
    for _ in range(repeats):
        results["floor"].append(
            query_time(
                FLOOR_SQL.format(parquet=data / "clickhouse" / "*.parquet", seeds=ROOT / "seeds"),
                threads,
                memory_limit,
            )
        )
        if not with_otlp:
            continue
        results["json"].append(
            query_time(JSON_FLOOR_SQL.format(otlp=data / "otlp" / "*.jsonl"), threads, memory_limit)
        )
    return {
        "spans": total,
        **{k: median(v) if v else None for k, v in results.items()},
        "peak": max(peaks),
        "batch_days": batch_days,
        "batch_peak": max(batch_peaks) if batch_peaks else None,
        "profiles": profiles,
    }


def _input_vars(data: Path) -> dict[str, str]:
    return {
        "otlp_path": str(data / "otlp" / "*.jsonl"),
        "revenue_path": str(data / "revenue" / "*.csv"),
        "feature_flags_path": str(data / "feature_flags" / "*.csv"),
        "focus_billing_path": str(data / "billing" / "*.csv"),
    }


def _copy_database(source: Path, target: Path) -> None:
    for suffix in ("", ".wal"):
        origin = source.with_name(source.name + suffix)
        copy = target.with_name(target.name + suffix)
        copy.unlink(missing_ok=True)
        if origin.exists():
            shutil.copy(origin, copy)


def history_probe(
    spans_per_day: int,
    history_days: list[int],
    repeats: int,
    threads: int,
    memory_limit: str,
    cache: Path,
) -> list[dict]:
    """The daily run (one new day of OTLP files) after histories of different lengths."""
    longest = max(history_days)
    config = BenchConfig(
        days=longest + 1, spans_per_day=spans_per_day, start_date=START, formats=("otlp",)
    )
    folder = cache / f"history-{spans_per_day}-per-day"
    if _cached(folder, config) is None:
        _generate(folder, config)
    source = folder / "data"
    os.environ["FEATURE_COST_DUCKDB_THREADS"] = str(threads)
    os.environ["FEATURE_COST_DUCKDB_MEMORY_LIMIT"] = memory_limit
    rows = []
    for days in sorted(set(history_days)):
        print(f"  history probe: {days} days of {spans_per_day:,} spans ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-history-") as name:
            work = Path(name)
            data = work / "data"
            # The history's span files; revenue, flags and the bill cover the new day too, so
            # the only difference between the two runs is the new day's span files.
            link_days(source, data, config.dates[:days], ["otlp"])
            link_days(source, data, config.dates[: days + 1], [])
            write_side_inputs(data, config.dates[: days + 1], seed=config.seed)
            dbt_vars = _input_vars(data)
            built = dbt_run(work / "history.duckdb", dbt_vars, work / "dbt")
            link_days(source, data, [config.dates[days]], ["otlp"])
            runs: list[Timing] = []
            for _ in range(repeats):
                _copy_database(work / "history.duckdb", work / "day.duckdb")
                runs.append(dbt_run(work / "day.duckdb", dbt_vars, work / "dbt"))
            rows.append(
                {
                    "days": days,
                    "spans": days * spans_per_day,
                    "history": built.seconds,
                    "day": median([r.seconds for r in runs]),
                    "runs": [r.seconds for r in runs],
                    "peak": max(r.peak_rss for r in runs),
                    "profile": model_times(work / "dbt"),
                }
            )
    return rows


def history_table(rows: list[dict], spans_per_day: int, repeats: int) -> str:
    """The history probe as Markdown: each history's daily run and its ratio to the first."""
    first = rows[0]
    lines = [
        f"History probe: one new day of {spans_per_day:,} spans (OTLP) after a history built"
        f" with the same spans a day; `dbt seed` + `dbt run`, medians of {repeats} runs from a"
        " copy of the built database.",
        "",
        "| history | history spans | history build (s) | one-day run (s) | runs (s) "
        f"| vs {first['days']} days | peak RSS (GiB) |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        runs = ", ".join(f"{x:.1f}" for x in r["runs"])
        lines.append(
            f"| {r['days']} days | {r['spans']:,} | {r['history']:.1f} | {r['day']:.1f} "
            f"| {runs} | {r['day'] / first['day']:.2f}x | {r['peak'] / 2**30:.2f} |"
        )
    last = rows[-1]
    lines += [
        "",
        f"Daily run after {last['days']} days / after {first['days']} days:"
        f" {last['day'] / first['day']:.2f}x (target: at most 1.1x).",
    ]
    for r in rows:
        if r["profile"]:
            lines += ["", f"Slowest models, one-day run after {r['days']} days (last repeat):", ""]
            lines += ["| model | seconds |", "| --- | ---: |"]
            lines += [f"| {name} | {seconds:.1f} |" for name, seconds in r["profile"]]
    return "\n".join(lines) + "\n"


def machine() -> str:
    """CPU model, cores, memory and versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    import dbt.version

    return (
        f"{cpu}; {os.cpu_count()} cores; {memory:.0f} GiB; Python {platform.python_version()};"
        f" duckdb {duckdb.__version__}; dbt-core {dbt.version.__version__}"
    )


def table(rows: list[dict], repeats: int, threads: int, memory_limit: str) -> str:
    """The results as a Markdown table with ratios to the floors."""
    lines = [
        f"Machine: {machine()}",
        f"DuckDB threads {threads}, memory limit {memory_limit}; medians of {repeats} runs.",
        "",
        "| spans | full build, Parquet (s) | floor query (s) | ratio | full build, OTLP (s) "
        "| bare read_json (s) | ratio | one-day run, OTLP (s) | vs full OTLP | peak RSS (GiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["otlp"] is None:
            otlp = "| not run | not run | | not run | "
        else:
            otlp = (
                f"| {r['otlp']:.1f} | {r['json']:.2f} | {r['otlp'] / r['json']:.1f}x "
                f"| {r['day']:.1f} | {r['day'] / r['otlp']:.0%} "
            )
        lines.append(
            f"| {r['spans']:,} | {r['parquet']:.1f} | {r['floor']:.2f} "
            f"| {r['parquet'] / r['floor']:.1f}x {otlp}| {r['peak'] / 2**30:.2f} |"
        )
    for r in rows:
        if r.get("batches") is not None:
            lines.append(
                f"\nThe same first build from Parquet in batches of {r['batch_days']} days"
                f" ({r['spans']:,} spans): {r['batches']:.1f} s"
                f" ({r['batches'] / r['parquet']:.2f}x the one-statement build,"
                f" {r['batches'] / r['floor']:.1f}x the floor), peak RSS"
                f" {r['batch_peak'] / 2**30:.2f} GiB."
            )
    titles = {"parquet": "full build from Parquet", "day": "one-day run (OTLP)"}
    for r in rows:
        for kind, title in titles.items():
            slowest = r.get("profiles", {}).get(kind) or []
            if not slowest:
                continue
            lines += ["", f"Slowest models, {title}, {r['spans']:,} spans (last repeat):", ""]
            lines += ["| model | seconds |", "| --- | ---: |"]
            lines += [f"| {name} | {seconds:.1f} |" for name, seconds in slowest]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spans", type=int, nargs="*", default=[1_000_000], help="sizes of the build table"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument(
        "--history-days",
        type=int,
        nargs="*",
        default=[7, 90],
        help="history lengths of the history probe (none: no probe)",
    )
    parser.add_argument(
        "--spans-per-day", type=int, default=20_000, help="spans a day in the history probe"
    )
    parser.add_argument(
        "--only", choices=("builds", "history"), help="run only the build table or the probe"
    )
    parser.add_argument(
        "--formats",
        choices=("both", "parquet"),
        default="both",
        help="parquet: time only the build from Parquet and its floor (sizes too large for"
        " OTLP/JSON on this disk)",
    )
    parser.add_argument(
        "--batch-days",
        type=int,
        help="also time the first build from Parquet made in batches of this many days",
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "benchmark.md")
    args = parser.parse_args()
    sections = []
    if args.only != "history" and args.spans:
        rows = []
        for spans in args.spans:
            print(f"measuring ~{spans:,} spans ...", flush=True)
            formats = ("parquet",) if args.formats == "parquet" else ("otlp", "parquet")
            rows.append(
                measure(
                    spans,
                    args.repeats,
                    args.threads,
                    args.memory_limit,
                    args.cache,
                    formats,
                    args.batch_days,
                )
            )
        sections.append(table(rows, args.repeats, args.threads, args.memory_limit))
    if args.only != "builds" and args.history_days:
        print(f"history probe: {args.spans_per_day:,} spans a day ...", flush=True)
        probe = history_probe(
            args.spans_per_day,
            args.history_days,
            args.repeats,
            args.threads,
            args.memory_limit,
            args.cache,
        )
        if not sections:
            sections.append(
                f"Machine: {machine()}\nDuckDB threads {args.threads}, memory limit"
                f" {args.memory_limit}.\n"
            )
        sections.append(history_table(probe, args.spans_per_day, args.repeats))
    text = "\n".join(sections)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
