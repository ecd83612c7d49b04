"""Shared fixtures: run dbt in a subprocess against a throw-away DuckDB file.

``run_dbt`` is a plain function so any test module can import it (``from conftest import
run_dbt``) or use the session fixture of the same purpose, ``dbt_runner``. ``demo_build``
generates a small deterministic demo data set and builds the whole project on it once per
session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = PROJECT_ROOT / "seeds"
TAIL_LINES = 60

# The demo generator lives in src/; make it importable when the package is not installed.
if str(PROJECT_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "src"))

from feature_cost.demo import DemoConfig, GeneratedDemo, generate  # noqa: E402

DEMO_CONFIG = DemoConfig(seed=11, days=3, requests_per_day=200, start_date=date(2026, 1, 5))

DbtRunner = Callable[..., subprocess.CompletedProcess[str]]


def dbt_executable() -> str:
    """The project's ``.venv/bin/dbt`` if present, else ``dbt`` from ``PATH``."""
    local = PROJECT_ROOT / ".venv" / "bin" / "dbt"
    if local.exists():
        return str(local)
    found = shutil.which("dbt")
    if found is None:
        raise RuntimeError("dbt is not installed: neither .venv/bin/dbt nor dbt on PATH")
    return found


def run_dbt(
    args: Sequence[str],
    *,
    duckdb_path: Path | str,
    vars: Mapping[str, Any],
    target_dir: Path | str,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
    project_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command in a subprocess and return it; raise AssertionError if it fails.

    Args:
        args: the dbt command and its own arguments, e.g. ``["build", "--fail-fast"]``.
        duckdb_path: the DuckDB file to build into (``FEATURE_COST_DUCKDB``).
        vars: dbt vars, passed as JSON with ``--vars``.
        target_dir: a scratch directory; dbt writes ``target/`` and ``logs/`` under it, so
            runs never touch the project's own ``target/`` or each other's.
        extra_env: further environment variables for the subprocess.
        timeout: seconds before the run is killed.
        project_dir: the dbt project to run (default: this one), e.g. a copy with edited seeds.

    The working directory is the project and ``DBT_PROFILES_DIR`` points at it; the
    ``dev`` (DuckDB) target is forced. On a non-zero exit the AssertionError carries the
    command and the last lines of dbt's output.
    """
    target = Path(target_dir)
    command = [
        dbt_executable(),
        *args,
        "--vars",
        json.dumps(dict(vars)),
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target / "logs"),
    ]
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project_dir or PROJECT_ROOT),
        "FEATURE_COST_DUCKDB": str(duckdb_path),
        "FEATURE_COST_TARGET": "dev",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        **(extra_env or {}),
    }
    completed = subprocess.run(
        command,
        cwd=project_dir or PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-TAIL_LINES:])
        stderr = "\n".join(completed.stderr.splitlines()[-20:])
        raise AssertionError(
            f"dbt exited with {completed.returncode}: {' '.join(command)}\n"
            f"--- last {TAIL_LINES} lines of stdout ---\n{tail}\n--- stderr ---\n{stderr}"
        )
    return completed


def dbt_vars_for(data_dir: Path) -> dict[str, str]:
    """The dbt vars that point the project at a directory laid out like the demo's output.

    Every input var is set, so nothing falls back to the project's own ``data/demo``: the
    FOCUS bill (``focus_billing_path``) is ``billing/*.csv`` when the directory has one, else
    the empty string, which the project reads as "no bill".
    """
    billing = data_dir / "billing"
    has_bill = billing.is_dir() and any(billing.glob("*.csv"))
    return {
        "otlp_path": str(data_dir / "otlp" / "*.jsonl*"),
        "revenue_path": str(data_dir / "revenue" / "*.csv"),
        "feature_flags_path": str(data_dir / "feature_flags" / "*.csv"),
        "focus_billing_path": str(billing / "*.csv") if has_bill else "",
    }


@dataclass(frozen=True)
class DemoBuild:
    """A generated demo data set and the DuckDB file dbt built from it."""

    data_dir: Path
    duckdb_path: Path
    demo: GeneratedDemo
    vars: dict[str, str]


@pytest.fixture(scope="session")
def dbt_runner() -> DbtRunner:
    """``run_dbt`` as a fixture, for tests that prefer injection to imports."""
    return run_dbt


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """Generate a 3-day, 200-requests-a-day demo (seed 11) and ``dbt build`` it once."""
    root = tmp_path_factory.mktemp("demo_build")
    data_dir = root / "data"
    demo = generate(DEMO_CONFIG, data_dir)
    duckdb_path = root / "feature_cost.duckdb"
    dbt_vars = dbt_vars_for(data_dir)
    run_dbt(["build"], duckdb_path=duckdb_path, vars=dbt_vars, target_dir=root)
    return DemoBuild(data_dir=data_dir, duckdb_path=duckdb_path, demo=demo, vars=dbt_vars)
