"""Turf cutting (`unionhall.field.turf`): balance, buildings, blocks, walk order, missing
coordinates, determinism and compactness.

The property tests draw whole geographies (clustered towns on street grids, one long
street, all apartment buildings, scattered points, any of them with missing data) from
a numpy seed that hypothesis picks, plus the list size, turf size and tolerance. The
default profile runs a modest number of examples; `HYPOTHESIS_PROFILE=ci` runs more.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from unionhall.field.turf import TurfCut, compactness, cut_turfs, natural_key, walk_order

settings.register_profile("ci", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

LAT0, LON0 = 35.0, -79.0
M_LAT = 110_574.0
M_LON = 111_320.0 * math.cos(math.radians(LAT0))
KINDS = ("towns", "one_street", "apartments", "scatter", "grid")


# --------------------------------------------------------------------------- factories


def frame(x: np.ndarray, y: np.ndarray, street: Sequence[Any], house_number: Sequence[Any],
          unit: Sequence[Any] | None = None, *, precinct: object = None, zip5: object = None,
          first_id: int = 1) -> pl.DataFrame:
    """Doors at local metres (x east, y north) around (LAT0, LON0)."""
    n = len(x)
    return pl.DataFrame(
        {
            "door_id": np.arange(first_id, first_id + n, dtype=np.int64) * 7,
            "lat": LAT0 + np.asarray(y, dtype=np.float64) / M_LAT,
            "lon": LON0 + np.asarray(x, dtype=np.float64) / M_LON,
            "street": pl.Series(list(street), dtype=pl.Utf8),
            "house_number": pl.Series(list(house_number), dtype=pl.Int64),
            "unit": pl.Series(list(unit) if unit is not None else [""] * n, dtype=pl.Utf8),
            "precinct": pl.Series([precinct] * n, dtype=pl.Utf8) if not isinstance(precinct, list) else pl.Series(precinct, dtype=pl.Utf8),
            "zip5": pl.Series([zip5] * n, dtype=pl.Utf8) if not isinstance(zip5, list) else pl.Series(zip5, dtype=pl.Utf8),
        }
    )


def street_doors(rng: np.random.Generator, name: str, x0: float, y0: float, horizontal: bool,
                 blocks: int, fill: float, apt_share: float = 0.0, max_units: int = 6,
                 start_block: int = 1) -> dict[str, list[Any]]:
    """One street laid out as the synthetic state does: 100 numbers a block, odd on the
    north/east side, 8 lots a side per 110 m block, some lots apartment buildings."""
    out: dict[str, list[Any]] = {k: [] for k in ("x", "y", "street", "hn", "unit")}
    for b in range(blocks):
        for lot in range(8):
            for side in (0, 1):
                if rng.random() > fill:
                    continue
                hn = (start_block + b) * 100 + lot * 12 + 1 + side
                along = (b + (lot + 0.5) / 8) * 110.0
                off = 12.0 if side == 0 else -12.0
                x, y = (x0 + along, y0 + off) if horizontal else (x0 + off, y0 + along)
                units = [""]
                if rng.random() < apt_share:
                    units = [f"{1 + u // 4}{'ABCD'[u % 4]}" for u in range(int(rng.integers(2, max_units + 1)))]
                for u in units:
                    out["x"].append(x)
                    out["y"].append(y)
                    out["street"].append(name)
                    out["hn"].append(hn)
                    out["unit"].append(u)
    return out


def geography(kind: str, n: int, seed: int) -> pl.DataFrame:
    """About n doors of one kind of geography (see the module docstring)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list[Any]] = {k: [] for k in ("x", "y", "street", "hn", "unit")}

    def add(part: dict[str, list[Any]]) -> None:
        for key, values in part.items():
            cols[key].extend(values)

    if kind == "one_street":
        add(street_doors(rng, "LONG RD", 0, 0, True, blocks=max(1, n // 10), fill=0.65, apt_share=0.05, max_units=4))
    elif kind == "apartments":
        i = 0
        while len(cols["x"]) < n:
            add(street_doors(rng, f"TOWER {i} ST", (i % 4) * 400.0, (i // 4) * 400.0, bool(i % 2),
                             blocks=3, fill=0.5, apt_share=1.0, max_units=6))
            i += 1
    elif kind in ("towns", "grid"):
        towns = 1 if kind == "grid" else int(rng.integers(2, 5))
        centres = rng.uniform(-8000, 8000, (towns, 2))
        i = 0
        while len(cols["x"]) < n:
            t = i % towns
            cx, cy = centres[t]
            # Streets of a grid: every 200 m, crossing each other.
            horizontal = bool(rng.random() < 0.5)
            off = float(rng.integers(-4, 5)) * 200.0
            x0, y0 = (cx - 500.0, cy + off) if horizontal else (cx + off, cy - 500.0)
            add(street_doors(rng, f"T{t} {'ST' if horizontal else 'AVE'} {i}", x0, y0, horizontal,
                             blocks=int(rng.integers(2, 9)), fill=float(rng.uniform(0.3, 0.9)),
                             apt_share=0.05, max_units=4, start_block=int(rng.integers(1, 30))))
            i += 1
    elif kind == "scatter":
        centres = rng.uniform(-5000, 5000, (3, 2))
        pts = centres[rng.integers(0, 3, n)] + rng.normal(0, 400, (n, 2))
        cols = {"x": list(pts[:, 0]), "y": list(pts[:, 1]), "street": [None] * n,
                "hn": [None] * n, "unit": [""] * n}
    else:
        raise AssertionError(kind)
    keep = slice(0, n)
    return frame(np.asarray(cols["x"][keep], dtype=np.float64), np.asarray(cols["y"][keep], dtype=np.float64),
                 cols["street"][keep], cols["hn"][keep], cols["unit"][keep], precinct="P1", zip5="27000")


def with_missing(doors: pl.DataFrame, seed: int, share: float) -> pl.DataFrame:
    """Blank coordinates (and some streets, numbers, precincts, ZIPs) of a share of doors."""
    rng = np.random.default_rng(seed)
    n = doors.height

    def blank(col: str, p: float) -> pl.Expr:
        mask = pl.Series(rng.random(n) < p)
        return pl.when(mask).then(None).otherwise(pl.col(col)).alias(col)

    gone = pl.Series(rng.random(n) < share)
    return doors.with_columns(
        pl.when(gone).then(None).otherwise(pl.col("lat")).alias("lat"),
        pl.when(gone).then(None).otherwise(pl.col("lon")).alias("lon"),
    ).with_columns(blank("street", share / 3), blank("house_number", share / 3),
                   blank("precinct", share / 2), blank("zip5", share / 2))


def expected_bounds(n: int, k: int, tol: float) -> tuple[int, int]:
    """n/k ± tol, widened to floor/ceil(n/k) when rounding leaves nothing in between."""
    ideal = n / k
    lo = math.ceil(ideal * (1 - tol) - 1e-9)
    hi = math.floor(ideal * (1 + tol) + 1e-9)
    return max(1, min(lo, n // k)), max(hi, -(-n // k))


def buildings(doors: pl.DataFrame) -> pl.DataFrame:
    """Doors of multi-door addresses with a street and a number."""
    return doors.filter(pl.col("street").is_not_null() & pl.col("house_number").is_not_null()).with_columns(
        bsize=pl.len().over("street", "zip5", "house_number")
    )


def check_cut(doors: pl.DataFrame, cut: TurfCut, target: int, tol: float) -> None:
    """Invariants every cut has, feasible or not."""
    n = doors.height
    a = cut.assignments
    assert cut.k == max(1, math.floor(n / target + 0.5))
    # Every door exactly once.
    assert a.height == n
    assert sorted(a["door_id"].to_list()) == sorted(doors["door_id"].to_list())
    assert a["turf"].min() == 0 and a["turf"].max() == cut.k - 1
    # seq is 1..size within every turf.
    seqs = a.group_by("turf").agg(pl.col("seq").sort(), pl.len())
    for row in seqs.iter_rows(named=True):
        assert row["seq"] == list(range(1, row["len"] + 1))
    assert (cut.lower, cut.upper) == expected_bounds(n, cut.k, tol)
    assert cut.turfs["doors"].sum() == n
    # A building is in one turf unless it is bigger than a turf may be.
    b = buildings(doors).join(a.select("door_id", "turf"), on="door_id")
    per = b.group_by("street", "zip5", "house_number").agg(pl.col("turf").n_unique().alias("t"), pl.len())
    assert per.filter((pl.col("t") > 1) & (pl.col("len") <= cut.upper)).height == 0


# ---------------------------------------------------------------------- balance property


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, int, int, float, int, float]:
    kind = draw(st.sampled_from(KINDS))
    target = draw(st.integers(8, 80))
    n = draw(st.integers(1, 12 * target if kind != "one_street" else 8 * target))
    tol = draw(st.sampled_from([0.1, 0.15, 0.2, 0.3]))
    seed = draw(st.integers(0, 2**32 - 1))
    missing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.4]))
    return kind, n, target, tol, seed, missing


@given(cases())
def test_balanced_turfs_every_door_once_buildings_whole(case: tuple[str, int, int, float, int, float]) -> None:
    kind, n, target, tol, seed, missing = case
    doors = geography(kind, n, seed)
    if missing:
        doors = with_missing(doors, seed + 1, missing)
    n = doors.height
    cut = cut_turfs(doors, target=target, tolerance=tol)
    check_cut(doors, cut, target, tol)
    # Balance is promised whenever buildings leave room for it: every building fits in
    # the slack of a turf (the generators keep buildings at <= 6 units).
    sizes = cut.turfs["doors"].to_numpy()
    biggest = int(np.max(buildings(doors)["bsize"].to_numpy(), initial=1))
    if biggest <= max(1, (cut.upper - cut.lower) // 2):
        event("balance asserted")
        assert sizes.min() >= cut.lower and sizes.max() <= cut.upper, (sizes.min(), sizes.max(), cut.lower, cut.upper)
        assert cut.out_of_tolerance == 0


def test_tiny_list_is_one_turf() -> None:
    doors = geography("towns", 40, seed=1)
    cut = cut_turfs(doors, target=60)  # 40 < 60 * 0.85
    assert cut.k == 1
    assert cut.assignments["turf"].unique().to_list() == [0]
    assert sorted(cut.assignments["seq"].to_list()) == list(range(1, 41))


def test_empty_list_and_bad_arguments() -> None:
    empty = geography("towns", 10, seed=1).head(0)
    cut = cut_turfs(empty, target=60)
    assert cut.k == 0 and cut.assignments.height == 0 and cut.turfs.height == 0
    assert walk_order(empty).height == 0
    doors = geography("towns", 10, seed=1)
    with pytest.raises(ValueError, match="unique"):
        cut_turfs(pl.concat([doors, doors.head(1)]), target=5)
    with pytest.raises(ValueError, match="target"):
        cut_turfs(doors, target=0)
    with pytest.raises(ValueError, match="tolerance"):
        cut_turfs(doors, target=5, tolerance=1.0)


# -------------------------------------------------------------- buildings, blocks, streets


def test_a_building_is_split_only_when_bigger_than_a_turf_and_then_into_runs_of_units() -> None:
    rng = np.random.default_rng(3)
    parts = [street_doors(rng, "ELM ST", 0, 0, True, blocks=12, fill=0.7)]
    towers = {"OAK ST": 150, "PINE ST": 40}  # bigger than a turf; fits in one
    for i, (name, units) in enumerate(towers.items()):
        parts.append({"x": [300.0 * (i + 1)] * units, "y": [200.0] * units, "street": [name] * units,
                      "hn": [100] * units, "unit": [f"{1 + u // 10}{u % 10:02d}" for u in range(units)]})
    cols = {key: list(itertools.chain.from_iterable(p[key] for p in parts)) for key in parts[0]}
    doors = frame(np.asarray(cols["x"]), np.asarray(cols["y"]), cols["street"], cols["hn"], cols["unit"])
    cut = cut_turfs(doors, target=60)
    check_cut(doors, cut, 60, 0.15)
    a = doors.join(cut.assignments, on="door_id")
    assert a.filter(pl.col("street") == "PINE ST")["turf"].n_unique() == 1
    oak = a.filter(pl.col("street") == "OAK ST")
    runs = oak.group_by("turf").agg(pl.col("unit"), pl.len())
    # The fewest pieces that fit (ceil(150 / upper)), of near-equal size ...
    assert runs.height == math.ceil(150 / cut.upper)
    assert np.ptp(runs["len"].to_numpy()) <= 1
    # ... each a run of consecutive units in natural order.
    order = sorted(oak["unit"].to_list(), key=natural_key)
    for units in runs["unit"].to_list():
        positions = sorted(order.index(u) for u in units)
        assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_whole_streets_and_blocks_stay_together_when_sizes_allow() -> None:
    # Six streets of exactly 40 doors (4 blocks of 10) far apart: each street is a turf.
    rng = np.random.default_rng(5)
    cols: dict[str, list[Any]] = {k: [] for k in ("x", "y", "street", "hn", "unit")}
    for s in range(6):
        part = street_doors(rng, f"S{s} ST", (s % 3) * 3000.0, (s // 3) * 3000.0, bool(s % 2), blocks=4, fill=1.0)
        keep = [i for i, h in enumerate(part["hn"]) if int(h) % 100 < 60]
        for key in cols:
            cols[key].extend(part[key][i] for i in keep)
    doors = frame(np.asarray(cols["x"], float), np.asarray(cols["y"], float), cols["street"], cols["hn"], cols["unit"])
    assert doors.height == 240
    cut = cut_turfs(doors, target=40)
    per_street = doors.join(cut.assignments, on="door_id").group_by("street").agg(pl.col("turf").n_unique())
    assert per_street["turf"].to_list() == [1] * 6
    assert cut.split_blocks == 0

    # One long street of 12 blocks x 10 doors into turfs of 30: three whole blocks each.
    part = street_doors(rng, "LONG ST", 0, 0, True, blocks=12, fill=1.0)
    keep = [i for i, h in enumerate(part["hn"]) if int(h) % 100 < 60]
    one = frame(np.asarray([part["x"][i] for i in keep], float), np.asarray([part["y"][i] for i in keep], float),
                [part["street"][i] for i in keep], [part["hn"][i] for i in keep])
    cut = cut_turfs(one, target=30)
    assert cut.k == 4 and cut.split_blocks == 0
    blocks = one.join(cut.assignments, on="door_id").group_by("turf").agg((pl.col("house_number") // 100).unique().sort())
    assert sorted(len(b) for b in blocks["house_number"].to_list()) == [3, 3, 3, 3]


def test_a_street_along_a_cut_line_is_not_split_side_from_side() -> None:
    # A grid town: every street must change turf at most (turfs on it - 1) times along
    # its house numbers, i.e. turfs never interleave along a street.
    doors = geography("grid", 1500, seed=11)
    cut = cut_turfs(doors, target=60)
    a = doors.join(cut.assignments, on="door_id").sort("street", "house_number", "unit", "door_id")
    per = a.group_by("street", maintain_order=True).agg(
        changes=(pl.col("turf").diff().fill_null(0) != 0).sum(), turfs=pl.col("turf").n_unique()
    )
    excess = per.select((pl.col("changes") - pl.col("turfs") + 1).sum()).item()
    # A few come from buildings passed across a cut to keep balance; never interleaving.
    assert excess <= 0.02 * a.height / 60 * 4, excess


# ------------------------------------------------------------------------------ walk order


def one_turf(house_numbers: list[int | None], street: str = "OAK ST", units: list[str] | None = None,
             horizontal: bool = True) -> pl.DataFrame:
    """Doors on one street at positions implied by their numbers (odd north/east)."""
    x, y = [], []
    for h in house_numbers:
        along = 0.0 if h is None else (h // 100) * 110.0 + (h % 100) * 1.1
        off = 0.0 if h is None else (12.0 if h % 2 else -12.0)
        x.append(along if horizontal else off)
        y.append(off if horizontal else along)
    return frame(np.asarray(x), np.asarray(y), [street] * len(house_numbers), house_numbers, units)


def walked(doors: pl.DataFrame, *cols: str) -> list[tuple[object, ...]]:
    order = walk_order(doors).join(doors, on="door_id").sort("seq")
    assert order["seq"].to_list() == list(range(1, doors.height + 1))
    return list(order.select(cols).iter_rows())


def test_walk_goes_up_the_odd_side_and_back_down_the_even_side() -> None:
    numbers = [108, 101, 103, 102, 105, 104, 107, 106, 201, 202, 215, 210]
    rng = np.random.default_rng(0)
    doors = one_turf([numbers[i] for i in rng.permutation(len(numbers))])
    seq = [h for (h,) in walked(doors, "house_number")]
    assert seq == [101, 103, 105, 107, 201, 215, 210, 202, 108, 106, 104, 102]


def test_units_of_a_building_are_together_in_natural_order() -> None:
    units = ["10", "2", "1B", "", "1A", "2A", "B", "A"]
    assert sorted(units, key=natural_key) == ["", "1A", "1B", "2", "2A", "10", "A", "B"]
    doors = one_turf([101, 103, 103, 103, 103, 103, 105, 104], units=["", "10", "2", "1B", "1A", "2A", "", ""])
    seq = walked(doors, "house_number", "unit")
    assert seq == [(101, ""), (103, "1A"), (103, "1B"), (103, "2"), (103, "2A"), (103, "10"), (105, ""), (104, "")]


def test_doors_without_a_number_end_their_street_and_without_a_street_end_the_turf() -> None:
    oak = one_turf([101, None, 103, None, 102])
    elm = one_turf([101, 102], street="ELM ST").with_columns(
        (pl.col("door_id") + 1000), lon=pl.col("lon") + 600 / M_LON
    )
    nowhere = frame(np.asarray([50.0, 60.0]), np.asarray([0.0, 0.0]), [None, None], [None, None], first_id=900)
    doors = pl.concat([oak, elm, nowhere])
    seq = walked(doors, "street", "house_number")
    # OAK is nearer the north-west corner: its numbered doors, then its unnumbered ones,
    # then ELM, then the doors with no street at all.
    assert seq == [("OAK ST", 101), ("OAK ST", 103), ("OAK ST", 102), ("OAK ST", None), ("OAK ST", None),
                   ("ELM ST", 101), ("ELM ST", 102), (None, None), (None, None)]


def test_streets_are_toured_from_the_north_west_by_nearest_next_street() -> None:
    # Three parallel north-south streets 150 m apart, west to east, and one far east.
    parts = [one_turf([101, 103, 102], street=name, horizontal=False).with_columns(
        pl.col("door_id") + 100 * i, lon=pl.col("lon") + dx / M_LON)
        for i, (name, dx) in enumerate([("C ST", 300.0), ("A ST", 0.0), ("D ST", 3000.0), ("B ST", 150.0)])]
    streets = [s for (s,) in walked(pl.concat(parts), "street")]
    assert [s for i, s in enumerate(streets) if i == 0 or s != streets[i - 1]] == ["A ST", "B ST", "C ST", "D ST"]


def test_walk_order_of_a_turf_alone_matches_the_cut() -> None:
    doors = with_missing(geography("towns", 900, seed=21), seed=4, share=0.0)
    cut = cut_turfs(doors, target=50)
    a = cut.assignments
    for t in range(cut.k):
        mine = a.filter(pl.col("turf") == t).select("door_id", "seq")
        alone = walk_order(doors.join(mine.select("door_id"), on="door_id"))
        assert alone.sort("door_id").equals(mine.sort("door_id")), t


# --------------------------------------------------------------------- missing coordinates


def test_missing_coordinates_come_from_house_number_street_precinct_zip_in_that_order() -> None:
    base = one_turf([101, 111, 151, 201]).with_columns(precinct=pl.lit("P1"), zip5=pl.lit("27000"))
    other = frame(np.asarray([5000.0]), np.asarray([5000.0]), ["ELM ST"], [101], precinct="P2", zip5="27999", first_id=50)
    lost = pl.DataFrame(
        {
            "door_id": [1001, 1002, 1003, 1004, 1005, 1006],
            "street": ["OAK ST", "OAK ST", "OAK ST", "NEW ST", "NEW ST", None],
            "house_number": [113, 190, None, 5, 7, None],
            "precinct": ["P1", "P1", "P1", "P1", None, None],
            "zip5": ["27000", "27000", "27000", "27000", "27999", None],
        }
    )
    doors = pl.concat([base, other, lost], how="diagonal_relaxed")
    cut = cut_turfs(doors, target=100)
    got = {r["door_id"]: r for r in cut.assignments.iter_rows(named=True)}
    pos = {r["house_number"]: (r["lat"], r["lon"]) for r in base.iter_rows(named=True)}
    assert got[1001]["coord_source"] == "house_number"
    assert (got[1001]["lat"], got[1001]["lon"]) == pos[111]  # 113 is nearest 111
    assert (got[1002]["lat"], got[1002]["lon"]) == pos[201]  # 190 is nearest 201
    assert got[1003]["coord_source"] == "street"
    assert got[1003]["lat"] == pytest.approx(base["lat"].mean())
    assert got[1004]["coord_source"] == "precinct"  # NEW ST has no located door
    assert got[1004]["lon"] == pytest.approx(base["lon"].mean())
    assert got[1005]["coord_source"] == "zip"
    assert got[1005]["lat"] == pytest.approx(other["lat"][0])
    assert got[1006]["coord_source"] == "none" and got[1006]["lat"] is None
    assert {r["coord_source"] for r in cut.assignments.iter_rows(named=True) if r["door_id"] < 1000} == {"door"}


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.5, 0.9, 1.0]), st.integers(10, 60))
def test_doors_with_nothing_to_locate_them_are_still_cut(seed: int, share: float, target: int) -> None:
    doors = with_missing(geography("towns", 6 * target, seed), seed, share)
    if share == 1.0:
        doors = doors.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in ("precinct", "zip5"))
    cut = cut_turfs(doors, target=target)
    check_cut(doors, cut, target, 0.15)
    sizes = cut.turfs["doors"].to_numpy()
    assert sizes.min() >= cut.lower and sizes.max() <= cut.upper
    got = cut.assignments.join(doors, on="door_id", suffix="_in")
    assert got.filter(pl.col("lat_in").is_not_null())["coord_source"].unique().to_list() in ([], ["door"])
    assert got.filter(pl.col("lat").is_null())["coord_source"].unique().to_list() in ([], ["none"])


def test_doors_nowhere_to_be_found_fill_the_last_turfs_in_street_order() -> None:
    located = geography("towns", 600, seed=3)
    ghosts = pl.DataFrame({
        "door_id": np.arange(10_000, 10_090),
        "street": [f"GHOST {i // 30} ST" for i in range(90)],
        "house_number": [100 + i % 30 for i in range(90)],
    })
    doors = pl.concat([located, ghosts], how="diagonal_relaxed")
    cut = cut_turfs(doors, target=60)
    check_cut(doors, cut, 60, 0.15)
    lost = cut.assignments.filter(pl.col("coord_source") == "none").join(ghosts, on="door_id")
    assert lost.height == 90
    # 90 doors: one whole turf of them and the rest in the next-to-last one.
    assert lost["turf"].unique().sort().to_list() == [cut.k - 2, cut.k - 1]
    # Each ghost street stays in one turf except where the cut has to fall.
    assert lost.group_by("street").agg(pl.col("turf").n_unique())["turf"].sum() <= 4


# ----------------------------------------------------------------- determinism, compactness


@given(st.sampled_from(KINDS), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@settings(max_examples=15)
def test_same_doors_in_any_row_order_give_the_same_turfs(kind: str, seed: int, shuffle: int) -> None:
    doors = with_missing(geography(kind, 400, seed), seed, 0.1)
    first = cut_turfs(doors, target=40, seed=7)
    again = cut_turfs(doors.sample(fraction=1.0, shuffle=True, seed=shuffle % 2**31), target=40, seed=7)
    assert first.assignments.equals(again.assignments)
    assert first.turfs.equals(again.turfs)


def test_compactness_is_rms_distance_from_the_centroid() -> None:
    # Turf 0: a 200 m square's corners (RMS 100*sqrt(2)); turf 1: two points 50 m apart.
    x = np.array([-100.0, 100.0, 100.0, -100.0, 1000.0, 1050.0, np.nan])
    y = np.array([-100.0, -100.0, 100.0, 100.0, 0.0, 0.0, 0.0])
    got = compactness(LAT0 + y / M_LAT, LON0 + x / M_LON, [0, 0, 0, 0, 1, 1, 1])
    assert got == pytest.approx([100 * math.sqrt(2), 25.0], rel=2e-3)
    assert np.isnan(compactness([np.nan], [np.nan], [0])[0])


@pytest.mark.parametrize("kind", ["towns", "grid", "scatter"])
def test_turfs_are_far_more_compact_than_a_random_balanced_split(kind: str) -> None:
    doors = geography(kind, 3000, seed=8)
    cut = cut_turfs(doors, target=60)
    rng = np.random.default_rng(0)
    random_turf = rng.permutation(np.arange(doors.height) % cut.k)
    ours = cut.turfs["compactness_m"].mean()
    chance = np.nanmean(compactness(doors["lat"], doors["lon"], random_turf))
    assert ours < 0.25 * chance, (ours, chance)
    # And the walk is far shorter than visiting the same turfs' doors in random order.
    assert cut.turfs["walk_m"].sum() < 0.3 * _random_order_walk(doors, cut)


def _random_order_walk(doors: pl.DataFrame, cut: TurfCut) -> float:
    a = doors.join(cut.assignments.select("door_id", "turf"), on="door_id").with_columns(
        r=pl.Series(np.random.default_rng(1).permutation(doors.height))).sort("turf", "r")
    x = a["lon"].to_numpy() * M_LON
    y = a["lat"].to_numpy() * M_LAT
    same = a["turf"].to_numpy()[1:] == a["turf"].to_numpy()[:-1]
    return float(np.hypot(np.diff(x), np.diff(y))[same].sum())


def test_refinement_never_breaks_balance_and_reports_the_figures() -> None:
    doors = geography("towns", 5000, seed=2)
    cut = cut_turfs(doors, target=60, tolerance=0.1)
    assert cut.out_of_tolerance == 0
    t = cut.turfs
    assert t.columns == ["turf", "doors", "lat", "lon", "compactness_m", "walk_m", "unlocated"]
    assert t["doors"].min() >= cut.lower and t["doors"].max() <= cut.upper
    assert t["compactness_m"].null_count() == 0 and (t["walk_m"] > 0).all()
    assert cut.assignments.columns == ["door_id", "turf", "seq", "lat", "lon", "coord_source"]
