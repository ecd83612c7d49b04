"""The command line: options every command shares, exit codes of usage errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest

from conftest import PROJECT_ROOT, invoke_dbt
from feature_cost import seeds_dir
from feature_cost.cli import cli, main
from feature_cost.publish import EXIT_USAGE, PUBLISHED_DEFAULT

READERS = [
    ["summary"],
    ["check"],
    ["report"],
    ["alerts"],
    ["suggest-rates"],
    ["rate-card-impact", "proposed.csv"],
]


def duckdb_of(argv: list[str]) -> Path:
    """The ``--duckdb`` a command line resolves to, as the command would receive it."""
    name, *rest = argv
    command = cli.commands[name]
    with command.make_context(name, rest) as context:
        return context.params["duckdb"]


@pytest.mark.parametrize("argv", READERS, ids=lambda argv: argv[0])
def test_every_command_reads_the_file_dbt_builds(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without --duckdb a command reads FEATURE_COST_DUCKDB, as dbt and make do."""
    built = tmp_path / "elsewhere.duckdb"
    monkeypatch.setenv("FEATURE_COST_DUCKDB", str(built))
    assert duckdb_of(argv) == built
    assert duckdb_of([*argv, "--duckdb", "x.duckdb"]) == Path("x.duckdb")
    monkeypatch.setenv("FEATURE_COST_DUCKDB", "")
    assert duckdb_of(argv) == Path("data/feature_cost.duckdb")
    monkeypatch.delenv("FEATURE_COST_DUCKDB")
    assert duckdb_of(argv) == Path("data/feature_cost.duckdb")


def test_publish_writes_the_published_file_never_the_build_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """publish replaces the file BI tools read: FEATURE_COST_PUBLISHED, not the dbt file."""
    monkeypatch.setenv("FEATURE_COST_DUCKDB", str(tmp_path / "built.duckdb"))
    monkeypatch.delenv("FEATURE_COST_PUBLISHED", raising=False)
    assert duckdb_of(["publish"]) == Path(PUBLISHED_DEFAULT)
    monkeypatch.setenv("FEATURE_COST_PUBLISHED", str(tmp_path / "bi.duckdb"))
    assert duckdb_of(["publish"]) == tmp_path / "bi.duckdb"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.commands:
        assert name in out, name
    assert len(cli.commands) == 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-command"], "No such command"),
        (["summary", "--top", "many"], "'many' is not a valid integer"),
        (["generate", "--start-date", "05/01/2026"], "is not a day written YYYY-MM-DD"),
        (["init"], "name the traces: --otlp-path GLOB"),
        (["init", "--otlp-path", "x", "--vars", "[1]"], "'--vars': must be a YAML mapping"),
        (["init", "--otlp-path", "x", "--vars", "{a:"], "'--vars': not YAML: expected"),
        (["rate-card-impact"], "Missing argument 'PROPOSED'"),
    ],
)
def test_usage_errors_exit_2_and_say_what_is_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == click.UsageError.exit_code
    assert message in capsys.readouterr().err


def test_a_backfill_needs_both_ends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "--event-time-start", "2026-01-06"]) == EXIT_USAGE
    assert "go together" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "No such option '--bogus'"),
        (["--lock-timeout", "abc"], "'abc' is not a valid float"),
        (["--vars", "[1]"], "'--vars': must be a YAML mapping"),
    ],
)
def test_publish_usage_errors_exit_3_not_the_stale_code(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scheduler reads publish's 2 as stale telemetry: bad arguments are 3, before any run."""
    assert main(["publish", *argv]) == EXIT_USAGE == 3
    assert message in capsys.readouterr().err


def test_the_marts_schema_of_the_environment_is_the_one_dbt_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt puts the marts where FEATURE_COST_MARTS_SCHEMA says, as the commands read them."""
    monkeypatch.setenv("FEATURE_COST_MARTS_SCHEMA", "bi_marts")
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    listed = invoke_dbt(
        [
            *("ls", "--resource-type", "model", "--output", "json"),
            *("--select", "feature_cost_margin span_accounting", "--output-keys", "name schema"),
            *("--project-dir", str(PROJECT_ROOT), "--target-path", str(tmp_path / "target")),
            *("--log-path", str(tmp_path / "logs"), "--quiet", "--no-write-json"),
        ]
    )
    schemas = {row["name"]: row["schema"] for row in map(json.loads, listed.stdout.splitlines())}
    assert schemas == {"feature_cost_margin": "bi_marts", "span_accounting": "bi_marts"}


def test_the_seed_folder_is_the_one_the_makefile_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FEATURE_COST_SEEDS, else the demo's once `make data` wrote it, else seeds/."""
    monkeypatch.delenv("FEATURE_COST_SEEDS", raising=False)
    assert seeds_dir(tmp_path) == tmp_path / "seeds"
    (tmp_path / "data" / "demo" / "seeds").mkdir(parents=True)
    (tmp_path / "data" / "demo" / "seeds" / "rate_cards.csv").write_text("x\n", encoding="utf-8")
    assert seeds_dir(tmp_path) == tmp_path / "data" / "demo" / "seeds"
    monkeypatch.setenv("FEATURE_COST_SEEDS", "my_costs/seeds")
    assert seeds_dir(tmp_path) == tmp_path / "my_costs" / "seeds"
    command = cli.commands["suggest-rates"]
    with command.make_context("suggest-rates", []) as context:
        assert context.params["seeds_dir"] == Path("my_costs/seeds")


def make_dry_run(target: str, env: dict[str, str]) -> str:
    """The commands `make -n TARGET` would run with these environment variables."""
    shown = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_make_demo_builds_the_demo_whatever_the_shell_names_for_your_traces() -> None:
    yours = {"FEATURE_COST_SEEDS": "my_costs/seeds", "FEATURE_COST_DUCKDB": "my_costs/x.duckdb"}
    demo = make_dry_run("demo", yours)
    assert (
        "FEATURE_COST_SEEDS=data/demo/seeds .venv/bin/dbt build --fail-fast --full-refresh" in demo
    )
    assert "summary --duckdb data/feature_cost.duckdb" in demo
    assert "my_costs" not in demo
    # Named on make's command line too: the demo never builds into your file.
    shown = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo", *(f"{k}={v}" for k, v in yours.items())],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "summary --duckdb data/feature_cost.duckdb" in shown.stdout
    assert "FEATURE_COST_SEEDS=data/demo/seeds " in shown.stdout
    build = make_dry_run("build", yours)
    assert "FEATURE_COST_SEEDS=my_costs/seeds .venv/bin/dbt build --fail-fast" in build
    assert "--full-refresh" not in build
