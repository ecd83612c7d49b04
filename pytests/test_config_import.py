"""The method's cost-attribution-config.yaml imports into the seeds, validated first."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from feature_cost.cli import main
from feature_cost.formatting import price_text

TEMPLATE = Path(__file__).parent / "fixtures" / "cost-attribution-config.yaml"

RATE_CARDS_EXISTING = (
    "rate_card_id,cloud_region,instance_family,effective_from,effective_to,cpu_per_ms,"
    "memory_per_ms,gpu_per_ms,db_query_base,currency\n"
    "standard,*,*,2025-01-01,,0.00003,0.000008,0.0001,0.000004,USD\n"
)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _seeds(tmp_path: Path, with_standard: bool = True) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    if with_standard:
        (seeds / "rate_cards.csv").write_text(RATE_CARDS_EXISTING, encoding="utf-8")
    return seeds


def test_the_template_imports_as_written(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    seeds = _seeds(tmp_path)
    args = ["import-config", str(TEMPLATE), "--seeds-dir", str(seeds)]
    code, out, err = _run([*args, "--keep-existing-rate-cards"], capsys)
    assert code == 0, err
    assert "wrote" in out
    assert (seeds / "feature_taxonomy.csv").read_text(encoding="utf-8") == (
        "feature_id,feature_group,feature_name,rate_card_id,allocation_strategy,"
        "requires_feature_flag,feature_flag_key\n"
        "real-time-dashboard,analytics,real-time-dashboard,gpu_enabled,gpu_minutes,true,\n"
        "checkout-v2,commerce,checkout-v2,high_compute,proportional_queries,false,\n"
        "guest-checkout,commerce,guest-checkout,standard,proportional_duration,false,\n"
    )
    assert (seeds / "rate_cards.csv").read_text(encoding="utf-8") == (
        "rate_card_id,cloud_region,instance_family,effective_from,effective_to,cpu_per_ms,"
        "memory_per_ms,gpu_per_ms,db_query_base,currency\n"
        "gpu_enabled,*,*,2000-01-01,,0.00002,0.000015,0.00012,0,USD\n"
        "high_compute,*,*,2000-01-01,,0.000045,0.000012,0,0.000005,USD\n"
        "standard,*,*,2025-01-01,,0.00003,0.000008,0.0001,0.000004,USD\n"
    )
    assert (seeds / "shared_resources.csv").read_text(encoding="utf-8") == (
        "resource_id,resource_type,allocation_key,cloud_region,match_service_name,"
        "match_server_address\n"
        "prod-postgres-01,database,query_count,*,,prod-postgres-01\n"
        "prod-redis-01,cache,memory_usage,*,,prod-redis-01\n"
    )


def test_a_rate_card_the_file_does_not_define_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    seeds = _seeds(tmp_path, with_standard=False)
    code, _, err = _run(["import-config", str(TEMPLATE), "--seeds-dir", str(seeds)], capsys)
    assert code == 2
    assert "feature 'guest-checkout' names rate card 'standard'" in err
    assert not list(seeds.iterdir()), "nothing is written when a check fails"


def test_check_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    seeds = _seeds(tmp_path)
    before = (seeds / "rate_cards.csv").read_text(encoding="utf-8")
    code, out, _ = _run(
        [
            "import-config",
            str(TEMPLATE),
            "--seeds-dir",
            str(seeds),
            "--check",
            "--keep-existing-rate-cards",
        ],
        capsys,
    )
    assert code == 0
    assert "would write" in out
    assert (seeds / "rate_cards.csv").read_text(encoding="utf-8") == before
    assert not (seeds / "feature_taxonomy.csv").exists()


BAD = """
version: "1.0"
feature_taxonomy:
  groups:
    - id: commerce
      features:
        - {id: checkout, rate_card: fast, allocation_strategy: proportional_queries}
        - {id: checkout, rate_card: fast}
        - {rate_card: fast}
    - id: commerce
      features:
        - {id: search, rate_card: missing, allocation_strategy: by_vibes}
