"""Build incrementally into a working copy and publish a copy of it atomically, for schedules.

DuckDB lets one process write a database file or many read it, never both: a BI tool that
holds the published file open would block a build that writes into it, and a build that
fails half-way would leave readers with half-written marts. So a scheduled run never writes
the file readers use. Beside the published file ``<dir>/<stem><suffix>`` it keeps:

- the build file ``<dir>/.<stem>.build<suffix>``: a working copy that only publish writes and
  no reader opens. ``dbt build`` runs on it incrementally (OTLP files already decoded are not
  read again, the span models rebuild only the latest days), so decoded history outlives the
  rotation of the Collector's files and an old day keeps the price it was built with until a
  backfill (``--event-time-start``/``--event-time-end``) re-prices it. A missing build file,
  or ``--full-refresh``, means a full rebuild from the files the globs match now;
- staging files ``<dir>/.<stem>.<stamp>.building<suffix>``: when ``dbt build`` succeeded the
  build file is checkpointed and closed (no write-ahead log left), copied to a staging file,
  the copy is opened read-only to check it reads ``feature_cost_margin``, and it is renamed
  over the published path in one atomic step (POSIX ``rename``). A stale
  ``<published>.wal`` (left by a writer killed on the published file) is removed first, so
  the new file is never paired with another file's log;
- the lock file ``<dir>/.<name>.lock``: runs for the same published path take an exclusive
  ``flock`` on it, so they run one after the other (a second run waits, or gives up after
  ``lock_timeout`` seconds). The kernel drops the lock when its holder dies, so a killed run
  never blocks the next one, and staging files found while holding it are leftovers of a
  killed run: they are removed at the start of every run.

Readers that have the old file open keep reading the old, complete data. A process that opens
the published path after the rename reads the new file; a process that still holds a
connection does not (DuckDB keeps one database instance per path in a process) until every
connection it has to that path is closed.

dbt runs as a child process that dies with this one (Linux: ``PR_SET_PDEATHSIG``), in its own
process group; SIGTERM and SIGINT are forwarded to it. ``dbt source freshness`` runs on an
in-memory database: it reads only the raw sources and opens no file.

Exit codes, for schedulers: 0 published; 1 the build failed or its copy did not read back (the
published file is untouched, the build file is as dbt left it: the next run retries,
``--full-refresh`` rebuilds it from scratch); 2 telemetry is stale (``dbt source freshness``
reported an error; nothing built); 3 the command was misused (a bad path); 4 another process
holds the published file open for writing (nothing published; readers are fine); 5 another
publish of the same path held the lock longer than ``lock_timeout``; 128 + the signal number
(130, 143) when interrupted by SIGINT or SIGTERM (the published file is untouched).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from feature_cost import MARTS_SCHEMA, seeds_folder

PUBLISHED_DEFAULT = "data/published/feature_cost.duckdb"

EXIT_PUBLISHED = 0
EXIT_BUILD_FAILED = 1
EXIT_STALE = 2
EXIT_USAGE = 3
EXIT_HELD_FOR_WRITING = 4
EXIT_LOCK_TIMEOUT = 5
EXIT_INTERRUPTED_BASE = 128  # + the signal number

_FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1
_LOCK_POLL_SECONDS = 0.2
_MARTS_CHECK = f"select count(*) from {MARTS_SCHEMA}.feature_cost_margin"
# How DuckDB says another process holds a file's lock (not "block", as in a damaged file).
_LOCK_ERRORS = ("could not set lock", "conflicting lock")


@dataclass(frozen=True)
class PublishResult:
    """What a scheduled run did."""

    exit_code: int
    published: Path | None
    message: str


@dataclass(frozen=True)
class PublishFiles:
    """The files a published path owns: the build file, staging files, the lock file."""

    published: Path

    @property
    def build(self) -> Path:
        """The working copy ``dbt build`` writes incrementally; never opened by readers."""
        return build_path(self.published)

    @property
    def lock(self) -> Path:
        return self.published.with_name(f".{self.published.name}.lock")

    def staging(self, stamp: str) -> Path:
        return staging_path(self.published, stamp)

    def leftover_staging(self) -> list[Path]:
        """Staging files (and their logs) of this path, of any run."""
        stem, suffix = self.published.stem, self.published.suffix
        found = [
            *self.published.parent.glob(f".{stem}.*.building{suffix}"),
            *self.published.parent.glob(f".{stem}.*.building{suffix}.wal"),
        ]
        return sorted(found)


def dbt_executable() -> str:
    """The dbt next to this Python (the project's virtualenv), else dbt on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed in this environment")
    return found


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def build_path(published: Path) -> Path:
    """The persistent build file beside the published one (hidden, same filesystem)."""
    return published.with_name(f".{published.stem}.build{published.suffix}")


def staging_path(published: Path, stamp: str) -> Path:
    """Where a run stages its copy before publishing: beside the published file."""
    return published.with_name(f".{published.stem}.{stamp}.building{published.suffix}")


def _discard(path: Path) -> None:
    """Remove a database file and its write-ahead log."""
    for leftover in (path, wal_path(path)):
        leftover.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checkpoint(path: Path) -> None:
    """Fold any write-ahead log into the file and close it: the one file is the database."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
    if wal_path(path).exists():
        raise RuntimeError(f"{wal_path(path)} is still there after a checkpoint")


def _readable_marts(path: Path) -> str | None:
    """None when a reader can open ``path`` read-only and read the public mart; else why not."""
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute(_MARTS_CHECK).fetchone()
    except duckdb.Error as error:
        return str(error)
    return None


def _stage(build: Path, staging: Path) -> str | None:
    """Checkpoint and close the build file, copy it to ``staging`` and read the copy back.

    None when the copy is ready to publish (one file, no log, the mart reads); else why not.
    """
    import duckdb

    try:
        _checkpoint(build)
        shutil.copyfile(build, staging)
        _fsync(staging)
    except (duckdb.Error, OSError, RuntimeError) as error:
        return str(error)
    problem = _readable_marts(staging)
    if problem is None and wal_path(staging).exists():
        problem = f"{wal_path(staging)} appeared after reading the copy"
    return problem


def held_for_writing(path: Path) -> str | None:
    """DuckDB's message when another process holds ``path`` open for writing, else None.

    Asked the way a BI reader would: open it read-only. That succeeds beside other readers
    and fails with a lock error only while a writer holds the file. Any other failure (no
    file, a damaged file or a log that does not belong to it) is not a writer: the file is
    about to be replaced.
    """
    if not path.exists():
        return None
    import duckdb

    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as error:
        text = str(error)
        if any(sign in text.lower() for sign in _LOCK_ERRORS):
            return text
    return None


def _prctl() -> Callable[..., int] | None:
    """libc's prctl on Linux, loaded before any fork (nothing is loaded in the child)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


class _Run:
    """One publish: the lock, the child dbt process and the signals forwarded to it."""

    def __init__(self, project_dir: Path, env: dict[str, str]) -> None:
        self.project_dir = project_dir
        self.env = env
        self.child: subprocess.Popen[bytes] | None = None
        self.interrupted: int | None = None
        self._previous: dict[int, object] = {}
        self._prctl = _prctl()

    # -- signals -----------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.interrupted = signum
        child = self.child
        if child is not None and child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signum)

    def install_signal_handlers(self) -> None:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for signum in _FORWARDED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    # -- the child ---------------------------------------------------------------------------
    def _child_setup(self, parent_pid: int) -> Callable[[], None]:
        prctl = self._prctl

        def setup() -> None:
            # Runs in the child between fork and exec: its own process group (a terminal's
            # Ctrl-C reaches it once, through this process), and death with its parent.
            os.setpgid(0, 0)
            if prctl is not None:
                prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(EXIT_BUILD_FAILED)

        return setup

    def run(self, args: Sequence[str], lock_fd: int, duckdb_path: str) -> int:
        """Run one dbt command on the DuckDB file ``duckdb_path``; its exit code."""
        if self.interrupted is not None:
            return EXIT_INTERRUPTED_BASE + self.interrupted
        print("$ " + " ".join(args), flush=True)
        # The child shares the lock: if it outlived this process (no death signal on this
        # platform), the next run still waits for it instead of writing the same build file.
        self.child = subprocess.Popen(
            list(args),
            cwd=self.project_dir,
            env={**self.env, "FEATURE_COST_DUCKDB": duckdb_path},
            pass_fds=(lock_fd,),
            preexec_fn=self._child_setup(os.getpid()),
        )
        # A signal that came while the child was being started found no child to forward
        # to: forward it now (twice, if it came just after the assignment, does no harm).
        if self.interrupted is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child.pid, self.interrupted)
        try:
            return self.child.wait()
        finally:
            self.child = None

    # -- the lock ----------------------------------------------------------------------------
    def acquire(self, lock: Path, timeout: float | None) -> int | None:
        """An fd holding the exclusive lock, or None on timeout or interruption."""
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                pass
            if self.interrupted is not None or (
                deadline is not None and time.monotonic() >= deadline
            ):
                os.close(fd)
                return None
            if not announced:
                print(f"waiting for another publish of this path (lock {lock})", flush=True)
                announced = True
            time.sleep(_LOCK_POLL_SECONDS)


