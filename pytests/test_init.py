"""``feature-cost init`` on traces the project has never seen, then a build with no hand edits.

The traces are the generator's, renamed the way another team's would differ: GCP regions
(``us-east1``, ``europe-west1``), other features, an LLM model named with its version suffix
(``gpt-4o-2024-08-06``) and one no price list knows (``acme-llm-7b``); gzip-compressed, as a
Collector rotates them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import PROJECT_ROOT, read_csv, run_dbt
from feature_cost import MARTS_SCHEMA
from feature_cost.cli import main
from feature_cost.demo import DemoConfig, generate
from feature_cost.starter import PLACEHOLDER, list_price, unmatched_local_glob

RENAMES = {
    "us-east-1": "us-east1",
    "eu-west-1": "europe-west1",
    "gpt-4o-mini": "gpt-4o-2024-08-06",
    "gpt-4.1": "acme-llm-7b",
    "checkout-v2": "cart-checkout",
    "smart-summary": "ai-digest",
}
DEMO_ONLY = ("prod-postgres-01", "gpu-pool-use1", "high_compute", "payments", "tenant-acme,2")


@pytest.fixture(scope="module")
def unseen_traces(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two days ending yesterday, renamed and gzipped; the glob that reads them."""
    root = tmp_path_factory.mktemp("unseen")
    start = datetime.now(UTC).date() - timedelta(days=2)
    generate(DemoConfig(seed=5, days=2, requests_per_day=60, start_date=start), root / "demo")
    traces = root / "traces"
    traces.mkdir()
    for path in sorted((root / "demo" / "otlp").glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        for old, new in RENAMES.items():
            text = text.replace(old, new)
        (traces / (path.name + ".gz")).write_bytes(gzip.compress(text.encode("utf-8")))
    return str(traces / "*.jsonl*")


def init_folder() -> Path:
    """A new folder for init inside the project (where dbt reads seeds)."""
    return PROJECT_ROOT / "data" / f"pytest-init-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def out() -> Iterator[Path]:
    """A folder of init's inside the project, removed afterwards."""
    folder = init_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Initialised:
    """What init wrote for the unseen traces, and what it said."""

    out: Path
    said: str


@pytest.fixture(scope="module")
def initialised(unseen_traces: str) -> Iterator[Initialised]:
    """``feature-cost init`` run once on the unseen traces, from the project folder."""
    folder = init_folder()
    said = io.StringIO()
    here = Path.cwd()
    os.chdir(PROJECT_ROOT)
    try:
        with redirect_stdout(said):
            code = main(["init", "--otlp-path", unseen_traces, "--out", str(folder)])
    finally:
        os.chdir(here)
    try:
        assert code == 0, said.getvalue()
        yield Initialised(folder, said.getvalue())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_init_then_build_passes_unedited_with_no_demo_data(
    initialised: Initialised,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    out, said = initialised.out, initialised.said
    assert "no list price for `acme-llm-7b`" in said
    relative_seeds = out.relative_to(PROJECT_ROOT) / "seeds"
    assert f"FEATURE_COST_SEEDS={relative_seeds} " in said

    seeds = out / "seeds"
    assert {r["cloud_region"] for r in read_csv(seeds / "rate_cards.csv")} == {
        "us-east1",
        "europe-west1",
    }
    taxonomy = {
        r["feature_id"]: r["feature_group"] for r in read_csv(seeds / "feature_taxonomy.csv")
    }
    assert taxonomy == {
        "advanced-reports": "analytics",
        "ai-digest": "ai",
        "cart-checkout": "commerce",
        "guest-checkout": "commerce",
        "real-time-dashboard": "analytics",
    }
    prices = {r["model"]: r for r in read_csv(seeds / "llm_model_prices.csv")}
    assert set(prices) == {"gpt-4o-2024-08-06", "acme-llm-7b"}
    assert float(prices["gpt-4o-2024-08-06"]["input_per_1k_tokens"]) == list_price("gpt-4o")[0]
    assert float(prices["acme-llm-7b"]["input_per_1k_tokens"]) == 0
    for row in [*read_csv(seeds / "rate_cards.csv"), *prices.values()]:
        assert row["price_basis"].startswith(PLACEHOLDER)
    for empty in ("shared_resources", "shared_resource_costs", "team_costs", "cost_budgets"):
        assert read_csv(seeds / f"{empty}.csv") == [], empty
    written = "".join(p.read_text(encoding="utf-8") for p in seeds.glob("*.csv"))
    assert not [name for name in DEMO_ONLY if name in written]

    # The build the command printed: its seeds, its vars, a file of its own; every data test.
    duckdb_path = out / "feature_cost.duckdb"
    dbt_vars = yaml.safe_load((out / "vars.yml").read_text(encoding="utf-8"))
    written = {path.name: path.read_bytes() for path in seeds.glob("*.csv")}
    run_dbt(
        ["build"],
        duckdb_path=duckdb_path,
        vars=dbt_vars,
        target_dir=tmp_path,
        seeds_dir=relative_seeds,
    )
    # dbt loaded the seeds and left the files as they were.
    assert {path.name: path.read_bytes() for path in seeds.glob("*.csv")} == written
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        features = {
            f
            for (f,) in con.execute(
                f"select distinct feature_id from {MARTS_SCHEMA}.feature_cost_margin"
            ).fetchall()
        }
        revenue = con.execute(
            f"select sum(revenue) from {MARTS_SCHEMA}.feature_cost_margin"
        ).fetchone()
    assert set(taxonomy) <= features
    assert not features & {"checkout-v2", "smart-summary"}
    assert revenue == (0,) or revenue == (None,)

    assert main(["summary", "--duckdb", str(duckdb_path)]) == 0
    summary = capsys.readouterr().out
    assert (
        "placeholder prices in rate_cards (2): standard europe-west1, standard us-east1" in summary
    )
    assert "placeholder prices in llm_model_prices (2): acme-llm-7b, gpt-4o-2024-08-06" in summary


def test_init_writes_nothing_until_the_traces_were_read_and_keeps_what_it_wrote(
    unseen_traces: str,
    initialised: Initialised,
    out: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    missing = str(out.parent / "nowhere" / "*.jsonl")
    assert main(["init", "--otlp-path", missing, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"the otlp_path glob {missing} matches no file" in err
    assert "nothing was written" in err
    assert not out.exists()

    # What init wrote for these traces (its scan ran once, for the module), then edited.
    shutil.copytree(initialised.out, out, ignore=shutil.ignore_patterns("*.duckdb*"))
    (out / "seeds" / "rate_cards.csv").write_text("edited\n", encoding="utf-8")
    (out / "revenue" / "revenue.csv").write_text("your revenue\n", encoding="utf-8")
    assert main(["init", "--otlp-path", unseen_traces, "--out", str(out)]) == 2
    assert "already has seeds" in capsys.readouterr().err
    assert (out / "seeds" / "rate_cards.csv").read_text(encoding="utf-8") == "edited\n"
    # --force with spans dbt cannot read replaces nothing; with spans it reads, only seeds.
    unreadable = {"span_source": "clickhouse_parquet", "clickhouse_spans_path": missing}
    forced = ["init", "--vars", json.dumps(unreadable), "--out", str(out), "--force"]
    assert main(forced) == 1
    err = capsys.readouterr().err
    assert "the traces could not be read" in err and "nothing was written" in err
    assert (out / "seeds" / "rate_cards.csv").read_text(encoding="utf-8") == "edited\n"
    assert main(["init", "--otlp-path", unseen_traces, "--out", str(out), "--force"]) == 0
    assert (out / "seeds" / "rate_cards.csv").read_text(encoding="utf-8").startswith("rate_card_id")
    assert (out / "revenue" / "revenue.csv").read_text(encoding="utf-8") == "your revenue\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "/tmp/feature-cost-init-elsewhere"], "is not inside the project folder"),
        (["--out", "seeds"], "in or around the demo's"),
        (["--out", "."], "in or around the demo's"),
        (["--out", "data/demo/mine"], "which make clean removes"),
        (["--vars", "{currency: EUR}"], "placeholder prices are USD list prices"),
    ],
)
def test_init_refuses_a_folder_dbt_cannot_read_or_the_demo_uses(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    before = {path.name: path.read_bytes() for path in (PROJECT_ROOT / "seeds").glob("*.csv")}
    assert main(["init", "--otlp-path", "unused/*.jsonl", *argv]) == 2
    assert message in capsys.readouterr().err
    after = {path.name: path.read_bytes() for path in (PROJECT_ROOT / "seeds").glob("*.csv")}
    assert after == before


def test_a_seed_folder_outside_the_project_stops_dbt_before_it_writes_over_the_csvs(
    tmp_path: Path,
) -> None:
    """dbt writes a seed's SQL to target/run/ joined with the seed's path: for an absolute
    folder, the CSV itself. The project refuses such a folder before anything runs."""
    seeds = tmp_path / "seeds"
    shutil.copytree(PROJECT_ROOT / "seeds", seeds)
    before = {path.name: path.read_bytes() for path in seeds.glob("*.csv")}
    with pytest.raises(AssertionError, match="is not a folder inside the project"):
        run_dbt(
            ["seed"],
            duckdb_path=tmp_path / "x.duckdb",
            vars={},
            target_dir=tmp_path,
            seeds_dir=seeds,
        )
    assert {path.name: path.read_bytes() for path in seeds.glob("*.csv")} == before


def test_list_prices_match_a_model_by_its_longest_known_name() -> None:
    assert list_price("gpt-4o-mini-2024-07-18") == list_price("gpt-4o-mini")
    assert list_price("gpt-4o-2024-08-06") == list_price("gpt-4o")
    assert list_price("gpt-4o-mini") != list_price("gpt-4o")
    assert list_price("gpt-4omega") is None
    assert list_price("acme-llm-7b") is None


def test_the_glob_is_checked_as_duckdb_reads_it_and_where_the_scan_reads_it(
    tmp_path: Path,
) -> None:
    """Hidden files and literal brackets match as DuckDB globs them; an ``otlp_path`` in
    ``--vars`` is the one read; spans read from elsewhere leave the glob to dbt."""
    (tmp_path / ".hidden.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "br[1].jsonl").write_text("{}\n", encoding="utf-8")
    assert unmatched_local_glob({"otlp_path": str(tmp_path / "*.jsonl")}) is None
    assert unmatched_local_glob({"otlp_path": str(tmp_path / "br[1].jsonl")}) is None
    nowhere = str(tmp_path / "nowhere" / "*.jsonl")
    assert unmatched_local_glob({"otlp_path": nowhere}) == nowhere
    assert unmatched_local_glob({"otlp_path": nowhere, "span_source": "clickhouse_table"}) is None
    assert unmatched_local_glob({"otlp_path": "s3://bucket/otel/*.jsonl"}) is None
    assert unmatched_local_glob({}) is None
