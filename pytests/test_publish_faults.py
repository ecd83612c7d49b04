"""Scheduled publishes under faults, with real dbt runs on real DuckDB files.

Where a test is about files and processes, not numbers, the publish runs a minimal dbt
project (``publish_probe/``: one mart from CSV files, a step that keeps dbt busy when asked, a
test that fails when asked) on the project's own profile; it builds in about a second where
the project takes ten. The incremental publish and its full refresh run the project itself,
and the project's own freshness rules, which a publish runs first, are checked in process.

- a reader in another process holds the published file open while a new build is
  published: it goes on reading the old marts, whole (the file is replaced by a rename);
- a build that fails, or telemetry that is stale, leaves the published file as it was;
- a publish killed with SIGKILL mid-build: its dbt dies with it, the published file still
  reads, and the next publish succeeds and removes the staging files a killed run leaves;
- an in-place ``dbt run`` on the published path killed mid-write leaves the file's
  write-ahead log beside it: the next publish still leaves a file every reader can open;
- a log beside the published file that belongs to another database (what an older publish
  left after such a kill: no connection could open the file) is replaced with the file;
- a publish refuses to replace a file another process holds open for writing;
- publishes of one path run one after the other; one that may not wait gives up with its
  own exit code;
- a publish builds incrementally on its build file: a second one with no new data gives the
  same marts even after the Collector rotated a file away, and ``--full-refresh`` rebuilds
  from the files the glob matches now.

Waits poll for a state with a generous deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pytest

from conftest import DEMO_CONFIG, DemoBuild, run_dbt
from feature_cost.publish import (
    EXIT_BUILD_FAILED,
    EXIT_HELD_FOR_WRITING,
    EXIT_INTERRUPTED_BASE,
    EXIT_LOCK_TIMEOUT,
    EXIT_PUBLISHED,
    EXIT_STALE,
    build_path,
    dbt_executable,
    wal_path,
)
from test_publish import (
    Rows,
    mart_rows,
    publish_command,
    publish_env,
    run_publish,
    same_rows,
)

# Each test builds its own data set with dbt: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

PROBE = Path(__file__).resolve().parent / "publish_probe"
# The probe's requests: the costs of a day's requests, a CSV file a day; a third day arrives
# later.
PROBE_DAYS = {date(2026, 1, 5): [0.5, 0.25], date(2026, 1, 6): [1.0]}
ARRIVING_DAY = (date(2026, 1, 7), [2.0])
DEADLINE_SECONDS = 300

# What a reader sees of the marts: rows and total cost of feature_cost_margin.
MARGIN_TOTALS = "select count(*), sum(total_cost) from feature_cost_marts.feature_cost_margin"

READER = textwrap.dedent(
    f"""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = {MARGIN_TOTALS!r}
    print(repr(con.execute(query).fetchone()), flush=True)
    sys.stdin.readline()  # hold the file open until told to read again
    print(repr(con.execute(query).fetchone()), flush=True)
    """
)

# Writes into a DuckDB file and dies without a checkpoint: its write-ahead log stays.
KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("set checkpoint_threshold = '1GB'")
    con.execute("create table main.half_written as select range as x from range(1000)")
    os._exit(0)
    """
)

