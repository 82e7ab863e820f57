"""Random assignment: reproducible, blocks split to their shares, households kept
whole, bad designs refused with what is wrong."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from unionhall.analytics.assign import assign, balance_table


def units(n: int = 1000) -> pl.DataFrame:
    rng = np.random.default_rng(5)
    return pl.DataFrame({"person_id": np.arange(n), "door": np.arange(n) // 2,
                         "county": rng.choice(["WAKE", "DURHAM", "VANCE"], n), "age": rng.integers(18, 90, n)})


def test_same_seed_same_assignment_other_seed_another() -> None:
    u = units()
    a, b, c = (assign(u, seed=s).get_column("arm") for s in (1, 1, 2))
    assert (a == b).all() and not (a == c).all()
    assert assign(u.reverse(), seed=1).sort("person_id").get_column("arm").equals(a)  # input order does not matter


def test_blocks_split_to_their_shares() -> None:
    u = units()
    out = assign(u, arms=("canvass", "mail", "control"), shares=(0.5, 0.25, 0.25), block=["county"], seed=9)
    for (county,), part in out.group_by(["county"]):
        n = part.height
        counts = part.get_column("arm").value_counts().to_dict(as_series=False)
        got = dict(zip(counts["arm"], counts["count"], strict=True))
        for arm, share in (("canvass", 0.5), ("mail", 0.25), ("control", 0.25)):
            assert abs(got[arm] - share * n) < 1, (county, got)


def test_households_are_assigned_whole() -> None:
    u = units()
    out = assign(u, cluster="door", seed=3)
    assert out.group_by("door").agg(pl.col("arm").n_unique()).get_column("arm").max() == 1
    doors = out.unique("door").get_column("arm").value_counts().get_column("count").to_list()
    assert abs(doors[0] - doors[1]) <= 1


def test_balance_table_shows_a_fair_split() -> None:
    out = assign(units(4000), seed=11)
    table = balance_table(out, ["age"])
    assert abs(table.get_column("std diff treatment")[0]) < 0.1
    rigged = out.with_columns(pl.when(pl.col("age") > 50).then(pl.lit("treatment")).otherwise(pl.lit("control"))
                              .alias("arm"))
    assert abs(balance_table(rigged, ["age"]).get_column("std diff treatment")[0]) > 1


def test_bad_designs_say_what_is_wrong() -> None:
    u = units()
    with pytest.raises(ValueError, match="summing to 1"):
        assign(u, shares=(0.6, 0.6), seed=1)
    with pytest.raises(ValueError, match="no column 'precinct'"):
        assign(u, block=["precinct"], seed=1)
    with pytest.raises(ValueError, match="two or more distinct arms"):
        assign(u, arms=("a", "a"), seed=1)
    with pytest.raises(ValueError, match="repeat a person_id"):
        assign(pl.concat([u, u.head(1)]), seed=1)
    split = u.with_columns(pl.when(pl.col("person_id") == 1).then(pl.lit("VANCE")).otherwise(pl.col("county"))
                           .alias("county"), pl.lit(0).alias("door"))
    with pytest.raises(ValueError, match="spans blocks"):
        assign(split, cluster="door", block=["county"], seed=1)
