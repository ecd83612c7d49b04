"""Build into a fresh DuckDB file and publish it atomically, for scheduled runs.

DuckDB lets one process write a database file or many read it, never both: a BI tool that
holds the published file open would block a build that writes into it, and a build that
fails half-way would leave readers with half-written marts. So a scheduled run never writes
the file readers use. It builds a new file beside it and, only when `dbt build` succeeded,
renames it over the published path in one atomic step (POSIX `rename`). Readers that have
the old file open keep reading the old, complete data; the next connection sees the new.

Exit codes, for schedulers: 0 published; 1 the build failed (the published file is
untouched); 2 telemetry is stale (`dbt source freshness` reported an error; nothing built);
3 the command was misused (a bad path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_PUBLISHED = 0
EXIT_BUILD_FAILED = 1
EXIT_STALE = 2
EXIT_USAGE = 3


@dataclass(frozen=True)
class PublishResult:
    """What a scheduled run did."""

    exit_code: int
    published: Path | None
    message: str


def dbt_executable() -> str:
    """The dbt next to this Python (the project's virtualenv), else dbt on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed in this environment")
    return found


def staging_path(published: Path, stamp: str) -> Path:
    """Where a run builds before publishing: beside the published file, same filesystem."""
    return published.with_name(f".{published.stem}.{stamp}.building{published.suffix}")


def _run(args: Sequence[str], env: dict[str, str], project_dir: Path) -> int:
    print("$ " + " ".join(args), flush=True)
    return subprocess.run(args, cwd=project_dir, env=env, check=False).returncode


def _discard(building: Path) -> None:
    """Remove a staging file (and its write-ahead log) that will not be published."""
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    """Fold any write-ahead log into the file, so the one file is the whole database."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after a checkpoint; not publishing")


def publish(
    published: Path,
    project_dir: Path,
    dbt_args: Sequence[str] = (),
    check_freshness: bool = True,
) -> PublishResult:
    """Build the project into a new file and atomically replace ``published`` with it."""
    published = published.resolve()
    if published.is_dir():
        return PublishResult(EXIT_USAGE, None, f"{published} is a directory, not a DuckDB file")
    published.parent.mkdir(parents=True, exist_ok=True)
    building = staging_path(published, time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(project_dir)),
        "FEATURE_COST_DUCKDB": str(building),
    }
    dbt = dbt_executable()
    if check_freshness:
        # Freshness reads only the raw sources, never the published file.
        code = _run([dbt, "source", "freshness", *dbt_args], env, project_dir)
        if code != 0:
            _discard(building)
            return PublishResult(
                EXIT_STALE, None, "telemetry is stale or unreadable: nothing was built"
            )
    code = _run([dbt, "build", *dbt_args], env, project_dir)
    if code != 0:
        _discard(building)
        return PublishResult(
            EXIT_BUILD_FAILED, None, f"dbt build failed; {published} was left as it was"
        )
    _checkpoint(building)
    os.replace(building, published)
    return PublishResult(EXIT_PUBLISHED, published, f"published {published}")


def main_publish(
    published: Path, project_dir: Path, dbt_args: Sequence[str], freshness: bool
) -> int:
    """CLI entry: run, print the outcome, return the exit code."""
    result = publish(published, project_dir, dbt_args, freshness)
    stream = sys.stdout if result.exit_code == EXIT_PUBLISHED else sys.stderr
    print(f"feature-cost publish: {result.message}", file=stream)
    return result.exit_code
