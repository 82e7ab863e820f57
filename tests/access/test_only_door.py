"""The gateway is structurally the only door to person rows (issue 15).

* The warehouse refuses `table()` for every person-bearing table and says where to go.
* The catalog of person-bearing tables matches the live schema: every column of a
  declared table is classified (masked by a field group, or open), and every live table
  that holds person-level columns is declared — so a new table or column cannot slip
  past the gateway unclassified.
* No module reads a person-bearing table except the gateway and the system jobs listed
  below (imports, matching, election loads: they work on every row, for no user). The
  scan reads every module's source: SQL text naming a person table, and calls of
  `table()` / `unscoped_table()` with one. Selectors, views, the API and the CLI's
  read commands are never on the list.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from unionhall.errors import PersonTableRefused
from unionhall.warehouse import Warehouse
from unionhall.warehouse.catalog import GROUPS, person_tables

SRC = Path(__file__).resolve().parents[2] / "src" / "unionhall"

# Modules that may read person-bearing tables directly, and why. Nothing here reads
# on behalf of a user.
SYSTEM_MODULES = {
    "access/gateway.py": "the gateway itself",
    "access/schema.py": "migration: the membership bits column",
    "warehouse/migrations.py": "migrations create the person table",
    "elections/schema.py": "migrations",
    "ingest/schema.py": "migrations",
    "identity/schema.py": "migrations",
    "field/schema.py": "migrations",
    "field/facts.py": "the targeting attributes kept by every voter, history, absentee and identity load",
    "field/store.py": "writes list snapshots, turf membership and contact history (read through the gateway)",
    "analytics/experiments_store.py": "writes experiment assignments; numbers the households of persons read through the gateway (never their address)",
    "field/results_import.py": "the vendor result import job: resolves ids over every person, writes quarantine",
    "analytics/polls.py": "the poll import writes its quarantine; the poll page reads it (raw text for the uploader)",
    "ingest/services.py": "the member import job writes member records and quarantine",
    "elections/voterfile.py": "the voter-file import job",
    "elections/vendor.py": "the other-states / vendor voter-file import job",
    "elections/history.py": "the vote-history import job",
    "elections/absentee.py": "the daily absentee import job",
    "elections/polling.py": "the polling-place import job (checks precincts against voters)",
    "elections/people.py": "persons from voter registrations (part of the voter import job)",
    "elections/loads.py": "the election-load log: writes quarantine and flags",
    "elections/tasks.py": "an import job's log lists its first quarantined rows (row, column, reason)",
    "identity/services.py": "the matching job",
    "identity/prepare.py": "the matching job's input",
    "identity/evaluate.py": "accuracy against the synthetic ground truth (benchmarks, tests)",
    "identity/export.py": "`unionhall identity export`: the operator's command on the warehouse host",
    "exports/schema.py": "migrations",
    "analytics/schema.py": "migrations",
    "analytics/store.py": "the model and imputation jobs write scores and imputed values",
    "exports/store.py": "the export job: a seed must be nobody's; writes the export's keys; the trace's counts",
    "demo.py": "`unionhall demo` sets up committees from the loaded state",
}
PERSON_NAMES = sorted(person_tables(), key=len, reverse=True)
SQL_NAMING = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|USING)\s+(" + "|".join(PERSON_NAMES) + r")\b", re.I)
# Columns that make a table person-level wherever they appear.
PERSON_COLUMNS = {"person_id", "ncid", "member_key", "record_key", "first_name", "last_name", "raw", "key_l",
                  "old_person_id"}


def _reads(path: Path) -> set[str]:
    """Person tables a module's source reads: in SQL text, or through table calls."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {m.group(1).lower() for m in SQL_NAMING.finditer(node.value)}
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("table", "unscoped_table") and node.args
              and isinstance(node.args[0], ast.Constant) and node.args[0].value in PERSON_NAMES):
            found.add(str(node.args[0].value))
    return found


def test_no_module_outside_the_gateway_and_system_jobs_reads_person_tables() -> None:
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        reads = _reads(path)
        if reads and rel not in SYSTEM_MODULES:
            offenders[rel] = sorted(reads)
    assert not offenders, f"read person rows through unionhall.access.gateway instead: {offenders}"


def test_user_facing_modules_are_never_system_modules() -> None:
    for rel in SYSTEM_MODULES:
        assert not rel.endswith(("selectors.py", "views.py", "cli.py")) and not rel.startswith("api/"), rel
        assert (SRC / rel).is_file(), f"{rel} is gone: drop it from the list"


def test_the_scan_finds_a_read(tmp_path: Path) -> None:
    """The scanner itself catches each way of reading (so the test above can fail)."""
    module = tmp_path / "m.py"
    module.write_text(
        'def a(cur):\n    cur.execute("SELECT * FROM voter WHERE ncid = ?", [1])\n'
        'def b(wh):\n    return wh.unscoped_table("member_record")\n'
        'def c(cur, x):\n    cur.execute(f"SELECT count(*) FROM person_provenance p JOIN identity_record r ON {x}")\n'
        'def d(wh):\n    return wh.table("election_load")\n'
    )
    assert _reads(module) == {"voter", "member_record", "person_provenance", "identity_record"}


def test_warehouse_table_refuses_person_tables(warehouse: Warehouse) -> None:
    for name in person_tables():
        with pytest.raises(PersonTableRefused, match="unionhall.access.gateway"):
            warehouse.table(name)
    assert warehouse.table("election_load").count().execute() == 0  # other tables as before


def test_the_catalog_classifies_every_column_of_the_live_schema(warehouse: Warehouse) -> None:
    declared = person_tables()
    cur = warehouse.cursor()
    live: dict[str, set[str]] = {}
    for table, column in cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall():
        live.setdefault(table, set()).add(column)
    for name, spec in declared.items():
        assert name in live, f"declared person table {name} does not exist"
        assert spec.columns == live[name], (name, sorted(spec.columns ^ live[name]))
        assert set(spec.groups.values()) <= GROUPS
    undeclared = {t for t, cols in live.items() if cols & PERSON_COLUMNS and t not in declared}
    assert not undeclared, f"tables holding person-level columns must be declared in PERSON_TABLES: {undeclared}"
