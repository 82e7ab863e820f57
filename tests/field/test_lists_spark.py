"""List counts on Spark (local mode): the same gateway expression, compiled by ibis for
Spark SQL over a Parquet snapshot of the warehouse, gives the DuckDB (or PostgreSQL)
warehouse's answer for every role and committee."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.access.factories import user_with
from unionhall.errors import ConfigError
from unionhall.field.lists import ListDefinition, list_counts
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.spark,
              pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (the machine's openjdk)")]


def test_list_counts_on_spark_equal_the_warehouse(field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path) -> None:
    snapshot = tmp_path / "spark"
    field_wh.snapshot_for_spark(snapshot)
    spark = Warehouse(f"spark:///{snapshot}")
    first, second = tree["counties"]
    users = [
        user_with("organizer", tree["clc"], "spark-clc"),
        user_with("organizer", tree["affiliate"], "spark-aff"),
        user_with("data_manager", tree["state_federation"], "spark-fed"),
        user_with("organizer", tree["local"], "spark-local"),
    ]
    definitions = [
        ListDefinition(),
        ListDefinition(counties=(first,), registered=True),
        ListDefinition(counties=(first, second), age_min=30, age_max=64, walkable_only=True),
        ListDefinition(parties=("DEM", "UNA"), affiliates=(tree["sources"][0],)),
        ListDefinition(ballot="chase"),
    ]
    seen_nonzero = 0
    for user in users:
        for d in definitions:
            want = list_counts(user=user, definition=d, warehouse=field_wh)
            got = list_counts(user=user, definition=d, warehouse=spark)
            assert got == want, (user.username, d.describe())
            seen_nonzero += want.people > 0
    assert seen_nonzero >= len(users) * 3  # the comparison is not of empty lists


def test_the_spark_warehouse_is_read_only_and_a_missing_snapshot_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="take a snapshot first"):
        Warehouse(f"spark:///{tmp_path / 'none'}")
    (tmp_path / "empty").mkdir()
    spark = Warehouse(f"spark:///{tmp_path / 'empty'}")
    with pytest.raises(ConfigError, match="read-only snapshot"), spark.transaction():
        pass