def publish(
    published: Path,
    project_dir: Path,
    dbt_args: Sequence[str] = (),
    check_freshness: bool = True,
    *,
    full_refresh: bool = False,
    build_args: Sequence[str] = (),
    lock_timeout: float | None = None,
) -> PublishResult:
    """Build the project incrementally into the build file and publish a copy of it.

    ``dbt_args`` go to every dbt command (vars, target); ``build_args`` to ``dbt build`` only
    (e.g. a backfill's ``--event-time-start``/``--event-time-end``).
    """
    published = published.resolve()
    if published.is_dir():
        return PublishResult(EXIT_USAGE, None, f"{published} is a directory, not a DuckDB file")
    try:
        published.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return PublishResult(EXIT_USAGE, None, f"cannot create {published.parent}: {error}")
    files = PublishFiles(published)
    run = _Run(
        project_dir,
        {
            **os.environ,
            "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(project_dir)),
            # The seeds `make build` reads (the demo's once `make data` wrote them).
            "FEATURE_COST_SEEDS": seeds_folder(project_dir),
        },
    )
    run.install_signal_handlers()
    try:
        lock_fd = run.acquire(files.lock, lock_timeout)
        if lock_fd is None:
            if run.interrupted is not None:
                return _interrupted(run.interrupted, published)
            return PublishResult(
                EXIT_LOCK_TIMEOUT,
                None,
                f"another publish of {published} held {files.lock} for over {lock_timeout:g} s;"
                " nothing was done",
            )
        try:
            return _publish_locked(
                files, run, lock_fd, dbt_args, check_freshness, full_refresh, build_args
            )
        finally:
            os.close(lock_fd)
    finally:
        run.restore_signal_handlers()


