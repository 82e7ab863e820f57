"""Turf cutting: split a list's doors into balanced, compact, walkable turfs.

Pure computation (numpy, polars, scikit-learn); the turf service stores the result.

Algorithm
---------
1. **Locate.** Doors without coordinates take those of the nearest house number on the
   same street and ZIP, else the centroid of that street, else of their precinct, else
   of their ZIP (`assignments.coord_source` says which); a door missing its ZIP takes
   its street's when that is unambiguous. Doors with nothing at all are still cut: they
   sort after every located door at each split, so they end up together in the last
   turf(s), in street-name order.
2. **Atoms.** A building (street + ZIP + house number: one house, or every unit of an
   apartment building) is indivisible. Only a building larger than the largest allowed
   turf is cut, into the fewest equal runs of units that fit. Street blocks (street +
   ZIP + house_number // 100) are soft groups: cuts prefer block boundaries.
3. **Recursive coordinate bisection with exact counts.** A node that must become `k`
   turfs is sorted along the longer axis of its doors (by block, and inside a block by
   house number, so a cut through a block crosses its street once). Plain halving cuts
   it into `k // 2` and `k - k // 2` turfs at the block boundary nearest the
   proportional count; a block boundary giving another whole split of `k` replaces that
   when it makes clearly more compact sides (`_best_split`: two towns are cut apart at
   the fields between them). A cut may miss its count only within a window that keeps
   every later turf feasible (half the tolerance for a node that will be cut again, the
   full tolerance for a final turf); when no block boundary falls in the window the cut
   goes between buildings, and when one building straddles the whole window it is
   passed to one side and the cut continues past it. Blocks right at the cut line are
   ordered along it, so a street running along the cut is not split side from side.
   With single houses this always meets the tolerance.
4. **Repair**, only when big buildings left a turf out of tolerance: buildings move to
   adjacent turfs, or two are swapped, or one is pushed along a chain of full turfs to
   one with room (`_repair`; a local search, so it can miss a feasible balance).
5. **Boundary refinement.** Pieces (the part of a block inside one turf) move to an
   adjacent turf (a k-nearest-neighbour graph over buildings) when that lowers the sum
   of squared distances to turf centroids (Hartigan's exact move cost), keeps both
   turfs within tolerance and adds no change of turf along the street. Pieces never
   split, so a block split by bisection can only be re-joined, never split further.
6. **Walk order** (`walk_order`): a street's doors form segments (a run of its blocks with
   no empty block between); each segment is walked up the odd side ascending and back
   down the even side descending, every unit of a building together in natural order
   ("2" < "10", "1A" < "1B" < "2A"); segments are visited by a greedy nearest-neighbour
   tour that starts nearest the turf's north-west corner; doors with no house number
   follow the last segment of their street, doors with no street come after the
   streets (nearest next), doors with no coordinates last.

Why this and not k-means or a graph partitioner: k-means gives compact but badly
unbalanced clusters and splits buildings; balanced k-means (assignment by min-cost flow)
costs O(n·k) memory per iteration, which is 1.7e8 cells at 100,000 doors into 60-door
turfs; a graph partitioner (METIS) needs a street network we do not have and a native
dependency. Bisection gives exact balance by construction in O(n log n log k), keeps
buildings whole trivially (cuts fall only between atoms), and its turfs are already
compact; the refinement removes the staircase artefacts of axis-aligned cuts.

Compactness figure: the root-mean-square distance in metres of a turf's doors from its
centroid (the moment of inertia, a classic districting compactness measure, and the
square root of the k-means objective per door). Lower is more compact; it is what the
refinement minimises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cmp_to_key

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.neighbors import NearestNeighbors

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
# A street's run of doors starts a new walk segment after a whole empty block, or after a
# jump this long (a same-named street in the next town).
SEGMENT_GAP_M = 1_000.0
# Blocks whose centre is this close to a cut line are ordered along the line (see _bisect).
CUT_BAND_M = 30.0
# Cut scoring (_best_split), chosen by measuring four geographies (docs/field.md, "Turf cutting: how it was chosen"):
# a side's squared-distance sum is divided by (its turfs) ** SPLIT_EXPONENT; a scored cut
# replaces plain halving only when it scores below SPLIT_MARGIN times the halving's score;
# k1 stays within SPLIT_MIN_SHARE of either end so the recursion stays O(log k) deep.
SPLIT_EXPONENT = 0.5
SPLIT_MARGIN = 0.95
SPLIT_MIN_SHARE = 0.1
NEIGHBOURS = 10  # buildings in the adjacency graph of the refinement
MAX_REFINE_PASSES = 20
REFINE_MIN_GAIN = 1e-3
MAX_REPAIR_PASSES = 60

COLUMNS: dict[str, pl.DataType] = {
    "door_id": pl.Int64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "street": pl.Utf8(),
    "house_number": pl.Int64(),
    "unit": pl.Utf8(),
    "precinct": pl.Utf8(),
    "zip5": pl.Utf8(),
}


@dataclass(frozen=True)
class TurfCut:
    """The result of `cut_turfs`.

    `assignments`: one row per input door, ordered by turf then seq: `door_id`, `turf`
    (0..k-1), `seq` (1..n within the turf: the walk order), `lat`, `lon` (the coordinates
    used, imputed when the door had none; null when nothing located it) and
    `coord_source` ("door", "house_number", "street", "precinct", "zip" or "none").

    `turfs`: one row per turf: `turf`, `doors`, `lat`, `lon` (centroid of its located
    doors), `compactness_m` (see `compactness`), `walk_m` (length of the walk order,
    door to door, straight lines), `unlocated` (doors with no coordinates at all).
    """

    assignments: pl.DataFrame
    turfs: pl.DataFrame
    k: int
    target: int
    tolerance: float
    lower: int  # smallest turf size allowed: ceil(n/k * (1 - tol)), never above floor(n/k)
    upper: int  # largest turf size allowed: floor(n/k * (1 + tol)), never below ceil(n/k)
    seed: int
    split_buildings: int  # buildings bigger than `upper`, cut into runs of units
    split_blocks: int  # street blocks whose doors ended up in more than one turf
    # Turfs outside [lower, upper]: 0 unless buildings bigger than the slack made balance
    # infeasible, or the repair's local search missed it.
    out_of_tolerance: int


# ---------------------------------------------------------------------------- public API


def cut_turfs(
    doors: pl.DataFrame, *, target: int, tolerance: float = 0.15, seed: int = 0
) -> TurfCut:
    """Split `doors` into k = max(1, round(n / target)) balanced, compact turfs.

    `doors` has `door_id` (unique) and, each possibly null, `lat`, `lon`, `street`,
    `house_number`, `unit`, `precinct`, `zip5`; absent columns count as null. Every turf
    has between `lower` and `upper` doors (n/k ± tolerance) whenever buildings allow it;
    every door is assigned exactly once. The result depends only on the set of rows, not
    their order. The algorithm has no random step today; `seed` is recorded in the
    result so a saved cut states how to reproduce it should a randomised step be added.
    """
    if target < 1:
        raise ValueError(f"target must be at least 1 door per turf, got {target}")
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    df = _prepare(doors)
    n = df.height
    k = max(1, math.floor(n / target + 0.5)) if n else 0
    lower, upper = _bounds(n, k, tolerance)
    if n == 0:
        return _result(df, np.zeros(0, np.int64), 0, target, tolerance, lower, upper, seed, 0, 0)

    df = _locate(df)
    x, y = _project(df["lat"].to_numpy(), df["lon"].to_numpy())
    atoms = _atoms(df, x, y, upper)
    if k == 1:
        turf_of_atom = np.zeros(atoms.size.size, np.int64)
    else:
        turf_of_atom = _bisect(atoms, k, lower, upper, n / k)
        edges = _neighbours(atoms)
        turf_of_atom = _repair(atoms, turf_of_atom, edges, k, lower, upper)
        turf_of_atom = _refine(atoms, turf_of_atom, edges, k, lower, upper)
    turf = turf_of_atom[atoms.atom_of_door]
    sizes = np.bincount(turf, minlength=k)
    return _result(
        df, turf, k, target, tolerance, lower, upper, seed, atoms.split_buildings,
        int(np.count_nonzero((sizes < lower) | (sizes > upper))),
    )


def walk_order(doors: pl.DataFrame) -> pl.DataFrame:
    """The walk sheet order of one turf's doors: a frame of `door_id`, `seq` (1..n).

    Takes the same columns as `cut_turfs` (coordinates may be missing; they are imputed
    within these doors). Use it to re-order a turf after doors were added or removed.
    """
    df = _prepare(doors)
    if df.height == 0:
        return pl.DataFrame({"door_id": [], "seq": []}, schema={"door_id": pl.Int64, "seq": pl.Int64})
    df = _locate(df)
    seq = _walk_sequence(df, np.zeros(df.height, np.int64))
    return pl.DataFrame({"door_id": df["door_id"], "seq": seq}).sort("seq")


def compactness(
    lat: npt.ArrayLike, lon: npt.ArrayLike, turf: npt.ArrayLike
) -> FloatArray:
    """Per turf label 0..max(turf): RMS distance (metres) of its doors from its centroid.

    Lower is more compact. Doors with a null/NaN coordinate are left out; a turf with no
    located door gets NaN. Distances use a local equirectangular projection about the
    mean latitude, accurate to well under 1% across a state.
    """
    labels = np.asarray(turf, dtype=np.int64)
    x, y = _project(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
    k = int(labels.max()) + 1 if labels.size else 0
    ok = np.isfinite(x) & np.isfinite(y)
    lab, xo, yo = labels[ok], x[ok], y[ok]
    cnt = np.bincount(lab, minlength=k).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = _wsum(lab, xo, k) / cnt
        cy = _wsum(lab, yo, k) / cnt
        sse = _wsum(lab, (xo - cx[lab]) ** 2 + (yo - cy[lab]) ** 2, k)
        return np.sqrt(sse / cnt)


def natural_key(unit: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key putting apartment units in natural order: "2" < "10", "1A" < "1B" < "2A"."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.findall(r"\d+|\D+", unit.strip().upper())
    )


# ------------------------------------------------------------------------ preparation


def _prepare(doors: pl.DataFrame) -> pl.DataFrame:
    """Typed columns (absent ones null), blanks as null, sorted by door_id."""
    if "door_id" not in doors.columns:
        raise ValueError("doors needs a door_id column")
    df = doors.select(
        [
            (pl.col(c) if c in doors.columns else pl.lit(None)).cast(t, strict=True).alias(c)
            for c, t in COLUMNS.items()
        ]
    )
    if df["door_id"].null_count():
        raise ValueError("door_id must not be null")
    if df["door_id"].n_unique() != df.height:
        raise ValueError("door_id must be unique: each door is one household address")
    # Sorting first is what makes the cut independent of the input's row order.
    return df.with_columns(
        lat=pl.when(pl.col("lat").is_finite() & pl.col("lon").is_finite()).then(pl.col("lat")),
        lon=pl.when(pl.col("lat").is_finite() & pl.col("lon").is_finite()).then(pl.col("lon")),
        street=pl.col("street").str.strip_chars().replace("", None),
        unit=pl.col("unit").str.strip_chars().fill_null(""),
        precinct=pl.col("precinct").replace("", None),
        zip5=pl.col("zip5").replace("", None),
    ).sort("door_id")


def _bounds(n: int, k: int, tolerance: float) -> tuple[int, int]:
    """Allowed turf sizes: n/k ± tolerance, widened to floor/ceil(n/k) when that is narrower."""
    if k == 0:
        return 0, 0
    ideal = n / k
    lower = math.ceil(ideal * (1 - tolerance) - 1e-9)
    upper = math.floor(ideal * (1 + tolerance) + 1e-9)
    return max(1, min(lower, n // k)), max(upper, -(-n // k))


def _locate(df: pl.DataFrame) -> pl.DataFrame:
    """Fill missing coordinates (see the module docstring) and record where they came from.

    Adds `zip_key` (the ZIP used to tell same-named streets apart) and `coord_source`.
    """
    located = df.filter(pl.col("lat").is_not_null())
    df = df.with_columns(zip_key=_zip_key(df, located))
    located = df.filter(pl.col("lat").is_not_null())
    if located.height == df.height or located.height == 0:
        src = pl.lit("door") if located.height else pl.lit("none")
        return df.with_columns(coord_source=src).select([*COLUMNS, "zip_key", "coord_source"])
    # Nearest house number on the same street and ZIP: one reference row per number so
    # the as-of join has no ties within a number.
    ref = (
        located.filter(pl.col("street").is_not_null() & pl.col("house_number").is_not_null())
        .group_by("street", "zip_key", "house_number")
        .agg(hn_lat=pl.col("lat").mean(), hn_lon=pl.col("lon").mean())
        .sort("street", "zip_key", "house_number")
    )
    need = (
        df.filter(pl.col("lat").is_null() & pl.col("street").is_not_null() & pl.col("house_number").is_not_null())
        .select("door_id", "street", "zip_key", "house_number")
        .sort("street", "zip_key", "house_number")
    )
    nearest = need.join_asof(
        ref, on="house_number", by=["street", "zip_key"], strategy="nearest", check_sortedness=False
    ).select("door_id", "hn_lat", "hn_lon")
    street = located.filter(pl.col("street").is_not_null()).group_by("street", "zip_key").agg(
        st_lat=pl.col("lat").mean(), st_lon=pl.col("lon").mean()
    )
    precinct = located.filter(pl.col("precinct").is_not_null()).group_by("precinct").agg(
        pr_lat=pl.col("lat").mean(), pr_lon=pl.col("lon").mean()
    )
    zip5 = located.filter(pl.col("zip5").is_not_null()).group_by("zip5").agg(
        zp_lat=pl.col("lat").mean(), zp_lon=pl.col("lon").mean()
    )
    out = (
        df.join(nearest, on="door_id", how="left")
        .join(street, on=["street", "zip_key"], how="left")
        .join(precinct, on="precinct", how="left")
        .join(zip5, on="zip5", how="left")
        .sort("door_id")
    )
    tiers = [("door", "lat", "lon"), ("house_number", "hn_lat", "hn_lon"), ("street", "st_lat", "st_lon"),
             ("precinct", "pr_lat", "pr_lon"), ("zip", "zp_lat", "zp_lon")]
    source: pl.Expr = pl.lit("none")
    for name, la, _lo in reversed(tiers):
        source = pl.when(pl.col(la).is_not_null()).then(pl.lit(name)).otherwise(source)
    return out.with_columns(
        lat=pl.coalesce([pl.col(la) for _n, la, _lo in tiers]),
        lon=pl.coalesce([pl.col(lo) for _n, _la, lo in tiers]),
        coord_source=source,
    ).select([*COLUMNS, "zip_key", "coord_source"])


def _zip_key(df: pl.DataFrame, located: pl.DataFrame) -> pl.Series:
    """The door's ZIP, or for a door without one the ZIP its street has among located doors
    (of its precinct when known) if that is unambiguous; "" otherwise.

    So "12 OAK ST" with the ZIP missing is placed on the OAK ST of the list rather than
    at its precinct's centre, unless the list has two OAK STs it could be on.
    """
    known = located.filter(pl.col("street").is_not_null() & pl.col("zip5").is_not_null())
    by_precinct = (
        known.filter(pl.col("precinct").is_not_null()).group_by("street", "precinct")
        .agg(z1=pl.col("zip5").unique()).filter(pl.col("z1").list.len() == 1)
        .with_columns(pl.col("z1").list.first())
    )
    by_street = (
        known.group_by("street").agg(z2=pl.col("zip5").unique()).filter(pl.col("z2").list.len() == 1)
        .with_columns(pl.col("z2").list.first())
    )
    out = (
        df.select("door_id", "street", "precinct", "zip5")
        .join(by_precinct, on=["street", "precinct"], how="left")
        .join(by_street, on="street", how="left")
        .sort("door_id")
    )
    return out.select(pl.coalesce("zip5", "z1", "z2", pl.lit("")))["zip5"]


def _project(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Local equirectangular metres (NaN where a coordinate is missing)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return np.full(lat.shape, np.nan), np.full(lat.shape, np.nan)
    lat0 = float(lat[ok].mean())
    lon0 = float(lon[ok].mean())
    return (
        (lon - lon0) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)),
        (lat - lat0) * M_PER_DEG_LAT,
    )


def _project_per_turf(lat: FloatArray, lon: FloatArray, turf: IntArray) -> tuple[FloatArray, FloatArray]:
    """`_project` about each turf's own mean, so a turf's walk order is the same whether
    it is computed in the whole cut or by `walk_order` on that turf's doors alone."""
    k = int(turf.max()) + 1 if turf.size else 0
    ok = np.isfinite(lat) & np.isfinite(lon)
    cnt = np.bincount(turf[ok], minlength=k).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat0 = np.nan_to_num(_wsum(turf[ok], lat[ok], k) / cnt)
        lon0 = np.nan_to_num(_wsum(turf[ok], lon[ok], k) / cnt)
    scale = M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0))
    return (lon - lon0[turf]) * scale[turf], (lat - lat0[turf]) * M_PER_DEG_LAT