rate_cards:
  fast:
    rates:
      - {effective_from: 2026-01-01, effective_to: 2026-03-01, cpu_per_ms: 0.1}
      - {effective_from: 2026-02-01, cpu_per_ms: -0.2, cpu_per_mss: 1}
      - {region: eu-west-1, effective_from: 2026-05-01, effective_to: 2026-04-01, currency: EUR}
shared_resources:
  database: {cluster_id: pg, allocation_key: query_count}
  replica: {cluster_id: pg, allocation_key: queries}
"""


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(BAD, encoding="utf-8")
    seeds = _seeds(tmp_path, with_standard=False)
    code, _, err = _run(["import-config", str(config), "--seeds-dir", str(seeds)], capsys)
    assert code == 2
    expected = [
        "feature 'checkout' is defined twice",
        "group 'commerce': a feature has no id",
        "group 'commerce' is defined twice",
        "feature 'search' names rate card 'missing'",
        "unknown allocation_strategy 'by_vibes'",
        "cpu_per_ms is negative (-0.2)",
        "unknown key 'cpu_per_mss'",
        "periods from 2026-01-01 and 2026-02-01 overlap",
        "effective_to 2026-04-01 is not after effective_from 2026-05-01",
        "more than one currency: EUR, USD",
        "shared resource 'pg' is defined twice",
        "unknown allocation_key 'queries'",
    ]
    for message in expected:
        assert message in err, message
    assert all(line.startswith(str(config)) for line in err.strip().splitlines())
    assert not list(seeds.iterdir())


def test_the_long_form_gives_one_row_per_period(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    config = tmp_path / "periods.yaml"
    config.write_text(
        'version: "1.0"\n'
        "rate_cards:\n"
        "  standard:\n"
        "    rates:\n"
        "      - {region: us-east-1, effective_from: 2025-01-01, effective_to: 2026-01-08,"
        " cpu_per_ms: 0.00003}\n"
        "      - {region: us-east-1, effective_from: 2026-01-08, cpu_per_ms: 0.000027}\n",
        encoding="utf-8",
    )
    seeds = _seeds(tmp_path, with_standard=False)
    code, _, err = _run(["import-config", str(config), "--seeds-dir", str(seeds)], capsys)
    assert code == 0, err
    lines = (seeds / "rate_cards.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == [
        "standard,us-east-1,*,2025-01-01,2026-01-08,0.00003,0,0,0,USD",
        "standard,us-east-1,*,2026-01-08,,0.000027,0,0,0,USD",
    ]
    assert not (seeds / "feature_taxonomy.csv").exists(), "absent sections leave seeds alone"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'version: "1.0"\nrate_cards:\n  fast: {cpu_per_ms: [\n',
            "not valid YAML at line",
            id="yaml-errors-name-the-line",
        ),
        pytest.param(
            'version: "2.0"\n', "version '2.0' is not supported", id="unsupported-version"
        ),
    ],
)
def test_a_file_it_cannot_read_is_refused(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    code, _, err = _run(["import-config", str(config), "--seeds-dir", str(tmp_path)], capsys)
    assert code == 2
    assert message in err


def test_a_card_the_seeds_already_have_is_kept_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The template names `standard` without defining it: the current seed's `standard` rows
    are kept and a warning says so; a card nothing names any more is dropped."""
    seeds = _seeds(tmp_path)
    with (seeds / "rate_cards.csv").open("a", encoding="utf-8") as handle:
        handle.write("legacy,*,*,2025-01-01,,0.1,0.1,0,0,USD\n")
    code, out, err = _run(["import-config", str(TEMPLATE), "--seeds-dir", str(seeds)], capsys)
    assert code == 0, err
    assert "warning: rate card 'standard' is not defined in the file" in out
    cards = (seeds / "rate_cards.csv").read_text(encoding="utf-8")
    assert "standard,*,*,2025-01-01,,0.00003,0.000008,0.0001,0.000004,USD" in cards
    assert "legacy" not in cards