def _interrupted(signum: int, published: Path) -> PublishResult:
    name = signal.Signals(signum).name
    return PublishResult(
        EXIT_INTERRUPTED_BASE + signum, None, f"interrupted by {name}; {published} left as it was"
    )


def _held_result(published: Path, reason: str) -> PublishResult:
    return PublishResult(
        EXIT_HELD_FOR_WRITING,
        None,
        f"{published} is open for writing in another process; not publishing over it"
        f" (readers are fine; close the writer and run again). DuckDB: {reason}",
    )


def _publish_locked(
    files: PublishFiles,
    run: _Run,
    lock_fd: int,
    dbt_args: Sequence[str],
    check_freshness: bool,
    full_refresh: bool,
    build_args: Sequence[str],
) -> PublishResult:
    published = files.published
    # Holding the lock, no other run of this path is alive: its staging files are leftovers.
    for leftover in files.leftover_staging():
        print(f"removing {leftover.name}, left by an interrupted run", flush=True)
        leftover.unlink(missing_ok=True)
    reason = held_for_writing(published)
    if reason is not None:
        return _held_result(published, reason)

    dbt = dbt_executable()
    rebuild = full_refresh or not files.build.exists()
    if rebuild:
        # Before anything opens it: a full refresh recovers from any state of the build file.
        _discard(files.build)
    if check_freshness:
        # Freshness reads only the raw sources: an in-memory database, no file is opened.
        code = run.run([dbt, "source", "freshness", *dbt_args], lock_fd, ":memory:")
        if run.interrupted is not None:
            return _interrupted(run.interrupted, published)
        if code != 0:
            return PublishResult(
                EXIT_STALE, None, "telemetry is stale or unreadable: nothing was built"
            )

    # dbt's unit tests check the SQL against fixed rows, not the data: they belong to
    # development and CI (`make test`), and a scheduled run leaves them out, as dbt advises.
    build_command = [dbt, "build", "--exclude-resource-type", "unit_test", *dbt_args, *build_args]
    if rebuild:
        print(f"full rebuild into {files.build}", flush=True)
        build_command.append("--full-refresh")
    else:
        print(f"incremental build into {files.build}", flush=True)
    code = run.run(build_command, lock_fd, str(files.build))
    if run.interrupted is not None:
        return _interrupted(run.interrupted, published)
    if code != 0:
        return PublishResult(
            EXIT_BUILD_FAILED,
            None,
            f"dbt build failed; {published} was left as it was (the next run retries;"
            " --full-refresh rebuilds from scratch)",
        )

    staging = files.staging(time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}")
    try:
        problem = _stage(files.build, staging)
        if problem is not None:
            return PublishResult(
                EXIT_BUILD_FAILED,
                None,
                f"the built file does not read back ({problem}); {published} was left as it was",
            )
        if run.interrupted is not None:
            return _interrupted(run.interrupted, published)
        # Again, just before the rename: the build may have taken a while.
        reason = held_for_writing(published)
        if reason is not None:
            return _held_result(published, reason)
        # No writer holds the published file, so a log beside it belongs to a killed writer
        # and to the old file: it goes first, or the new file would be paired with it.
        wal_path(published).unlink(missing_ok=True)
        os.replace(staging, published)
        _fsync(published.parent)
    finally:
        _discard(staging)
    return PublishResult(EXIT_PUBLISHED, published, f"published {published}")


def main_publish(
    published: Path,
    project_dir: Path,
    dbt_args: Sequence[str],
    freshness: bool,
    *,
    full_refresh: bool = False,
    build_args: Sequence[str] = (),
    lock_timeout: float | None = None,
) -> int:
    """CLI entry: run, print the outcome, return the exit code."""
    result = publish(
        published,
        project_dir,
        dbt_args,
        freshness,
        full_refresh=full_refresh,
        build_args=build_args,
        lock_timeout=lock_timeout,
    )
    stream = sys.stdout if result.exit_code == EXIT_PUBLISHED else sys.stderr
    print(f"feature-cost publish: {result.message}", file=stream)
    return result.exit_code