# Holds a DuckDB file open for writing until its stdin closes.
WRITER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    sys.stdin.readline()
    """
)

T = TypeVar("T")


@dataclass(frozen=True)
class FirstPublish:
    """The probe project's two days published once; each test publishes again on its
    directory, put back as the first publish left it."""

    project: Path  # a copy of the probe project: publishes run in it
    data: Path
    dbt_vars: dict[str, str]
    published: Path
    marts: Rows
    pristine: Path  # the published directory right after the first publish
    dbt_dir: Path  # the first publish's dbt directory (its target/ holds the parse)


def write_requests(folder: Path, day: date, costs: list[float]) -> Path:
    """One day of the probe's requests, as a CSV file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day.isoformat()}.csv"
    rows = "".join(f"{day.isoformat()},{cost}\n" for cost in costs)
    path.write_text("date_day,cost\n" + rows, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first_publish(tmp_path_factory: pytest.TempPathFactory) -> FirstPublish:
    root = tmp_path_factory.mktemp("first_publish")
    project = shutil.copytree(PROBE, root / "project")
    for day, costs in PROBE_DAYS.items():
        write_requests(root / "data" / "requests", day, costs)
    dbt_vars = {"requests_path": str(root / "data" / "requests" / "*.csv")}
    published = root / "published" / "feature_cost.duckdb"
    result = run_publish(
        published, dbt_vars, "--no-freshness", dbt_dir=root / "dbt", project=project
    )
    assert result.returncode == EXIT_PUBLISHED, result.stdout[-3000:] + result.stderr
    assert "full rebuild" in result.stdout  # no build file yet
    shutil.copytree(published.parent, root / "pristine")
    marts = mart_rows(published)
    assert marts["feature_cost_margin"] == [
        (day, len(costs), sum(costs)) for day, costs in PROBE_DAYS.items()
    ]
    return FirstPublish(
        project, root / "data", dbt_vars, published, marts, root / "pristine", root / "dbt"
    )


def restore_first_publish(first: FirstPublish) -> Path:
    """The published directory put back as the first publish left it: the next publish is
    incremental on the same build file. (The module's tests run one at a time.)"""
    shutil.rmtree(first.published.parent)
    shutil.copytree(first.pristine, first.published.parent)
    assert build_path(first.published).exists()
    return first.published


def dbt_dir_of(first: FirstPublish, path: Path) -> Path:
    """A new dbt directory holding the first publish's parse: a publish of the same build
    file with the same vars parses only what changed, as a scheduled one does."""
    (path / "target").mkdir(parents=True)
    shutil.copy2(
        first.dbt_dir / "target" / "partial_parse.msgpack",
        path / "target" / "partial_parse.msgpack",
    )
    return path


def wait_for(condition: Callable[[], T], what: str) -> T:
    """Poll until ``condition()`` is truthy; fail (not time) if it never becomes so."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in {"Z", "X"}


def dbt_children(parent: int) -> list[int]:
    """Live processes whose parent is ``parent`` and whose command line runs dbt."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None or int(fields[1]) != parent or fields[0] in {"Z", "X"}:
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if any(part.endswith(b"/dbt") for part in command):
            found.append(int(entry.name))
    return found


def readable(path: Path) -> str | None:
    """None when a new reader opens ``path`` read-only and reads the mart; else the error."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("select count(*) from feature_cost_marts.feature_cost_margin").fetchone()
    except duckdb.Error as error:
        return str(error)
    return None


def publish_again_and_read(first: FirstPublish, dbt_dir: Path) -> subprocess.CompletedProcess:
    """Publish the first publish's directory again; it must publish a file every reader opens,
    with no log beside it, holding the same marts."""
    result = run_publish(
        first.published,
        first.dbt_vars,
        "--no-freshness",
        dbt_dir=dbt_dir_of(first, dbt_dir),
        project=first.project,
    )
    assert result.returncode == EXIT_PUBLISHED, result.stdout[-3000:] + result.stderr
    assert not wal_path(first.published).exists()
    assert readable(first.published) is None
    assert same_rows(mart_rows(first.published), first.marts)
    return result


def start_publish(
    first: FirstPublish, dbt_dir: Path, *, slow: bool = False, **popen: Any
) -> subprocess.Popen:
    """Start a publish of the first publish's directory again without waiting for it; dbt
    writes in ``dbt_dir`` (one from ``dbt_dir_of``: the first publish's parse). ``slow``:
    dbt stays busy after writing the mart until it is stopped; ``popen``: the output streams
    and session."""
    dbt_vars = {**first.dbt_vars, "slow": True} if slow else first.dbt_vars
    return subprocess.Popen(
        publish_command(first.published, dbt_vars, "--no-freshness"),
        cwd=first.project,
        env=publish_env(dbt_dir),
        **popen,
    )


def talking_process(script: str, path: Path) -> subprocess.Popen[str]:
    """Start Python running ``script`` on ``path``, its stdin and stdout pipes to this test."""
    return subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def leftovers(published: Path) -> list[str]:
    return sorted(p.name for p in published.parent.glob(".*building*"))


def _snapshot(path: Path) -> tuple:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(MARGIN_TOTALS).fetchone()


def test_publish_while_a_reader_holds_the_file(first_publish: FirstPublish, tmp_path: Path) -> None:
    """The build never writes the file a reader holds: it publishes by atomic rename. A day
    arrives after the first publish; the next (incremental) publish adds it while a reader in
    another process holds the file open and keeps reading the marts it opened, whole."""
    published = restore_first_publish(first_publish)
    before = _snapshot(published)
    reader = talking_process(READER, published)
    new_day = first_publish.data / "requests" / f"{ARRIVING_DAY[0].isoformat()}.csv"
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == repr(before)
        write_requests(first_publish.data / "requests", *ARRIVING_DAY)
        second = run_publish(
            published,
            first_publish.dbt_vars,
            "--no-freshness",
            dbt_dir=dbt_dir_of(first_publish, tmp_path / "dbt"),
            project=first_publish.project,
        )
        assert second.returncode == EXIT_PUBLISHED, second.stdout[-3000:] + second.stderr
        assert "incremental build" in second.stdout
        reader.stdin.write("again\n")
        reader.stdin.flush()
        # The open reader still sees the complete old marts, not a half-written mix.
        assert reader.stdout.readline().strip() == repr(before)
    finally:
        reader.kill()
        reader.wait()
        new_day.unlink(missing_ok=True)  # the module's other tests read the first two days
    assert _snapshot(published) == (3, 1.75 + 2.0)
    assert not leftovers(published), "a staging file was left behind"


def test_failed_or_stale_runs_leave_the_published_file_alone(first_publish: FirstPublish) -> None:
    """Exit 1 when the build fails, 2 when telemetry is stale; the published file is intact."""
    published = restore_first_publish(first_publish)
    before = (published.stat().st_mtime_ns, _snapshot(published))

    failing = {**first_publish.dbt_vars, "fail_build": True}
    failed = run_publish(published, failing, "--no-freshness", project=first_publish.project)
    assert failed.returncode == EXIT_BUILD_FAILED, failed.stdout[-3000:]
    assert "fails_when_asked" in failed.stdout  # the data test that failed
    assert "left as it was" in failed.stderr

    # The probe's requests are from January 2026: as a live feed they are long stale.
    stale = run_publish(published, first_publish.dbt_vars, project=first_publish.project)
    assert stale.returncode == EXIT_STALE, stale.stdout[-3000:]
    assert "ERROR STALE" in stale.stdout  # dbt's verdict on the source, not a failed read
    assert "stale" in stale.stderr

    assert (published.stat().st_mtime_ns, _snapshot(published)) == before
    assert not leftovers(published)


def test_the_projects_freshness_calls_the_demo_spans_stale(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """What a publish of the project runs before building (the probe stands in for it
    above): the project's own freshness rules. The demo's spans are from January 2026: read
    from the ClickHouse exporter's Parquet, the one span source with a time to judge them
    by, as a live feed they are long stale."""
    stale_vars = {
        **demo_build.vars,
        "span_source": "clickhouse_parquet",
        "clickhouse_spans_path": str(demo_build.data_dir / "clickhouse" / "*.parquet"),
    }
    with pytest.raises(AssertionError) as stale:
        run_dbt(
            ["source", "freshness"],
            duckdb_path=tmp_path / "feature_cost.duckdb",
            vars=stale_vars,
            target_dir=tmp_path,
        )
    assert "ERROR STALE freshness of otel.clickhouse_spans" in str(stale.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_publish_leaves_a_readable_file_and_takes_its_dbt_along(
    first_publish: FirstPublish, tmp_path: Path
) -> None:
    published = restore_first_publish(first_publish)
    build = build_path(published)
    dbt_dir = dbt_dir_of(first_publish, tmp_path / "killed-run")
    publisher = start_publish(
        first_publish,
        dbt_dir,
        slow=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        dbt_pid = wait_for(lambda: dbt_children(publisher.pid), "dbt under the publish")[0]
        wait_for(
            lambda: wal_path(build).exists() or publisher.poll() is not None,
            "dbt writing into the build file",
        )
        assert publisher.poll() is None, "the publish ended before it could be killed"
        os.kill(publisher.pid, signal.SIGKILL)  # the publish process only, not its group
        publisher.wait()
    finally:
        if publisher.poll() is None:
            publisher.kill()
            publisher.wait()

    wait_for(lambda: not alive(dbt_pid), "the killed publish's dbt to end")
    # It ended without finishing: dbt writes run_results.json at the end of a run.
    assert not (dbt_dir / "target" / "run_results.json").exists()
    assert wal_path(build).exists(), "the build file should hold the killed build's log"

    assert readable(published) is None
    assert same_rows(mart_rows(published), first_publish.marts)

    # What a publish killed while staging leaves behind (its pid is gone).
    stem, suffix = published.stem, published.suffix
    for name in (
        f".{stem}.20260101T000000-{publisher.pid}.building{suffix}",
        f".{stem}.20260101T000000-{publisher.pid}.building{suffix}.wal",
    ):
        (published.parent / name).write_bytes(b"left by a killed publish")

    again = publish_again_and_read(first_publish, tmp_path / "again")
    assert "left by an interrupted run" in again.stdout
    assert leftovers(published) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_is_forwarded_to_dbt(first_publish: FirstPublish, tmp_path: Path) -> None:
    """A scheduler stops a run: dbt stops too, the exit code says so, nothing is published."""
    published = restore_first_publish(first_publish)
    before = published.stat().st_mtime_ns
    publisher = start_publish(
        first_publish,
        dbt_dir_of(first_publish, tmp_path / "stopped-run"),
        slow=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        dbt_pid = wait_for(lambda: dbt_children(publisher.pid), "dbt under the publish")[0]
        wait_for(
            lambda: wal_path(build_path(published)).exists() or publisher.poll() is not None,
            "dbt writing into the build file",
        )
        os.kill(publisher.pid, signal.SIGTERM)
        _, stderr = publisher.communicate(timeout=600)
    finally:
        if publisher.poll() is None:
            publisher.kill()
            publisher.wait()
    assert publisher.returncode == EXIT_INTERRUPTED_BASE + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr
    assert not alive(dbt_pid)
    # dbt, interrupted, writes run_results.json for the nodes it finished when the signal
    # came during its run (not during its parse): whether the file exists depends on when
    # the signal lands, so the test asserts what must hold either way.
    assert published.stat().st_mtime_ns == before
    assert leftovers(published) == []


def test_killed_dbt_run_on_the_published_file_then_publish(
    first_publish: FirstPublish, tmp_path: Path
) -> None:
    """Someone runs dbt on the published file itself and kills it: its log stays beside it."""
    published = restore_first_publish(first_publish)
    env = {
        **publish_env(tmp_path / "in-place"),
        "FEATURE_COST_DUCKDB": str(published),
    }
    slow = {**first_publish.dbt_vars, "slow": True}
    in_place = subprocess.Popen(
        [dbt_executable(), "run", "--vars", json.dumps(slow)],
        cwd=first_publish.project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: wal_path(published).exists() or in_place.poll() is not None,
            "dbt writing into the published file",
        )
        assert in_place.poll() is None, "dbt ended before it could be killed"
        os.kill(in_place.pid, signal.SIGKILL)
        in_place.wait()
    finally:
        if in_place.poll() is None:
            in_place.kill()
            in_place.wait()
    assert wal_path(published).exists()

    publish_again_and_read(first_publish, tmp_path / "publish")


def test_a_log_of_another_file_beside_the_published_one_is_replaced(
    first_publish: FirstPublish, tmp_path: Path
) -> None:
    published = restore_first_publish(first_publish)
    other = tmp_path / "other.duckdb"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(other)], check=True)
    shutil.copyfile(wal_path(other), wal_path(published))
    problem = readable(published)
    assert problem is not None and "WAL" in problem  # no reader can open it now

    publish_again_and_read(first_publish, tmp_path / "publish")


def test_publish_refuses_a_file_another_process_writes(tmp_path: Path) -> None:
    published = tmp_path / "published" / "feature_cost.duckdb"
    published.parent.mkdir()
    with duckdb.connect(str(published)) as con:
        con.execute("create schema feature_cost_marts")
        con.execute("create table feature_cost_marts.feature_cost_margin as select 42 as kept")
    writer = talking_process(WRITER, published)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "holding"
        refused = run_publish(published, {}, "--no-freshness")
    finally:
        writer.kill()
        writer.wait()
    assert refused.returncode == EXIT_HELD_FOR_WRITING, refused.stdout + refused.stderr
    assert "open for writing in another process" in refused.stderr
    assert "$ " not in refused.stdout, "dbt should not have run"
    assert not build_path(published).exists()
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select kept from feature_cost_marts.feature_cost_margin"
        ).fetchall() == [(42,)]


def test_publishes_of_one_path_run_one_after_the_other(
    first_publish: FirstPublish, tmp_path: Path
) -> None:
    """Two publishes start while a third party holds the lock: both wait, then both publish
    (they share one build file: overlapping dbt runs would fail on DuckDB's own lock); one
    that may wait only half a second gives up with exit 5."""
    published = restore_first_publish(first_publish)
    # The two runs wait for the lock and then run one after the other: one dbt directory.
    dbt_dir = dbt_dir_of(first_publish, tmp_path / "runs")
    lock = published.with_name(f".{published.name}.lock")
    runs: list[subprocess.Popen[str]] = []
    try:
        with lock.open("a+") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            for _ in range(2):
                runs.append(
                    start_publish(
                        first_publish,
                        dbt_dir,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
            for run in runs:
                assert run.stdout is not None
                assert "waiting for another publish" in run.stdout.readline()
            impatient = run_publish(
                published,
                first_publish.dbt_vars,
                "--no-freshness",
                "--lock-timeout",
                "0.5",
                dbt_dir=tmp_path / "impatient",
                project=first_publish.project,
            )
            assert impatient.returncode == EXIT_LOCK_TIMEOUT, impatient.stderr
            assert "nothing was done" in impatient.stderr
        outputs = [run.communicate(timeout=600)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == EXIT_PUBLISHED, output[-3000:]
    assert readable(published) is None
    assert same_rows(mart_rows(published), first_publish.marts)


def _run_results(dbt_dir: Path) -> dict:
    return json.loads((dbt_dir / "target" / "run_results.json").read_text())


def _requests_on(path: Path, day: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        (count,) = con.execute(
            "select coalesce(sum(request_count), 0) from feature_cost_marts.feature_cost_margin"
            " where date_day = cast(? as date)",
            [day],
        ).fetchone()
    return int(count)


def test_publish_is_incremental_and_full_refresh_rebuilds(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """The project itself, published twice with one dbt directory, as on a schedule, onto a
    build file that holds the session demo's days (as an earlier full build leaves it): with
    no new data and the first day's file gone from the glob, the incremental publish gives
    the same marts (decoded history lives in the build file); ``--full-refresh`` rebuilds
    from the files the glob matches now, so that day is gone."""
    published = tmp_path / "published" / "feature_cost.duckdb"
    published.parent.mkdir()
    shutil.copyfile(demo_build.duckdb_path, build_path(published))
    marts = mart_rows(build_path(published))
    first_day = DEMO_CONFIG.start_date.isoformat()
    assert _requests_on(build_path(published), first_day) > 0
    # The Collector rotated the first day's file away: the glob matches the later days only.
    otlp = demo_build.data_dir / "otlp"
    assert sorted(path.name for path in otlp.glob("*")) == [
        "traces-2026-01-05.jsonl",
        "traces-2026-01-06.jsonl",
        "traces-2026-01-07.jsonl",
    ]
    dbt_vars = {**demo_build.vars, "otlp_path": str(otlp / "traces-2026-01-0[67].jsonl")}

    dbt_dir = tmp_path / "dbt"
    incremental = run_publish(published, dbt_vars, "--no-freshness", dbt_dir=dbt_dir)
    assert incremental.returncode == EXIT_PUBLISHED, incremental.stdout[-3000:]
    assert "incremental build" in incremental.stdout
    assert _run_results(dbt_dir)["args"].get("full_refresh") in (None, False)
    assert same_rows(mart_rows(published), marts)

    full = run_publish(published, dbt_vars, "--no-freshness", "--full-refresh", dbt_dir=dbt_dir)
    assert full.returncode == EXIT_PUBLISHED, full.stdout[-3000:] + full.stderr
    assert _run_results(dbt_dir)["args"]["full_refresh"] is True
    assert _requests_on(published, first_day) == 0
    assert not same_rows(mart_rows(published), marts)