def test_an_import_that_leaves_other_seeds_dangling_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Other seeds that name a feature or pool the import removes: every row is listed, with
    --check too, and nothing is written."""
    seeds = _seeds(tmp_path)
    (seeds / "feature_build_costs.csv").write_text(
        "feature_id,build_cost,launch_date,useful_life_months,currency\n"
        "checkout-v2,3600,2025-06-01,24,USD\n"
        "search,1000,2025-06-01,24,USD\n",
        encoding="utf-8",
    )
    (seeds / "shared_resource_costs.csv").write_text(
        "resource_id,period_start,period_end,cost,currency\n"
        "prod-postgres-01,2026-01-05,2026-01-12,35.00,USD\n"
        "old-kafka,2026-01-05,2026-01-12,5.00,USD\n",
        encoding="utf-8",
    )
    (seeds / "billing_mappings.csv").write_text(
        "match_on,tag_key,match_value,target_type,target_id\n"
        "tag,cost-pool,old-kafka,shared_resource,old-kafka\n"
        "tag,feature,search,feature,search\n",
        encoding="utf-8",
    )
    before = {p.name: p.read_text(encoding="utf-8") for p in seeds.iterdir()}
    for extra in ([], ["--check"]):
        args = ["import-config", str(TEMPLATE), "--seeds-dir", str(seeds), *extra]
        code, _, err = _run(args, capsys)
        assert code == 2
        assert "feature_build_costs.csv line 3 names feature 'search'" in err
        assert "shared_resource_costs.csv line 3 names shared resource 'old-kafka'" in err
        assert "billing_mappings.csv line 2 names shared resource 'old-kafka'" in err
        assert len(err.strip().splitlines()) == 3, err
    assert {p.name: p.read_text(encoding="utf-8") for p in seeds.iterdir()} == before


def test_feature_names_come_from_the_current_taxonomy_when_the_file_has_none(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    seeds = _seeds(tmp_path)
    (seeds / "feature_taxonomy.csv").write_text(
        "feature_id,feature_group,feature_name,rate_card_id,allocation_strategy,"
        "requires_feature_flag,feature_flag_key\n"
        "checkout-v2,commerce,Checkout v2,standard,proportional_queries,false,\n",
        encoding="utf-8",
    )
    code, _, err = _run(["import-config", str(TEMPLATE), "--seeds-dir", str(seeds)], capsys)
    assert code == 0, err
    taxonomy = (seeds / "feature_taxonomy.csv").read_text(encoding="utf-8")
    assert "checkout-v2,commerce,Checkout v2,high_compute" in taxonomy
    assert "guest-checkout,commerce,guest-checkout,standard" in taxonomy


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00000002, "0.00000002"),  # a per-ms price: never rounded to 0
        (1.1244e-08, "0.000000011244"),
        (0.000075, "0.000075"),
        (3600.0, "3600"),
        (0.1, "0.1"),
        (0.0, "0"),
    ],
)
def test_prices_are_written_in_plain_decimals_to_the_last_digit(value: float, text: str) -> None:
    assert price_text(value) == text


def test_a_kept_card_keeps_its_placeholder_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Seeds `feature-cost init` wrote mark list prices in price_basis: a `standard` row the
    import keeps stays marked, the file's own rows are not placeholders."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "rate_cards.csv").write_text(
        RATE_CARDS_EXISTING.splitlines()[0]
        + ",price_basis\n"
        + "".join(
            f"{line},placeholder: list price\n" for line in RATE_CARDS_EXISTING.splitlines()[1:]
        ),
        encoding="utf-8",
    )
    code, _, err = _run(["import-config", str(TEMPLATE), "--seeds-dir", str(seeds)], capsys)
    assert code == 0, err
    with (seeds / "rate_cards.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    marks = {row["rate_card_id"]: row["price_basis"] for row in rows}
    assert marks.pop("standard") == "placeholder: list price"
    assert marks and set(marks.values()) == {""}
