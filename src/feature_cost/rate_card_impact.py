"""Show what a rate-card change would do before it is applied.

The proposed `rate_cards.csv` is built with the project's own models, never a copy of their
logic: the project is copied to a scratch folder with the proposed seed in place, the current
DuckDB file is copied beside it, `dbt build --select rate_cards+` rebuilds everything the
rate cards feed (the seed-validation tests run too, so an invalid proposal is rejected with
the test that names the problem), and the mart is compared with the current one per day and
feature. The published file is only read.

Exit codes: 0 the impact was shown; 1 the proposal does not build or fails a test; 3 bad
arguments (a missing file).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from feature_cost import MARTS_SCHEMA, seeds_dir
from feature_cost.publish import dbt_executable

# The project as dbt reads it; the seeds the build reads (seeds_dir) are copied to seeds/.
PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")

_IMPACT_SQL = f"""
with
current_costs as (
    select date_day, feature_id, sum(total_cost) as total_cost
    from current_db.{MARTS_SCHEMA}.feature_cost_margin
    group by date_day, feature_id
),
proposed_costs as (
    select date_day, feature_id, sum(total_cost) as total_cost
    from proposed_db.{MARTS_SCHEMA}.feature_cost_margin
    group by date_day, feature_id
)
select
    coalesce(c.date_day, p.date_day) as date_day,
    coalesce(c.feature_id, p.feature_id) as feature_id,
    coalesce(c.total_cost, 0) as current_cost,
    coalesce(p.total_cost, 0) as proposed_cost
from current_costs as c
full outer join proposed_costs as p
    on c.date_day = p.date_day and c.feature_id = p.feature_id
order by 1, 2
"""


@dataclass(frozen=True)
class FeatureDayImpact:
    """The cost of one feature on one day, now and under the proposal."""

    date_day: str
    feature_id: str
    current_cost: float
    proposed_cost: float

    @property
    def change(self) -> float:
        return self.proposed_cost - self.current_cost

    @property
    def change_pct(self) -> float | None:
        return None if self.current_cost == 0 else 100.0 * self.change / self.current_cost


def changed_rows(
    current: Path, proposed: Path
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows of the proposed rate card that are new, and current rows it no longer has."""

    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    now, then = rows(current), rows(proposed)
    key = lambda row: tuple(sorted(row.items()))  # noqa: E731
    current_keys = {key(r) for r in now}
    proposed_keys = {key(r) for r in then}
    added = [r for r in then if key(r) not in current_keys]
    removed = [r for r in now if key(r) not in proposed_keys]
    return added, removed


def impacts(current_db: Path, proposed_db: Path, tolerance: float = 1e-9) -> list[FeatureDayImpact]:
    """Feature-days whose total cost differs between the two builds."""
    with duckdb.connect() as con:
        con.execute(f"attach '{current_db}' as current_db (read_only)")
        con.execute(f"attach '{proposed_db}' as proposed_db (read_only)")
        found = [
            FeatureDayImpact(str(d), f, c, p) for d, f, c, p in con.execute(_IMPACT_SQL).fetchall()
        ]
    return [i for i in found if abs(i.change) > tolerance * max(abs(i.current_cost), 1.0)]


def _copy_project(project_dir: Path, scratch: Path, proposed: Path) -> Path:
    copy = scratch / "project"
    copy.mkdir()
    for part in PROJECT_PARTS:
        source = project_dir / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        elif source.exists():
            shutil.copy2(source, copy / part)
    shutil.copytree(seeds_dir(project_dir), copy / "seeds")
    shutil.copy2(proposed, copy / "seeds" / "rate_cards.csv")
    return copy


def run(proposed: Path, current_db: Path, project_dir: Path, dbt_args: Sequence[str] = ()) -> int:
    """Build the proposal, print its impact per day and feature; return an exit code."""
    for path, what in ((proposed, "proposed rate card"), (current_db, "current DuckDB file")):
        if not path.is_file():
            print(f"feature-cost rate-card-impact: no {what} at {path}", file=sys.stderr)
            return 3
    added, removed = changed_rows(seeds_dir(project_dir) / "rate_cards.csv", proposed)
    print(f"rate-card rows added: {len(added)}, removed or changed: {len(removed)}")
    for label, rows in (("+", added), ("-", removed)):
        for row in rows:
            print(f"  {label} " + ",".join(row.values()))
    with tempfile.TemporaryDirectory(prefix="rate-card-impact-") as scratch_name:
        scratch = Path(scratch_name)
        copy = _copy_project(project_dir, scratch, proposed)
        proposed_db = scratch / "proposed.duckdb"
        shutil.copy2(current_db, proposed_db)
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(copy),
            "FEATURE_COST_DUCKDB": str(proposed_db),
            "FEATURE_COST_SEEDS": "seeds",
        }
        command = [
            dbt_executable(),
            "build",
            "--select",
            "rate_cards+",
            "--project-dir",
            str(copy),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
            *dbt_args,
        ]
        built = subprocess.run(
            command, cwd=project_dir, env=env, capture_output=True, text=True, check=False
        )
        if built.returncode != 0:
            print(built.stdout[-4000:], file=sys.stderr)
            print(
                "feature-cost rate-card-impact: the proposed rate card does not build or"
                " fails a test (see above); nothing was changed",
                file=sys.stderr,
            )
            return 1
        changes = impacts(current_db, proposed_db)
    _print_impacts(changes)
    return 0


def _print_impacts(changes: list[FeatureDayImpact]) -> None:
    if not changes:
        print("no day or feature changes cost under the proposed rate card")
        return
    days = sorted({c.date_day for c in changes})
    features = sorted({c.feature_id for c in changes})
    print(
        f"{len(changes)} feature-days change: {len(days)} days ({days[0]} to {days[-1]}),"
        f" {len(features)} features ({', '.join(features)})"
    )
    print(f"{'day':<12}{'feature':<24}{'current':>12}{'proposed':>12}{'change':>12}{'%':>8}")
    for c in changes:
        pct = "-" if c.change_pct is None else f"{c.change_pct:+.1f}"
        print(
            f"{c.date_day:<12}{c.feature_id:<24}{c.current_cost:>12.4g}{c.proposed_cost:>12.4g}"
            f"{c.change:>+12.4g}{pct:>8}"
        )
    total = sum(c.change for c in changes)
    print(f"total change: {total:+.4g}")
