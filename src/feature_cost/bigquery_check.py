"""Prove the BigQuery path offline: compile every model for BigQuery and check it as GoogleSQL.

No credentials and no network: dbt compiles against the `bigquery` target with a throwaway
service-account key (a fresh RSA key for a project that does not exist) and
`--no-populate-cache --no-introspect`, so it never calls Google. Each compiled model is then
parsed by two independent GoogleSQL front ends: sqlglot's BigQuery dialect and sqlfluff's
BigQuery parser (the stricter of the two: it rejects DuckDB-only syntax such as `::` casts).
Neither resolves names or types; that needs BigQuery itself (see the README).

Exit code 0 when every model compiles and parses, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from feature_cost.publish import dbt_executable

OFFLINE_PROJECT = "offline-project"


@dataclass(frozen=True)
class ModelCheck:
    """The verdict on one compiled model."""

    name: str
    sqlglot_error: str | None
    sqlfluff_error: str | None

    @property
    def ok(self) -> bool:
        return self.sqlglot_error is None and self.sqlfluff_error is None


def throwaway_key(path: Path) -> Path:
    """Write a service-account key with a fresh RSA key; it opens no door anywhere."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "project_id": OFFLINE_PROJECT,
        "private_key_id": "0",
        "private_key": pem,
        "client_email": f"offline@{OFFLINE_PROJECT}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(account), encoding="utf-8")
    return path


def compile_for_bigquery(project_dir: Path, work: Path) -> tuple[int, str, Path]:
    """dbt compile for the bigquery target, offline; returns (exit code, output, target dir)."""
    keyfile = throwaway_key(work / "offline-key.json")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project_dir),
        "FEATURE_COST_TARGET": "bigquery",
        "FEATURE_COST_BQ_METHOD": "service-account",
        "FEATURE_COST_BQ_KEYFILE": str(keyfile),
        "FEATURE_COST_BQ_PROJECT": OFFLINE_PROJECT,
    }
    target = work / "target"
    command = [
        dbt_executable(),
        "compile",
        "--no-populate-cache",
        "--no-introspect",
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps({"span_source": "clickhouse_table"}),
        "--exclude",
        "resource_type:unit_test",
    ]
    done = subprocess.run(
        command,
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, target


def compiled_models(target: Path) -> dict[str, str]:
    """Compiled SQL of every enabled model, by name, from the manifest."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node.get("config", {}).get("enabled", True):
            continue
        path = target / "compiled" / node["package_name"] / node["original_file_path"]
        if path.exists():
            models[node["name"]] = path.read_text(encoding="utf-8")
    return models


def sqlglot_error(sql: str) -> str | None:
    """None when sqlglot parses the SQL as BigQuery; else the first line of the error."""
    import sqlglot

    try:
        sqlglot.parse_one(sql, read="bigquery")
    except Exception as error:  # sqlglot raises several error types
        return str(error).splitlines()[0][:200]
    return None


def sqlfluff_error(sql: str) -> str | None:
    """None when sqlfluff's BigQuery grammar parses every part of the SQL."""
    from sqlfluff.core import FluffConfig, Linter

    config = FluffConfig(overrides={"dialect": "bigquery", "templater": "raw"})
    parsed = Linter(config=config).parse_string(sql)
    unparsable = [v for v in parsed.violations if "unparsable" in str(v.desc()).lower()]
    if parsed.violations and not unparsable:
        unparsable = parsed.violations
    if not unparsable:
        tree = parsed.tree
        if tree is not None and "unparsable" in tree.type_set():
            return "sqlfluff found an unparsable section"
        return None
    first = unparsable[0]
    return f"line {getattr(first, 'line_no', '?')}: {first.desc()}"[:200]


def check(project_dir: Path) -> tuple[int, list[ModelCheck], str]:
    """Compile and check; returns (models compiled count, verdicts, dbt output on failure)."""
    with tempfile.TemporaryDirectory(prefix="bigquery-check-") as name:
        work = Path(name)
        code, output, target = compile_for_bigquery(project_dir, work)
        if code != 0:
            return 0, [], output
        models = compiled_models(target)
    verdicts = [
        ModelCheck(model, sqlglot_error(sql), sqlfluff_error(sql))
        for model, sql in sorted(models.items())
    ]
    return len(models), verdicts, ""


def main(project_dir: Path) -> int:
    """CLI entry: print a table and a summary line; exit 1 when anything fails."""
    compiled, verdicts, output = check(project_dir)
    if not compiled:
        print(output[-4000:], file=sys.stderr)
        print("bigquery check: the project does not compile for BigQuery", file=sys.stderr)
        return 1
    width = max(len(v.name) for v in verdicts)
    print(f"{'model':<{width}}  sqlglot  sqlfluff")
    for v in verdicts:
        print(
            f"{v.name:<{width}}  {'ok' if v.sqlglot_error is None else 'FAIL':<7}  "
            f"{'ok' if v.sqlfluff_error is None else 'FAIL'}"
        )
        for error in (v.sqlglot_error, v.sqlfluff_error):
            if error:
                print(f"    {error}")
    failed = sum(not v.ok for v in verdicts)
    print(
        f"bigquery check: {compiled} models compiled, {compiled - failed} parsed as GoogleSQL"
        f" by sqlglot and sqlfluff, {failed} failed"
    )
    return 1 if failed else 0
