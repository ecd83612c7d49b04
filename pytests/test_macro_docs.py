"""The macros' YAML (macros/_macros.yml, tests/generic/_generic_tests.yml) documents every
macro and generic test of the project as it is written: each one has an entry, and each
entry lists the macro's arguments by name, in order, with types dbt accepts.

dbt's own check (the `validate_macro_args` flag) cannot be turned on here: it does not read
the arguments of generic tests (`{% test %}` blocks) and so rejects any that are documented.
Adapter implementations (`default__x`, `duckdb__x`, `bigquery__x`) are documented by the
macro that dispatches to them.
"""

from __future__ import annotations

from functools import cache

import jinja2
import pytest
import yaml
from dbt.parser.schemas import is_valid_type
from dbt_common.clients import jinja

from conftest import PROJECT_ROOT

MACRO_FOLDERS = ["macros", "tests/generic"]
BLOCK_PREFIX = "dbt_macro__"


@cache
def signatures() -> dict[str, list[str]]:
    """Each macro's and generic test's (``test_<name>``) argument names, by macro name."""
    found: dict[str, list[str]] = {}
    for folder in MACRO_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.sql")):
            blocks = jinja.extract_toplevel_blocks(
                path.read_text(encoding="utf-8"),
                allowed_blocks={"macro", "test"},
                collect_raw_data=False,
            )
            for block in blocks:
                for macro in jinja.parse(block.full_block).find_all(jinja2.nodes.Macro):
                    name = macro.name.removeprefix(BLOCK_PREFIX)
                    if "__" not in name:  # not an adapter's implementation
                        found[name] = [argument.name for argument in macro.args]
    return found


@cache
def documented() -> dict[str, list[dict[str, str]]]:
    """Each documented macro's argument entries, by macro name."""
    entries: dict[str, list[dict[str, str]]] = {}
    for folder in MACRO_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.yml")):
            for macro in yaml.safe_load(path.read_text(encoding="utf-8")).get("macros", []):
                assert macro["name"] not in entries, f"{macro['name']} documented twice"
                entries[macro["name"]] = macro.get("arguments", [])
    return entries


def test_every_macro_is_documented_and_nothing_else() -> None:
    macros, docs = signatures(), documented()
    assert sorted(set(macros) - set(docs)) == [], "macros without an entry in the YAML"
    assert sorted(set(docs) - set(macros)) == [], "YAML entries for macros that do not exist"


@pytest.mark.parametrize("name", sorted(documented()))
def test_documented_arguments_are_the_macros(name: str) -> None:
    arguments = documented()[name]
    assert [argument["name"] for argument in arguments] == signatures()[name]
    for argument in arguments:
        assert is_valid_type(argument.get("type", "any")), f"{argument['name']}: type"
        assert argument.get("description"), f"{argument['name']}: no description"


def test_the_signature_reader_sees_generic_tests() -> None:
    """The reader under the tests above: a `{% test %}` block is the macro dbt makes of it."""
    assert signatures()["test_unique_combination_of_columns"] == [
        "model",
        "combination_of_columns",
    ]
    assert "default__exact_sum" not in signatures()