def _unit_rank(units: pl.Series) -> IntArray:
    """Natural-order rank of each unit string (sorting only the distinct values)."""
    distinct = units.unique().to_list()
    ordered = sorted(distinct, key=cmp_to_key(_cmp_units))
    rank = {u: i for i, u in enumerate(ordered)}
    return units.replace_strict(rank, return_dtype=pl.Int64).to_numpy()


def _cmp_units(a: str, b: str) -> int:
    ka, kb = natural_key(a), natural_key(b)
    if ka != kb:
        return -1 if ka < kb else 1
    return -1 if a < b else (1 if a > b else 0)


# ------------------------------------------------------------------------------ atoms


@dataclass
class _Atoms:
    """Indivisible groups of doors (a building, or a run of a big building's units)."""

    atom_of_door: IntArray
    size: IntArray  # doors
    nloc: FloatArray  # doors with coordinates (all or none, in practice)
    sx: FloatArray  # sum of x of located doors
    sy: FloatArray
    x: FloatArray  # centroid (inf when unlocated, so it sorts last)
    y: FloatArray
    block: IntArray  # soft group: street + ZIP + hundred block, ids in street-name order
    block_x: FloatArray  # centroid of the atom's block
    block_y: FloatArray
    # Position along its street inside the block: the house number, signed so that it
    # grows with x (along_x) or with y (along_y); the coordinate where there is none.
    along_x: FloatArray
    along_y: FloatArray
    street: IntArray  # street + ZIP id of numbered buildings, -1 for the rest
    hn: FloatArray  # house number (NaN when none)
    split_buildings: int


def _atoms(df: pl.DataFrame, x: FloatArray, y: FloatArray, upper: int) -> _Atoms:
    has_addr = df["street"].is_not_null() & df["house_number"].is_not_null()
    keys = pl.DataFrame(
        {
            "row": np.arange(df.height),
            "nostreet": df["street"].is_null(),
            "street": df["street"].fill_null(""),
            "zip": df["zip_key"],  # the door's ZIP, or its street's (see _zip_key)
            "nonum": df["house_number"].is_null(),
            # Doors with no street and doors with a street but no number are their own
            # building; no-number doors of one street share a soft block.
            "blk": (df["house_number"] // 100).fill_null(-1),
            "hn": df["house_number"].fill_null(-1),
            "solo": pl.Series(np.where(has_addr.to_numpy(), -1, df["door_id"].to_numpy())),
            "solo_block": pl.Series(np.where(df["street"].is_null().to_numpy(), df["door_id"].to_numpy(), -1)),
            "urank": _unit_rank(df["unit"]),
            "door_id": df["door_id"],
        }
    )
    block_cols = ["nostreet", "street", "zip", "nonum", "blk", "solo_block"]
    atom_cols = [*block_cols, "hn", "solo"]
    keys = keys.sort([*atom_cols, "urank", "door_id"])
    # Dense ids in sorted order: the ids themselves follow street-name order, which is
    # the tie-break for doors at the same spot and the order of unlocated doors.
    new_block = _changes(keys, block_cols)
    new_atom = _changes(keys, atom_cols)
    block_sorted = np.cumsum(new_block) - 1
    base_sorted = np.cumsum(new_atom) - 1
    base_size = np.bincount(base_sorted)
    first = np.flatnonzero(new_atom)
    pos_in_atom = np.arange(base_sorted.size) - first[base_sorted]
    # A building bigger than any turf may be: the fewest equal runs of units that fit.
    pieces = np.maximum(1, -(-base_size // max(upper, 1)))
    chunk = pos_in_atom * pieces[base_sorted] // base_size[base_sorted]
    new_atom_c = new_atom | np.concatenate([[True], chunk[1:] != chunk[:-1]])
    atom_sorted = np.cumsum(new_atom_c) - 1
    rows = keys["row"].to_numpy()
    atom_of_door = np.empty(df.height, np.int64)
    atom_of_door[rows] = atom_sorted
    n_atoms = int(atom_sorted[-1]) + 1
    block_of_atom = np.empty(n_atoms, np.int64)
    block_of_atom[atom_sorted] = block_sorted
    new_street = _changes(keys, ["nostreet", "street", "zip", "nonum"])
    numbered = ~(keys["nostreet"].to_numpy() | keys["nonum"].to_numpy())
    street_of_atom = np.empty(n_atoms, np.int64)
    street_of_atom[atom_sorted] = np.where(numbered, np.cumsum(new_street) - 1, -1)

    ok = np.isfinite(x)
    size = np.bincount(atom_of_door, minlength=n_atoms)
    nloc = _wsum(atom_of_door, ok.astype(np.float64), n_atoms)
    sx = _wsum(atom_of_door, np.where(ok, x, 0.0), n_atoms)
    sy = _wsum(atom_of_door, np.where(ok, y, 0.0), n_atoms)
    n_blocks = int(block_of_atom.max()) + 1
    bn = _wsum(block_of_atom, nloc, n_blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        ax = np.where(nloc > 0, sx / nloc, np.inf)
        ay = np.where(nloc > 0, sy / nloc, np.inf)
        bx = np.where(bn > 0, _wsum(block_of_atom, sx, n_blocks) / bn, np.inf)
        by = np.where(bn > 0, _wsum(block_of_atom, sy, n_blocks) / bn, np.inf)
    hn_door = df["house_number"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    hn = np.full(n_atoms, np.nan)
    hn[atom_of_door] = hn_door  # one house number per building
    # Direction per street (not per block): consistent along the street, and a block
    # too short to show a direction still follows its street.
    group = np.where(street_of_atom >= 0, street_of_atom, n_atoms + np.arange(n_atoms))
    _u, group = _unique(group)
    along_x = _along(hn, ax, group.ravel())
    along_y = _along(hn, ay, group.ravel())
    return _Atoms(
        atom_of_door=atom_of_door, size=size.astype(np.int64), nloc=nloc, sx=sx, sy=sy, x=ax, y=ay,
        block=block_of_atom, block_x=bx[block_of_atom], block_y=by[block_of_atom],
        along_x=along_x, along_y=along_y, street=street_of_atom, hn=hn,
        split_buildings=int(np.count_nonzero((pieces > 1) & (base_size > 1))),
    )


def _along(hn: FloatArray, coord: FloatArray, block: IntArray) -> FloatArray:
    """House number signed by the direction in which numbers grow along `coord` on its street.

    Ordering a block by house number keeps a cut through it to one crossing of the
    street (ordering by the coordinate would separate the two sides when the street
    runs along the cut).
    """
    n_blocks = int(block.max()) + 1 if block.size else 0
    ok = np.isfinite(hn) & np.isfinite(coord)
    w = ok.astype(np.float64)
    h = np.where(ok, hn, 0.0)
    c = np.where(ok, coord, 0.0)
    cnt = _wsum(block, w, n_blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        mh = _wsum(block, h, n_blocks) / cnt
        mc = _wsum(block, c, n_blocks) / cnt
    cov = _wsum(block, w * (h - np.nan_to_num(mh)[block]) * (c - np.nan_to_num(mc)[block]), n_blocks)
    sign = np.where(cov < 0, -1.0, 1.0)[block]
    return np.where(np.isfinite(hn), hn * sign, coord)


def _unique(values: IntArray) -> tuple[IntArray, IntArray]:
    """Sorted distinct values and each value's index among them.

    By sorting: numpy 2's hash-based np.unique is ~80x slower on a few million int64.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(ordered.size, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(values.size, np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _wsum(labels: IntArray, weights: npt.ArrayLike, length: int) -> FloatArray:
    """Sum of weights per label 0..length-1 (np.bincount, typed as the floats it returns)."""
    return np.bincount(labels, weights=weights, minlength=length).astype(np.float64, copy=False)


def _changes(frame: pl.DataFrame, cols: Sequence[str]) -> BoolArray:
    """True where a sorted frame's key (the given columns) differs from the row before."""
    out = np.zeros(frame.height, dtype=bool)
    if frame.height:
        out[0] = True
    for c in cols:
        v = frame[c].to_numpy()
        out[1:] |= v[1:] != v[:-1]
    return out


# -------------------------------------------------------------------------- bisection


def _bisect(atoms: _Atoms, k: int, lower: int, upper: int, ideal: float) -> IntArray:
    """Recursive coordinate bisection; returns the turf of every atom (turfs in leaf order)."""
    turf = np.zeros(atoms.size.size, np.int64)
    # Per-turf average allowed for a node that will be cut again: half the tolerance,
    # leaving the other half for the cuts below it.
    half_lo = ideal - 0.5 * (ideal - lower)
    half_hi = ideal + 0.5 * (upper - ideal)

    def band(j: int) -> tuple[float, float]:
        return (float(lower), float(upper)) if j == 1 else (half_lo, half_hi)

    stack: list[tuple[IntArray, int, int]] = [(np.arange(atoms.size.size), k, 0)]
    while stack:
        idx, kk, offset = stack.pop()
        if kk == 1 or idx.size <= 1:
            turf[idx] = offset
            continue
        loc = np.isfinite(atoms.x[idx])
        axis_x = True
        if loc.any():
            w = atoms.nloc[idx][loc]
            axis_x = _wstd(atoms.x[idx][loc], w) >= _wstd(atoms.y[idx][loc], w)
        bkey = atoms.block_x[idx] if axis_x else atoms.block_y[idx]
        okey = atoms.block_y[idx] if axis_x else atoms.block_x[idx]
        akey = atoms.along_x[idx] if axis_x else atoms.along_y[idx]
        okey_atom = atoms.along_y[idx] if axis_x else atoms.along_x[idx]
        order = np.lexsort((idx, akey, atoms.block[idx], bkey))
        seq = idx[order]
        prefix = np.concatenate([[0], np.cumsum(atoms.size[seq])])
        m = int(prefix[-1])
        blk = atoms.block[seq]
        block_cuts = 1 + np.flatnonzero(blk[1:] != blk[:-1])
        choice = _best_split(atoms, seq, prefix, block_cuts, kk, lower, upper, (half_lo, half_hi))
        if choice is None:
            k1 = kk // 2
            t = m * k1 / kk
            at_t = min(int(np.searchsorted(prefix, t)), seq.size - 1)
            c = float(bkey[order][at_t])
        else:
            pos0, k1 = choice
            t = float(prefix[pos0])
            c = 0.5 * float(bkey[order][pos0 - 1] + bkey[order][pos0])
        k2 = kk - k1
        # A street running along the cut line has all its blocks within a few metres of
        # it (the two sides sit ±12 m from the centre line): sorted across the street,
        # they would alternate between the two turfs. Blocks that close to the cut are
        # ordered along the cut line instead, so the cut crosses such a street once.
        if np.isfinite(c):
            near = np.abs(bkey - c) <= CUT_BAND_M
            if near.any():
                group = np.where(near, 1, np.where(bkey < c, 0, 2))
                primary = np.where(near, okey, bkey)
                secondary = np.where(near, okey_atom, akey)
                seq = idx[np.lexsort((idx, secondary, atoms.block[idx], primary, group))]
                prefix = np.concatenate([[0], np.cumsum(atoms.size[seq])])
                blk = atoms.block[seq]
                block_cuts = 1 + np.flatnonzero(blk[1:] != blk[:-1])
        sizes = atoms.size[seq]
        lo1, hi1 = band(k1)
        lo2, hi2 = band(k2)
        pref = (max(k1 * lo1, m - k2 * hi2), min(k1 * hi1, m - k2 * lo2))
        full = (max(k1 * lower, m - k2 * upper), min(k1 * upper, m - k2 * lower))
        # Each child keeps at least one door per turf.
        pref = (max(math.ceil(pref[0] - 1e-9), k1), min(math.floor(pref[1] + 1e-9), m - k2))
        full = (max(full[0], k1), min(full[1], m - k2))
        any_cuts = np.arange(1, seq.size)
        left_mask: BoolArray | None = None
        pos = _nearest_cut(prefix, block_cuts, pref, t)
        if pos is None:
            pos = _nearest_cut(prefix, any_cuts, pref, t)
        if pos is None:
            pos = _nearest_cut(prefix, any_cuts, full, t)
        if pos is None and full[0] <= full[1]:
            left_mask = _skip_cut(sizes, prefix, full)
        if pos is None and left_mask is None:
            # Infeasible here (buildings too big): the nearest cut to the clamped target;
            # the repair pass deals with what is left.
            tc = min(max(t, full[0]), full[1]) if full[0] <= full[1] else t
            pos = _nearest_cut(prefix, any_cuts, (-math.inf, math.inf), tc)
        if left_mask is None:
            left_mask = np.zeros(seq.size, dtype=bool)
            left_mask[: pos if pos is not None else 1] = True
        stack.append((seq[left_mask], k1, offset))
        stack.append((seq[~left_mask], k2, offset + k1))
    return turf


def _best_split(
    atoms: _Atoms, seq: IntArray, prefix: IntArray, cuts: IntArray, kk: int,
    lower: int, upper: int, half: tuple[float, float],
) -> tuple[int, int] | None:
    """The block boundary and turf split (k1, kk - k1) that make the most compact children.

    Halving k at the proportional count is one candidate; any block boundary whose
    counts give both sides a whole number of turfs within their band is another. The
    score is each side's sum of squared distances to its centroid divided by its turfs
    (cutting a 2-D region into j compact parts divides that sum by about j), so two
    towns separated by fields are cut apart at the fields rather than halved with one
    turf straddling the empty land. k1 stays within [kk/4, 3kk/4] (at least 1), which
    keeps the recursion O(log k) deep. None when no block boundary is feasible.
    """
    if cuts.size == 0:
        return None
    x = atoms.x[seq]
    y = atoms.y[seq]
    ok = np.isfinite(x)
    # Centred (precision of the running sums of squares); unlocated atoms weigh nothing.
    x = np.where(ok, x - (x[ok].mean() if ok.any() else 0.0), 0.0)
    y = np.where(ok, y - (y[ok].mean() if ok.any() else 0.0), 0.0)
    w = np.where(ok, atoms.nloc[seq], 0.0)
    cw = np.concatenate([[0.0], np.cumsum(w)])
    csx = np.concatenate([[0.0], np.cumsum(w * x)])
    csy = np.concatenate([[0.0], np.cumsum(w * y)])
    css = np.concatenate([[0.0], np.cumsum(w * (x * x + y * y))])
    sse_l = _sse(cw[cuts], csx[cuts], csy[cuts], css[cuts])
    sse_r = _sse(cw[-1] - cw[cuts], csx[-1] - csx[cuts], csy[-1] - csy[cuts], css[-1] - css[cuts])
    m = float(prefix[-1])
    c = prefix[cuts].astype(np.float64)
    k_min = max(1, int(kk * SPLIT_MIN_SHARE))
    best_score = np.full(cuts.size, np.inf)
    best_k1 = np.zeros(cuts.size, np.int64)
    share = c / m * kk
    for rounded in (np.floor(share), np.ceil(share)):
        k1 = np.clip(rounded, k_min, kk - k_min).astype(np.int64)
        k2 = kk - k1
        lo1 = np.where(k1 == 1, lower, half[0]) * k1
        hi1 = np.where(k1 == 1, upper, half[1]) * k1
        lo2 = np.where(k2 == 1, lower, half[0]) * k2
        hi2 = np.where(k2 == 1, upper, half[1]) * k2
        feasible = (c >= lo1 - 1e-9) & (c <= hi1 + 1e-9) & (m - c >= lo2 - 1e-9) & (m - c <= hi2 + 1e-9)
        score = np.where(feasible, sse_l / k1**SPLIT_EXPONENT + sse_r / k2**SPLIT_EXPONENT, np.inf)
        better = score < best_score
        best_score = np.where(better, score, best_score)
        best_k1 = np.where(better, k1, best_k1)
    if not np.isfinite(best_score).any():
        return None
    j = int(np.argmin(best_score))
    # Plain halving at the block boundary nearest the proportional count, for comparison.
    h1 = kk // 2
    jp = int(np.argmin(np.abs(c - m * h1 / kk)))
    lo_h, hi_h = _band_total(h1, lower, upper, half), _band_total(kk - h1, lower, upper, half)
    if lo_h[0] <= c[jp] <= lo_h[1] and hi_h[0] <= m - c[jp] <= hi_h[1]:
        prop = sse_l[jp] / h1**SPLIT_EXPONENT + sse_r[jp] / (kk - h1) ** SPLIT_EXPONENT
        if best_score[j] >= SPLIT_MARGIN * prop:
            return None
    return int(cuts[j]), int(best_k1[j])


def _band_total(j: int, lower: int, upper: int, half: tuple[float, float]) -> tuple[float, float]:
    """Door counts allowed for a node of j turfs (with a hair of float slack)."""
    lo, hi = (float(lower), float(upper)) if j == 1 else half
    return j * lo - 1e-9, j * hi + 1e-9


def _sse(w: FloatArray, sx: FloatArray, sy: FloatArray, ss: FloatArray) -> FloatArray:
    """Sum of squared distances to the centroid from weight, sums and sum of squares."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, np.maximum(ss - (sx * sx + sy * sy) / w, 0.0), 0.0)


def _wstd(v: FloatArray, w: FloatArray) -> float:
    mean = float(np.average(v, weights=w))
    return float(np.sqrt(np.average((v - mean) ** 2, weights=w)))


def _nearest_cut(
    prefix: IntArray, cuts: IntArray, window: tuple[float, float], t: float
) -> int | None:
    """The cut position (index into prefix) inside `window` nearest the count `t`."""
    if cuts.size == 0 or window[0] > window[1]:
        return None
    counts = prefix[cuts]
    ok = (counts >= window[0]) & (counts <= window[1])
    if not ok.any():
        return None
    cand = cuts[ok]
    return int(cand[np.argmin(np.abs(prefix[cand] - t))])


def _skip_cut(sizes: IntArray, prefix: IntArray, window: tuple[int, int]) -> BoolArray | None:
    """A left side counting inside `window` when one building straddles all of it.

    The straddling building goes to one side and the cut continues past it (skipping any
    further building that would overshoot); tried both ways, the one that displaces fewer
    buildings wins. The displaced buildings sit at the cut, so compactness barely moves.
    """
    lo, hi = window
    n = sizes.size
    j = int(np.searchsorted(prefix, lo, side="left")) - 1  # atom whose span covers lo
    if j < 0 or j >= n:
        return None
    best: tuple[int, BoolArray] | None = None
    # Forward: j goes right, keep filling the left from j+1 on.
    mask = np.zeros(n, dtype=bool)
    mask[:j] = True
    count = int(prefix[j])
    skipped = 1
    for i in range(j + 1, min(n, j + 400)):
        if count >= lo:
            break
        if count + sizes[i] <= hi:
            mask[i] = True
            count += int(sizes[i])
        else:
            skipped += 1
    if lo <= count <= hi:
        best = (skipped, mask)
    # Backward: j goes left, hand atoms before it to the right until the count fits.
    mask_b = np.zeros(n, dtype=bool)
    mask_b[: j + 1] = True
    count = int(prefix[j + 1])
    skipped = 1
    for i in range(j - 1, max(-1, j - 400), -1):
        if count <= hi:
            break
        if count - sizes[i] >= lo:
            mask_b[i] = False
            count -= int(sizes[i])
        else:
            skipped += 1
    if lo <= count <= hi and (best is None or skipped < best[0]):
        best = (skipped, mask_b)
    return None if best is None else best[1]


# ------------------------------------------------------------------ repair and refine


def _neighbours(atoms: _Atoms) -> tuple[IntArray, IntArray]:
    """Edges (a, b) of the adjacency graph: each located atom and its nearest atoms.

    Made symmetric, so "touches another turf" does not depend on which side's
    neighbour list holds the edge. Unlocated atoms have no edges.
    """
    loc = np.flatnonzero(np.isfinite(atoms.x))
    if loc.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    kk = min(NEIGHBOURS + 1, loc.size)
    pts = np.column_stack([atoms.x[loc], atoms.y[loc]])
    _dist, nb = NearestNeighbors(n_neighbors=kk).fit(pts).kneighbors(pts)
    a = np.repeat(loc, kk - 1)
    b = loc[nb[:, 1:]].ravel()
    n = np.int64(atoms.size.size)
    key, _inv = _unique(np.concatenate([a * n + b, b * n + a]))
    return key // n, key % n


def _turf_stats(
    atoms: _Atoms, turf: IntArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    size = _wsum(turf, atoms.size.astype(np.float64), k)
    n = _wsum(turf, atoms.nloc, k)
    sx = _wsum(turf, atoms.sx, k)
    sy = _wsum(turf, atoms.sy, k)
    return size, n, sx, sy


def _candidates(
    turf: IntArray, unit_of_atom: IntArray, edges: tuple[IntArray, IntArray], k: int
) -> tuple[IntArray, IntArray]:
    """(unit, turf) pairs: a movable unit touching another turf in the neighbour graph."""
    src, dst = edges
    diff = turf[src] != turf[dst]
    pairs, _inv = _unique(unit_of_atom[src[diff]] * k + turf[dst[diff]])
    return pairs // k, pairs % k


def _move_cost(
    w: float, px: float, py: float, na: float, ax: float, ay: float, nb: float, bx: float, by: float
) -> float:
    """Change in the sum of squared distances when w doors centred at p move from A to B."""
    if w <= 0 or na - w <= 0:
        return math.inf if na - w <= 0 < w else 0.0
    gain = w * na / (na - w) * ((px - ax / na) ** 2 + (py - ay / na) ** 2)
    cost = w * nb / (nb + w) * ((px - bx / nb) ** 2 + (py - by / nb) ** 2) if nb > 0 else 0.0
    return cost - gain


def _repair(
    atoms: _Atoms, turf: IntArray, edges: tuple[IntArray, IntArray], k: int, lower: int, upper: int
) -> IntArray:
    """Move buildings across turf borders until every turf is within tolerance.

    Only needed when bisection met a node it could not cut within tolerance (buildings
    too big for the slack). Every step must lower the total violation (doors outside
    [lower, upper], summed over turfs) and leave turfs that were within it within it:
    first single moves to an adjacent turf (nearest its centroid first), then swaps of
    two buildings between adjacent turfs (which transfer the difference of their sizes),
    then chains that push one building on through full turfs to the nearest turf with
    room. Balance with buildings is a packing problem; this is a local search, so a
    feasible balance can still be missed (`TurfCut.out_of_tolerance` says so).
    """
    turf = turf.copy()
    size = _wsum(turf, atoms.size, k)
    for _ in range(MAX_REPAIR_PASSES):
        bad = (size < lower) | (size > upper)
        if not bad.any():
            break
        cu, ct = _candidates(turf, np.arange(turf.size), edges, k)
        if cu.size == 0:
            break
        step = _Repair(atoms, turf, size, cu, ct, k, lower, upper)
        if not (step.moves() or step.swaps() or step.chains()):
            break
    return turf


class _Repair:
    """One pass of `_repair` over the current (turf, size) arrays, which it updates."""

    def __init__(
        self, atoms: _Atoms, turf: IntArray, size: FloatArray, cu: IntArray, ct: IntArray,
        k: int, lower: int, upper: int,
    ) -> None:
        self.atoms, self.turf, self.size, self.k = atoms, turf, size, k
        self.lower, self.upper = lower, upper
        self.cu, self.ct = cu, ct
        n = _wsum(turf, atoms.nloc, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.cx = _wsum(turf, atoms.sx, k) / n
            self.cy = _wsum(turf, atoms.sy, k) / n

    def v(self, s: float) -> float:
        return max(0.0, s - self.upper) + max(0.0, self.lower - s)

    def _move(self, a: int, b: int) -> None:
        w = float(self.atoms.size[a])
        self.size[self.turf[a]] -= w
        self.size[b] += w
        self.turf[a] = b

    def _ok(self, t: int, new_size: float) -> bool:
        """A turf within tolerance stays within; one outside must not get worse."""
        before = self.v(float(self.size[t]))
        return self.v(new_size) <= before if before > 0 else self.lower <= new_size <= self.upper

    def moves(self) -> int:
        bad = (self.size < self.lower) | (self.size > self.upper)
        keep = bad[self.turf[self.cu]] | bad[self.ct]
        cu, ct = self.cu[keep], self.ct[keep]
        with np.errstate(invalid="ignore"):
            d = (self.atoms.x[cu] - self.cx[ct]) ** 2 + (self.atoms.y[cu] - self.cy[ct]) ** 2
        done = 0
        for a, b in zip(cu[np.argsort(d, kind="stable")].tolist(), ct[np.argsort(d, kind="stable")].tolist(), strict=True):
            src = int(self.turf[a])
            if src == b:
                continue
            w = float(self.atoms.size[a])
            sa, sb = float(self.size[src]), float(self.size[b])
            if sa - w < 1 or self.v(sa - w) + self.v(sb + w) >= self.v(sa) + self.v(sb):
                continue
            if not (self._ok(src, sa - w) and self._ok(b, sb + w)):
                continue
            self._move(a, b)
            done += 1
        return done

    def _border(self, a_turf: int, b_turf: int, limit: int = 60) -> IntArray:
        """Atoms of a_turf touching b_turf, nearest b_turf's centroid first."""
        sel = self.cu[(self.turf[self.cu] == a_turf) & (self.ct == b_turf)]
        with np.errstate(invalid="ignore"):
            d = (self.atoms.x[sel] - self.cx[b_turf]) ** 2 + (self.atoms.y[sel] - self.cy[b_turf]) ** 2
        return sel[np.argsort(d, kind="stable")[:limit]]

    def swaps(self) -> int:
        done = 0
        for a_t in np.flatnonzero((self.size < self.lower) | (self.size > self.upper)).tolist():
            if self.lower <= self.size[a_t] <= self.upper:
                continue
            for b_t in np.unique(self.ct[self.turf[self.cu] == a_t]).tolist():
                xa, xb = self._border(a_t, b_t), self._border(b_t, a_t)
                if xa.size == 0 or xb.size == 0:
                    continue
                net = self.atoms.size[xa][:, None] - self.atoms.size[xb][None, :]  # A loses net
                sa, sb = float(self.size[a_t]), float(self.size[b_t])
                before = self.v(sa) + self.v(sb)
                new_a, new_b = sa - net, sb + net
                after = (np.maximum(0, new_a - self.upper) + np.maximum(0, self.lower - new_a)
                         + np.maximum(0, new_b - self.upper) + np.maximum(0, self.lower - new_b))
                ok_b = (new_b >= self.lower) & (new_b <= self.upper) if self.v(sb) == 0 else np.ones_like(after, bool)
                gain = np.where((after < before) & ok_b & (new_a >= 1), before - after, 0.0)
                if gain.max() <= 0:
                    continue
                i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
                a, b = int(xa[i]), int(xb[j])
                self._move(a, b_t)
                self._move(b, a_t)
                done += 1
                break
        return done

    def chains(self) -> int:
        """Push one building at a time along the shortest path of turfs to one with room."""
        graph: dict[int, list[int]] = {}
        for s, t in zip(self.turf[self.cu].tolist(), self.ct.tolist(), strict=True):
            graph.setdefault(s, []).append(t)
        for s in graph:
            graph[s] = sorted(set(graph[s]))
        done = 0
        for t0 in np.flatnonzero((self.size < self.lower) | (self.size > self.upper)).tolist():
            over = self.size[t0] > self.upper
            if not over and self.size[t0] >= self.lower:
                continue
            # Over-full: find the nearest turf with room and push towards it. Under-full:
            # find the nearest with doors to spare and push from it towards t0.
            path = self._bfs(graph, t0, (lambda t: self.size[t] < self.upper) if over else (lambda t: self.size[t] > self.lower))
            if path is None:
                continue
            if not over:
                path = path[::-1]
            if self._push(path):
                done += 1
        return done

    def _bfs(self, graph: dict[int, list[int]], start: int, goal: Callable[[int], bool]) -> list[int] | None:
        prev = {start: start}
        queue = [start]
        for t in queue:
            for u in graph.get(t, []):
                if u in prev:
                    continue
                prev[u] = t
                if goal(u):
                    path = [u]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1]
                queue.append(u)
        return None

    def _push(self, path: list[int]) -> bool:
        """Move a building from path[i] to path[i+1] for every i; keep it if it helps."""
        turf0, size0 = self.turf.copy(), self.size.copy()
        before = sum(self.v(float(s)) for s in self.size)
        incoming = 0.0
        for i in range(len(path) - 1):
            src, dst = path[i], path[i + 1]
            cand = self._border(src, dst)
            cand = cand[self.turf[cand] == src]
            if cand.size == 0:
                break
            w = self.atoms.size[cand].astype(np.float64)
            # Prefer what keeps src where it should be, then the size closest to what came in.
            left = float(self.size[src]) - w
            healthy = self.v(float(size0[src])) == 0
            fit = (left >= self.lower) & (left <= self.upper) if healthy or i > 0 else left >= 1
            if not fit.any():
                break
            pick = int(cand[np.flatnonzero(fit)[np.argmin(np.abs(w[fit] - (incoming or w[fit].min())))]])
            incoming = float(self.atoms.size[pick])
            self._move(pick, dst)
        after = sum(self.v(float(s)) for s in self.size)
        kept_healthy = all(self.v(float(self.size[t])) == 0 for t in path if self.v(float(size0[t])) == 0)
        if after < before and kept_healthy:
            return True
        self.turf[:] = turf0
        self.size[:] = size0
        return False


def _refine(atoms: _Atoms, turf: IntArray, edges: tuple[IntArray, IntArray], k: int, lower: int, upper: int) -> IntArray:
    """Move block pieces between adjacent turfs while that lowers the squared-distance sum.

    A piece is the part of one street block inside one turf; it moves whole, so blocks
    are never split further (and a split block re-joins when its piece moves over).
    Moves are applied greedily, best first, each re-costed against the current turf
    centroids so that two moves in one pass cannot undo each other's gain. A move may
    not add a change of turf along the piece's street (no island of B inside A's run),
    which keeps walk sheets to whole runs of each street.
    """
    turf = turf.copy()
    size, n, sx, sy = _turf_stats(atoms, turf, k)
    # Total squared distance = (constant sum of |p|^2) - sum over turfs of |S|^2 / n.
    pts = np.isfinite(atoms.x)
    const = float(np.sum(atoms.nloc[pts] * (atoms.x[pts] ** 2 + atoms.y[pts] ** 2)))
    for _ in range(MAX_REFINE_PASSES):
        pkey, piece_of_atom = _unique(atoms.block * k + turf)
        piece_of_atom = piece_of_atom.ravel()
        p_turf = pkey % k
        n_pieces = pkey.size
        p_w = _wsum(piece_of_atom, atoms.size.astype(np.float64), n_pieces)
        p_n = _wsum(piece_of_atom, atoms.nloc, n_pieces)
        p_sx = _wsum(piece_of_atom, atoms.sx, n_pieces)
        p_sy = _wsum(piece_of_atom, atoms.sy, n_pieces)
        prev_p, next_p = _street_neighbours(atoms, piece_of_atom, n_pieces)
        cp, ct = _candidates(turf, piece_of_atom, edges, k)
        src = p_turf[cp]
        # Vectorised first costing to pick the promising moves; re-costed one by one below.
        w = p_n[cp]
        ok = (w > 0) & (size[src] - p_w[cp] >= lower) & (size[ct] + p_w[cp] <= upper) & (n[src] > w)
        ok &= _street_changes(p_turf, prev_p[cp], next_p[cp], ct) <= _street_changes(
            p_turf, prev_p[cp], next_p[cp], src
        )
        cp, ct, src, w = cp[ok], ct[ok], src[ok], w[ok]
        px, py = p_sx[cp] / w, p_sy[cp] / w
        na, nb = n[src], n[ct]
        with np.errstate(invalid="ignore", divide="ignore"):
            gain = w * na / (na - w) * ((px - sx[src] / na) ** 2 + (py - sy[src] / na) ** 2)
            cost = np.where(nb > 0, w * nb / (nb + w) * ((px - sx[ct] / nb) ** 2 + (py - sy[ct] / nb) ** 2), 0.0)
        delta = cost - gain
        good = delta < -1e-6
        if not good.any():
            break
        order = np.argsort(delta[good], kind="stable")
        moved_piece = np.zeros(n_pieces, dtype=bool)
        new_turf = p_turf.copy()
        moves = 0
        improvement = 0.0
        for p, b in zip(cp[good][order].tolist(), ct[good][order].tolist(), strict=True):
            if moved_piece[p]:
                continue
            a = int(new_turf[p])
            pw, pn = float(p_w[p]), float(p_n[p])
            if size[a] - pw < lower or size[b] + pw > upper or n[a] - pn <= 0:
                continue
            # Never create a new change of turf along the street (an island of B in A).
            tp = int(new_turf[prev_p[p]]) if prev_p[p] >= 0 else -1
            tq = int(new_turf[next_p[p]]) if next_p[p] >= 0 else -1
            if (tp >= 0 and tp != b) + (tq >= 0 and tq != b) > (tp >= 0 and tp != a) + (tq >= 0 and tq != a):
                continue
            d = _move_cost(pn, p_sx[p] / pn, p_sy[p] / pn, n[a], sx[a], sy[a], n[b], sx[b], sy[b])
            if d >= -1e-6:
                continue
            moved_piece[p] = True
            new_turf[p] = b
            size[a] -= pw
            size[b] += pw
            n[a] -= pn
            n[b] += pn
            sx[a] -= p_sx[p]
            sx[b] += p_sx[p]
            sy[a] -= p_sy[p]
            sy[b] += p_sy[p]
            moves += 1
            improvement -= d
        turf = new_turf[piece_of_atom]
        with np.errstate(invalid="ignore", divide="ignore"):
            current = const - float(np.sum(np.where(n > 0, (sx**2 + sy**2) / n, 0.0)))
        # Later passes buy little (measured: < 0.3% after ten); stop below 0.1% a pass.
        if moves == 0 or improvement < REFINE_MIN_GAIN * max(current, 1e-9):
            break
    return turf


def _street_neighbours(atoms: _Atoms, piece_of_atom: IntArray, n_pieces: int) -> tuple[IntArray, IntArray]:
    """The previous and next piece along the same street (by house number), or -1."""
    street = np.full(n_pieces, -1, np.int64)
    street[piece_of_atom] = atoms.street
    ok = np.isfinite(atoms.hn)
    w = _wsum(piece_of_atom, (atoms.size * ok).astype(np.float64), n_pieces)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_hn = _wsum(piece_of_atom, np.where(ok, atoms.hn * atoms.size, 0.0), n_pieces) / w
    order = np.lexsort((np.arange(n_pieces), mean_hn, street))
    so = street[order]
    prev_p = np.full(n_pieces, -1, np.int64)
    next_p = np.full(n_pieces, -1, np.int64)
    same = (so[1:] == so[:-1]) & (so[1:] >= 0)
    prev_p[order[1:][same]] = order[:-1][same]
    next_p[order[:-1][same]] = order[1:][same]
    return prev_p, next_p


def _street_changes(p_turf: IntArray, prev_p: IntArray, next_p: IntArray, turf: IntArray) -> IntArray:
    """Turf changes next to a piece along its street if the piece were in `turf`."""
    tp = np.where(prev_p >= 0, p_turf[prev_p], -1)
    tq = np.where(next_p >= 0, p_turf[next_p], -1)
    return ((tp >= 0) & (tp != turf)).astype(np.int64) + ((tq >= 0) & (tq != turf)).astype(np.int64)


# ------------------------------------------------------------------------- walk order


def _walk_sequence(df: pl.DataFrame, turf: IntArray) -> IntArray:
    """seq (1..n within each turf) for every row of `df` (sorted by door_id), all turfs at once.

    Sorting does the per-door work in columns; only the tour over street segments (a few
    dozen per turf) is a Python loop.
    """
    n = df.height
    x, y = _project_per_turf(df["lat"].to_numpy(), df["lon"].to_numpy(), turf)
    hn = df["house_number"]
    street_null = df["street"].is_null().to_numpy()
    hn_null = hn.is_null().to_numpy()
    # 0: numbered door on a street; 1: on a street, no number; 2: no street.
    cls = np.where(street_null, 2, np.where(hn_null, 1, 0))
    hn_v = hn.fill_null(0).to_numpy()
    even = (hn_v % 2 == 0) & (cls == 0)
    w = pl.DataFrame(
        {
            "row": np.arange(n),
            "turf": turf,
            "cls": cls,
            "street": df["street"].fill_null(""),
            "hn": hn_v,
            "urank": _unit_rank(df["unit"]),
            "door_id": df["door_id"],
        }
    ).sort("turf", "cls", "street", "hn", "urank", "door_id")
    row = w["row"].to_numpy()
    t_s = w["turf"].to_numpy()
    c_s = w["cls"].to_numpy()
    st_s = w["street"].to_numpy()
    hn_s = w["hn"].to_numpy()
    xs, ys = x[row], y[row]
    # Segment boundaries: new turf / class / street, an empty block, or a long jump.
    brk = np.ones(n, dtype=bool)
    if n > 1:
        same = (t_s[1:] == t_s[:-1]) & (c_s[1:] == c_s[:-1]) & (st_s[1:] == st_s[:-1])
        gap_block = (c_s[1:] == 0) & (hn_s[1:] // 100 - hn_s[:-1] // 100 >= 2)
        with np.errstate(invalid="ignore"):
            jump = np.hypot(xs[1:] - xs[:-1], ys[1:] - ys[:-1]) > SEGMENT_GAP_M
        # Each street-less door is a stop of its own (toured after the streets).
        brk[1:] = ~same | (c_s[1:] == 2) | gap_block | (jump & (c_s[1:] == 0))
    seg = np.cumsum(brk) - 1
    n_seg = int(seg[-1]) + 1
    # Within a segment: odd side up, even side back down, units of a building together.
    side = even[row].astype(np.int64)
    signed_hn = np.where(side == 1, -hn_s, hn_s)
    within = np.lexsort((w["door_id"].to_numpy(), w["urank"].to_numpy(), signed_hn, side, seg))
    # `within` orders rows by segment first; position of each row inside that order.
    first_of_seg = np.flatnonzero(np.concatenate([[True], seg[within][1:] != seg[within][:-1]]))
    ok = np.isfinite(xs[within])
    # Start / end point of each segment: its first / last located door in walk order.
    seg_w = seg[within]
    start_x = np.full(n_seg, np.nan)
    start_y = np.full(n_seg, np.nan)
    end_x = np.full(n_seg, np.nan)
    end_y = np.full(n_seg, np.nan)
    loc_idx = np.flatnonzero(ok)
    if loc_idx.size:
        ls = seg_w[loc_idx]
        firsts = loc_idx[np.concatenate([[True], ls[1:] != ls[:-1]])]
        lasts = loc_idx[np.concatenate([ls[1:] != ls[:-1], [True]])]
        start_x[seg_w[firsts]] = xs[within][firsts]
        start_y[seg_w[firsts]] = ys[within][firsts]
        end_x[seg_w[lasts]] = xs[within][lasts]
        end_y[seg_w[lasts]] = ys[within][lasts]
    first_rows = within[first_of_seg]  # a representative sorted-row index per segment
    seg_turf = t_s[first_rows]
    seg_cls = c_s[first_rows]
    seg_street = st_s[first_rows]
    rank = _tour(seg_turf, seg_cls, seg_street, start_x, start_y, end_x, end_y)
    final = np.lexsort((np.arange(n), rank[seg[within]], t_s[within]))
    ordered = within[final]
    seq_sorted = np.empty(n, np.int64)
    turf_o = t_s[ordered]
    starts = np.concatenate([[True], turf_o[1:] != turf_o[:-1]]) if n else np.zeros(0, bool)
    pos = np.arange(n)
    seq_sorted[ordered] = pos - np.maximum.accumulate(np.where(starts, pos, 0)) + 1
    out = np.empty(n, np.int64)
    out[row] = seq_sorted
    return out


def _tour(
    seg_turf: IntArray, seg_cls: IntArray, seg_street: npt.NDArray[np.object_],
    sx: FloatArray, sy: FloatArray, ex: FloatArray, ey: FloatArray,
) -> IntArray:
    """Visiting rank of every segment within its turf (segments come grouped by turf).

    Greedy nearest neighbour from the segment start nearest the turf's north-west corner;
    each segment ends where its walk ends. A street's no-number doors follow its last
    visited segment; street segments with no coordinates come after the located ones, in
    street order; then the street-less doors, nearest next from where the streets ended,
    the unlocated ones last.
    """
    n_seg = seg_turf.size
    rank = np.zeros(n_seg, np.int64)
    bounds = np.flatnonzero(np.concatenate([[True], seg_turf[1:] != seg_turf[:-1], [True]]))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        ids = np.arange(lo, hi)
        cls = seg_cls[ids]
        numbered_streets = set(seg_street[ids][cls == 0].tolist())
        tail = (cls == 1) & np.asarray([st in numbered_streets for st in seg_street[ids].tolist()], dtype=bool)
        tour_ids = ids[(cls == 0) | ((cls == 1) & ~tail)]
        order = _greedy(tour_ids[np.isfinite(sx[tour_ids])], sx, sy, ex, ey, None)
        order.extend(tour_ids[~np.isfinite(sx[tour_ids])].tolist())  # already in street order
        # Tails (no-number doors) right after the last visited segment of their street.
        tails_by_street = {str(seg_street[s]): int(s) for s in ids[tail].tolist()}
        last_of_street: dict[str, int] = {}
        for i, s in enumerate(order):
            last_of_street[str(seg_street[s])] = i
        slots: list[list[int]] = [[s] for s in order]
        for street, s in tails_by_street.items():
            slots[last_of_street[street]].append(s)
        flat = [s for slot in slots for s in slot]
        loose = ids[cls == 2]
        ended = [s for s in flat if np.isfinite(ex[s])]
        here = (float(ex[ended[-1]]), float(ey[ended[-1]])) if ended else None
        flat.extend(_greedy(loose[np.isfinite(sx[loose])], sx, sy, ex, ey, here))
        flat.extend(loose[~np.isfinite(sx[loose])].tolist())
        rank[np.asarray(flat, dtype=np.int64)] = np.arange(len(flat))
    return rank


def _greedy(
    ids: IntArray, sx: FloatArray, sy: FloatArray, ex: FloatArray, ey: FloatArray,
    start: tuple[float, float] | None,
) -> list[int]:
    """Nearest-next order of segments `ids`, from `start` or the north-west corner."""
    if ids.size == 0:
        return []
    px, py = sx[ids], sy[ids]
    if start is None:
        d = (px - px.min()) ** 2 + (py - py.max()) ** 2
    else:
        d = (px - start[0]) ** 2 + (py - start[1]) ** 2
    cur = int(np.argmin(d))
    visited = np.zeros(ids.size, dtype=bool)
    order: list[int] = []
    for _ in range(ids.size):
        visited[cur] = True
        order.append(int(ids[cur]))
        if visited.all():
            break
        d = (px - ex[ids[cur]]) ** 2 + (py - ey[ids[cur]]) ** 2
        d[visited] = np.inf
        cur = int(np.argmin(d))
    return order


# ------------------------------------------------------------------------------ result


def _result(
    df: pl.DataFrame, turf: IntArray, k: int, target: int, tolerance: float,
    lower: int, upper: int, seed: int, split_buildings: int, out_of_tolerance: int,
) -> TurfCut:
    if df.height == 0:
        empty = pl.DataFrame(
            schema={"door_id": pl.Int64, "turf": pl.Int64, "seq": pl.Int64, "lat": pl.Float64,
                    "lon": pl.Float64, "coord_source": pl.Utf8}
        )
        turfs = pl.DataFrame(
            schema={"turf": pl.Int64, "doors": pl.Int64, "lat": pl.Float64, "lon": pl.Float64,
                    "compactness_m": pl.Float64, "walk_m": pl.Float64, "unlocated": pl.Int64}
        )
        return TurfCut(empty, turfs, 0, target, tolerance, lower, upper, seed, 0, 0, 0)
    seq = _walk_sequence(df, turf)
    x, y = _project(df["lat"].to_numpy(), df["lon"].to_numpy())
    assignments = pl.DataFrame(
        {
            "door_id": df["door_id"],
            "turf": turf,
            "seq": seq,
            "lat": df["lat"],
            "lon": df["lon"],
            "coord_source": df["coord_source"],
        }
    ).sort("turf", "seq")
    lat = df["lat"].to_numpy()
    lon = df["lon"].to_numpy()
    ok = np.isfinite(lat)
    cnt = np.bincount(turf[ok], minlength=k).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_lat = _wsum(turf[ok], lat[ok], k) / cnt
        c_lon = _wsum(turf[ok], lon[ok], k) / cnt
    comp = compactness(lat, lon, turf)
    if comp.size < k:
        comp = np.concatenate([comp, np.full(k - comp.size, np.nan)])
    # Walk length: straight lines between consecutive located doors of the sequence.
    t_o = assignments["turf"].to_numpy()
    order_rows = _rows_in(df["door_id"].to_numpy(), assignments["door_id"].to_numpy())
    xo, yo = x[order_rows], y[order_rows]
    walk = np.zeros(k)
    if t_o.size > 1:
        step = np.hypot(np.diff(xo), np.diff(yo))
        same = (t_o[1:] == t_o[:-1]) & np.isfinite(step)
        walk = _wsum(t_o[1:][same], step[same], k)
    block_split = _split_blocks(df, turf)
    turfs = pl.DataFrame(
        {
            "turf": np.arange(k),
            "doors": np.bincount(turf, minlength=k),
            "lat": c_lat,
            "lon": c_lon,
            "compactness_m": comp[:k],
            "walk_m": walk,
            "unlocated": np.bincount(turf[~ok], minlength=k),
        }
    ).with_columns(pl.col("lat", "lon", "compactness_m").fill_nan(None))
    return TurfCut(
        assignments=assignments, turfs=turfs, k=k, target=target, tolerance=tolerance,
        lower=lower, upper=upper, seed=seed, split_buildings=split_buildings,
        split_blocks=block_split, out_of_tolerance=out_of_tolerance,
    )


def _rows_in(sorted_ids: IntArray, ids: IntArray) -> IntArray:
    """Row positions of `ids` in `sorted_ids` (ascending, unique)."""
    return np.searchsorted(sorted_ids, ids)


def _split_blocks(df: pl.DataFrame, turf: IntArray) -> int:
    frame = pl.DataFrame(
        {"street": df["street"], "zip": df["zip_key"],
         "blk": df["house_number"] // 100, "turf": turf}
    ).drop_nulls(["street", "blk"])
    return int(
        frame.group_by("street", "zip", "blk").agg(pl.col("turf").n_unique().alias("t"))
        .filter(pl.col("t") > 1).height
    )
