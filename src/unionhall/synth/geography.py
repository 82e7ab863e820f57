"""Geography of the fictional state: counties, towns, ZIPs, precincts, districts, streets.

Layout model (so walk order and turf cutting have something real to work on):

* The state is a rectangle of county cells; each county cell is a grid of precinct
  cells. A precinct belongs to one town (or to the unincorporated part of a county).
* Each precinct has its own streets. A street runs east-west or north-south from an
  origin inside its precinct cell, in blocks of 100 house numbers. Odd numbers are on
  the north/east side, even numbers on the south/west side, offset 12 m from the
  centre line; latitude/longitude grow with the house number along the street.
* Town precincts have dense blocks and apartment buildings (one street address, many
  units); rural precincts have long roads with few, widely spaced houses.

Counties take real North Carolina county names and ids (the official layout's code
table) so the files validate against it; towns, streets, ZIPs and districts are made up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from unionhall.elections.nc_layout import ncvoter_layout
from unionhall.synth._common import rng_for
from unionhall.synth.names import surnames

# The state's frame: roughly North Carolina's latitude band.
STATE_LAT0, STATE_LON0 = 34.0, -84.0
COUNTY_H_DEG, COUNTY_W_DEG = 0.35, 0.45
M_PER_DEG_LAT = 111_000.0
M_PER_DEG_LON = 91_000.0  # at ~35 degrees north
BLOCK_M_TOWN = 110.0
BLOCK_M_RURAL = 450.0
SIDE_OFFSET_M = 12.0
HOUSEHOLDS_PER_PRECINCT = 1_100

STREET_WORDS = (
    "OAK", "MAPLE", "PINE", "CEDAR", "ELM", "WILLOW", "BIRCH", "DOGWOOD", "MAGNOLIA",
    "HICKORY", "POPLAR", "SYCAMORE", "CHESTNUT", "WALNUT", "CHERRY", "HOLLY", "LAUREL",
    "IVY", "MILL", "CHURCH", "SCHOOL", "MARKET", "MAIN", "HIGH", "BRIDGE", "SPRING",
    "LAKE", "RIVER", "CREEK", "HILL", "RIDGE", "VALLEY", "MEADOW", "FOREST", "PARK",
    "GROVE", "ORCHARD", "FIELD", "STONE", "ROCK", "SUMMIT", "SUNSET", "SUNRISE",
    "HARBOR", "BAY", "SHORE", "MOUNTAIN", "PIEDMONT", "TOBACCO", "COTTON", "DEPOT",
    "RAILROAD", "UNION", "LIBERTY", "HOPE", "PROVIDENCE", "PLEASANT", "FAIRVIEW",
    "GREENWOOD", "WOODLAND", "BROOK", "FOX", "DEER", "QUAIL", "HAWK", "EAGLE",
    "CARDINAL", "BLUEBIRD", "ROBIN", "WREN", "HERON", "CANAL", "FERRY", "COLLEGE",
    "ACADEMY", "CAPITAL", "CENTRAL", "FRANKLIN", "JEFFERSON", "MADISON", "MONROE",
    "JACKSON", "LINCOLN", "GRANT", "HARRISON", "TYLER", "POLK", "PIERCE", "HAYES",
)
STREET_TYPES_TOWN = ("ST", "AVE", "DR", "LN", "CT", "WAY", "PL", "CIR", "BLVD", "TER")
STREET_TYPES_RURAL = ("RD", "RD", "RD", "HWY", "TRL", "LOOP", "PKWY")
TOWN_STEMS = (
    "OAK", "PINE", "CEDAR", "MAPLE", "ASH", "ELM", "STONE", "CLEAR", "FAIR", "GREEN",
    "SPRING", "MILL", "RED", "WHITE", "BLUE", "RICH", "HOLLY", "LAUREL", "RIVER", "LAKE",
    "HIGH", "BELL", "BROOK", "WOOD", "FOX", "MOUNT", "SHADY", "SILVER", "GOLD", "IRON",
    "COPPER", "MAPLE", "WALNUT", "BIRCH", "CHERRY", "ROSE", "SUMMER", "WINTER", "EAST",
    "WEST", "NORTH", "SOUTH", "CROSS", "BRIDGE", "HARBOR", "SAND", "CLAY", "COTTON",
)
TOWN_ENDINGS = (
    "VILLE", " SPRINGS", "BORO", " CREEK", "TON", " HILL", " GROVE", "FIELD", " CITY",
    " FORK", " MILLS", " CROSSROADS", "DALE", " RIDGE", " JUNCTION", "WOOD", " BEACH",
)
POLL_KINDS = (
    "{word} BAPTIST CHURCH", "{town} ELEMENTARY SCHOOL", "{town} COMMUNITY CENTER",
    "{word} UNITED METHODIST CHURCH", "{town} FIRE STATION {n}", "{word} RECREATION CENTER",
    "{town} PUBLIC LIBRARY", "{word} MIDDLE SCHOOL", "{town} MASONIC LODGE",
    "{word} PRESBYTERIAN CHURCH", "{town} HIGH SCHOOL", "{word} VOLUNTEER FIRE DEPARTMENT",
)


@dataclass
class Geography:
    """All geographic tables. Ids are row positions in each table."""

    counties: pl.DataFrame  # county_idx, county_id, county_desc, lat0, lon0, area_code
    towns: pl.DataFrame  # town_idx, county_idx, town_name, is_municipality, abbrv
    precincts: pl.DataFrame  # precinct_idx, county_idx, town_idx, zip, precinct_abbrv, ... districts
    addresses: pl.DataFrame  # address_idx, precinct_idx, house_number, street, unit, lat, lon, ...
    polling_places: pl.DataFrame  # precinct_idx, polling_place_id, name, house_num, street, city, zip


def _town_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [s + e for s in TOWN_STEMS for e in TOWN_ENDINGS]
    order = rng.permutation(len(combos))
    out: list[str] = []
    seen: set[str] = set()
    for i in order:
        name = combos[i]
        if name not in seen:
            seen.add(name)
            out.append(name)
        if len(out) == n:
            break
    k = 0
    while len(out) < n:  # very large states: add "NEW " / "EAST " variants
        out.append(f"{('NEW', 'EAST', 'WEST', 'NORTH', 'SOUTH')[k % 5]} {out[k]}")
        k += 1
    return out


def _street_bases() -> list[str]:
    # Real street names are heavily surnames ("JOHNSON RD"); take the commonest ones.
    common = [str(s) for s in surnames().names[:400]]
    return list(STREET_WORDS) + [s for s in common if s not in STREET_WORDS]


def build_geography(seed: int, n_counties: int, n_households: int) -> Geography:
    """Lay out counties, towns, precincts, districts and address slots.

    `n_households` is the number of occupied addresses (house or apartment unit) to
    create; households are placed on them later.
    """
    rng = rng_for(seed, "geography")
    county_codes = ncvoter_layout().codes["county_id"]
    # Yancey's id is printed as "00" in the layout's table; leave it out rather than
    # write an id the importer would have to special-case.
    real = [(cid, name) for cid, name in county_codes.items() if cid != "00"]
    pick = np.sort(rng.choice(len(real), size=n_counties, replace=False))
    chosen = [real[i] for i in pick]

    # County populations: a few big urban counties and many small ones.
    weights = 1.0 / np.arange(1, n_counties + 1) ** 0.9
    weights = weights[rng.permutation(n_counties)]
    weights /= weights.sum()
    county_households = np.maximum(50, np.round(weights * n_households)).astype(np.int64)
    county_households[np.argmax(county_households)] += n_households - county_households.sum()

    ncols = int(np.ceil(np.sqrt(n_counties * 2.5)))
    area_codes = np.array(["919", "704", "336", "252", "910", "828", "984", "980", "743"])
    counties = pl.DataFrame(
        {
            "county_idx": np.arange(n_counties),
            "county_id": [c[0] for c in chosen],
            "county_desc": [c[1] for c in chosen],
            "lat0": STATE_LAT0 + (np.arange(n_counties) // ncols) * COUNTY_H_DEG,
            "lon0": STATE_LON0 + (np.arange(n_counties) % ncols) * COUNTY_W_DEG,
            "households": county_households,
            "area_code": area_codes[(np.arange(n_counties) % ncols) * len(area_codes) // ncols],
        }
    )

    # Towns: a county seat plus 0-4 smaller towns, bigger counties having more.
    towns_per_county = np.clip(1 + np.round(weights * n_counties * 1.5), 1, 5).astype(np.int64)
    n_towns = int(towns_per_county.sum())
    town_names = _town_names(rng, n_towns)
    town_county = np.repeat(np.arange(n_counties), towns_per_county)
    town_rank = np.concatenate([np.arange(k) for k in towns_per_county])
    towns = pl.DataFrame(
        {
            "town_idx": np.arange(n_towns),
            "county_idx": town_county,
            "town_name": town_names,
            "town_rank": town_rank,
        }
    )

    # Precincts per county; about 30% of precincts in each county are rural.
    prec_per_county = np.maximum(2, np.round(county_households / HOUSEHOLDS_PER_PRECINCT)).astype(np.int64)
    n_prec = int(prec_per_county.sum())
    prec_county = np.repeat(np.arange(n_counties), prec_per_county)
    prec_rank = np.concatenate([np.arange(k) for k in prec_per_county])
    rural = np.zeros(n_prec, dtype=bool)
    town_of = np.zeros(n_prec, dtype=np.int64)
    first_town = np.concatenate([[0], np.cumsum(towns_per_county)[:-1]])
    for c in range(n_counties):
        idx = np.flatnonzero(prec_county == c)
        k = idx.size
        n_rural = max(1, round(k * 0.3)) if k > 2 else 1
        rural_sel = idx[k - n_rural :]
        rural[rural_sel] = True
        # Town precincts: the seat takes about half, the rest share the remainder.
        nt = int(towns_per_county[c])
        tw = 0.5 ** np.arange(nt)
        town_pick = rng.choice(nt, size=k, p=tw / tw.sum())
        town_pick[0] = 0
        town_of[idx] = first_town[c] + town_pick
    # Households per precinct: rural precincts are smaller.
    share = np.where(rural, 0.6, 1.0) * rng.uniform(0.8, 1.2, n_prec)
    prec_households = np.zeros(n_prec, dtype=np.int64)
    for c in range(n_counties):
        idx = np.flatnonzero(prec_county == c)
        s = share[idx] / share[idx].sum()
        h = np.floor(s * county_households[c]).astype(np.int64)
        h[: int(county_households[c] - h.sum())] += 1
        prec_households[idx] = h

    # Precinct cells inside the county cell.
    cells_side = np.ceil(np.sqrt(prec_per_county)).astype(np.int64)
    side = cells_side[prec_county]
    cell_h = COUNTY_H_DEG / side
    cell_w = COUNTY_W_DEG / side
    c_lat0 = counties["lat0"].to_numpy()[prec_county] + (prec_rank // side) * cell_h
    c_lon0 = counties["lon0"].to_numpy()[prec_county] + (prec_rank % side) * cell_w

    # ZIP codes: each town gets ZIPs for its precincts in runs of up to six precincts;
    # rural precincts share a rural ZIP per county. Numbered upward from 27006.
    zip_of = np.zeros(n_prec, dtype=np.int64)
    next_zip = 27006
    for c in range(n_counties):
        idx = np.flatnonzero(prec_county == c)
        for t in np.unique(town_of[idx][~rural[idx]]):
            tidx = idx[(town_of[idx] == t) & ~rural[idx]]
            for j in range(0, tidx.size, 6):
                zip_of[tidx[j : j + 6]] = next_zip
                next_zip += int(rng.integers(1, 4))
        zip_of[idx[rural[idx]]] = next_zip
        next_zip += int(rng.integers(2, 6))
    # Rural precincts take the mailing city of the county seat area's nearest town.
    county_desc = counties["county_desc"].to_numpy()
    prec_abbrv = np.array([f"{county_desc[c][:2]}{r + 1:02d}" for c, r in zip(prec_county, prec_rank, strict=True)], dtype=object)
    town_name_arr = np.asarray(town_names, dtype=object)
    prec_desc = np.where(
        rural,
        np.array([f"{county_desc[c]} RURAL {r + 1}" for c, r in zip(prec_county, prec_rank, strict=True)], dtype=object),
        np.array([f"{town_name_arr[t]} {r + 1}" for t, r in zip(town_of, prec_rank, strict=True)], dtype=object),
    )

    # Districts: cut precincts ordered west to east (then south to north) into runs of
    # equal households, which keeps districts contiguous bands.
    centre_lon = c_lon0 + cell_w / 2
    centre_lat = c_lat0 + cell_h / 2
    order = np.lexsort((centre_lat, np.round(centre_lon, 1)))
    ordered_hh = prec_households[order]
    start = (np.cumsum(ordered_hh) - ordered_hh) / max(1, int(prec_households.sum()))

    def districts(n: int) -> np.ndarray:
        d = np.zeros(n_prec, dtype=np.int64)
        d[order] = np.minimum(n - 1, np.floor(start * n).astype(np.int64))
        return d + 1

    total_hh = n_households
    n_cd = int(np.clip(round(total_hh / 45_000), 2, 14))
    n_sen = int(np.clip(round(total_hh / 18_000), 3, 50))
    n_house = int(np.clip(round(total_hh / 7_000), 5, 120))
    cong = districts(n_cd)
    senate = districts(n_sen)
    house = districts(n_house)
    # Judicial/prosecutorial districts group neighbouring counties in pairs.
    judicial = prec_county // 2 + 1

    is_muni = ~rural
    town_abbrv = np.array([n[:4].replace(" ", "") for n in town_names], dtype=object)
    # Towns that are the county seat of big counties have wards.
    big_town = (np.asarray(town_rank) == 0) & (towns_per_county[town_county] >= 3)
    ward = np.where(is_muni & big_town[town_of], (prec_rank % 4) + 1, 0)
    township = prec_rank // 4 + 1
    precincts = pl.DataFrame(
        {
            "precinct_idx": np.arange(n_prec),
            "county_idx": prec_county,
            "town_idx": town_of,
            "rural": rural,
            "households": prec_households,
            "zip": zip_of,
            "precinct_abbrv": prec_abbrv,
            "precinct_desc": prec_desc,
            "municipality_abbrv": np.where(is_muni, town_abbrv[town_of], ""),
            "municipality_desc": np.where(is_muni, town_name_arr[town_of], ""),
            "ward_abbrv": np.where(ward > 0, np.char.add("W", ward.astype(str)), ""),
            "ward_desc": np.where(ward > 0, np.char.add("WARD ", ward.astype(str)), ""),
            "cong_dist_abbrv": cong.astype(str),
            "super_court_abbrv": np.char.add(judicial.astype(str), "A"),
            "judic_dist_abbrv": judicial.astype(str),
            "nc_senate_abbrv": senate.astype(str),
            "nc_house_abbrv": house.astype(str),
            "county_commiss_abbrv": np.char.add("CC", ((prec_rank % 5) + 1).astype(str)),
            "township_abbrv": np.char.add("T", township.astype(str)),
            "school_dist_abbrv": np.where(rural, "", "S1"),
            "fire_dist_abbrv": np.where(rural, np.char.add("F", township.astype(str)), ""),
            "dist_1_abbrv": judicial.astype(str),
            "cell_lat0": c_lat0,
            "cell_lon0": c_lon0,
            "cell_h": cell_h,
            "cell_w": cell_w,
        }
    )
    precincts = precincts.with_columns(
        county_desc=pl.Series(county_desc[prec_county]),
        town_name=pl.Series(town_name_arr[town_of]),
    ).with_columns(
        county_commiss_desc=pl.concat_str([pl.lit("COMMISSIONER DISTRICT "), pl.col("county_commiss_abbrv").str.slice(2)]),
        township_desc=pl.concat_str([pl.col("county_desc"), pl.lit(" TOWNSHIP "), pl.col("township_abbrv").str.slice(1)]),
        school_dist_desc=pl.when(pl.col("school_dist_abbrv") == "").then(pl.lit("")).otherwise(
            pl.concat_str([pl.col("town_name"), pl.lit(" CITY SCHOOLS")])
        ),
        fire_dist_desc=pl.when(pl.col("fire_dist_abbrv") == "").then(pl.lit("")).otherwise(
            pl.concat_str([pl.col("county_desc"), pl.lit(" FIRE DISTRICT "), pl.col("fire_dist_abbrv").str.slice(1)])
        ),
        dist_1_desc=pl.concat_str([pl.lit("PROSECUTORIAL DISTRICT "), pl.col("dist_1_abbrv")]),
    )

    addresses, polling = _lay_streets(rng, precincts, town_names)
    return Geography(
        counties=counties,
        towns=towns,
        precincts=precincts,
        addresses=addresses,
        polling_places=polling,
    )


def _apartment_buildings(rng: np.random.Generator, units_needed: int) -> np.ndarray:
    sizes = np.array([4, 6, 8, 12, 16, 24, 36, 48])
    p = np.array([0.2, 0.15, 0.2, 0.15, 0.12, 0.08, 0.06, 0.04])
    out: list[int] = []
    total = 0
    while total < units_needed:
        batch = rng.choice(sizes, size=max(4, (units_needed - total) // 10), p=p)
        for s in batch:
            take = int(min(s, units_needed - total))
            out.append(take)
            total += take
            if total >= units_needed:
                break
    return np.asarray(out, dtype=np.int64)


def _lay_streets(
    rng: np.random.Generator, precincts: pl.DataFrame, town_names: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Create streets and address slots (with coordinates) for every precinct."""
    bases = _street_bases()
    n_bases = len(bases)
    used_names: dict[int, set[str]] = {}  # per ZIP: street names must be unique in a ZIP
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "precinct_idx", "house_number", "street_name", "unit", "lat", "lon", "street_id",
        "is_apartment",
    )}
    polling: dict[str, list[object]] = {k: [] for k in (
        "precinct_idx", "polling_place_name", "house_num", "street_name",
    )}
    street_counter = 0
    rows = precincts.select(
        "precinct_idx", "rural", "households", "zip", "cell_lat0", "cell_lon0", "cell_h", "cell_w",
        "town_name",
    ).iter_rows()
    for p, is_rural, n_hh, zip_code, lat0, lon0, ch, cw, town in rows:
        apt_share = 0.0 if is_rural else float(rng.uniform(0.1, 0.4))
        n_units = round(n_hh * apt_share)
        buildings = _apartment_buildings(rng, n_units) if n_units else np.zeros(0, dtype=np.int64)
        n_houses = n_hh - n_units
        n_slots_needed = n_houses + buildings.size
        lots = 2 if is_rural else 8  # lots per side per block
        blocks_lo, blocks_hi = (8, 30) if is_rural else (3, 12)
        per_street = 2 * lots * (blocks_lo + blocks_hi) / 2
        n_streets = max(1, int(np.ceil(n_slots_needed * 1.35 / per_street)))
        n_blocks = rng.integers(blocks_lo, blocks_hi + 1, n_streets)
        while int(n_blocks.sum()) * lots * 2 < (n_slots_needed + 1) * 1.2:
            n_blocks = np.append(n_blocks, rng.integers(blocks_lo, blocks_hi + 1))
        n_streets = n_blocks.size
        start_block = rng.integers(1, 60 if is_rural else 40, n_streets)
        if is_rural:
            start_block = start_block * 10  # rural roads use 4-digit numbers
        horizontal = rng.random(n_streets) < 0.5
        o_lat = lat0 + rng.random(n_streets) * ch * 0.8
        o_lon = lon0 + rng.random(n_streets) * cw * 0.8
        # Street names unique within the ZIP.
        taken = used_names.setdefault(int(zip_code), set())
        types = STREET_TYPES_RURAL if is_rural else STREET_TYPES_TOWN
        names: list[str] = []
        while len(names) < n_streets:
            base = bases[int(rng.integers(n_bases))]
            typ = types[int(rng.integers(len(types)))]
            name = f"{base} {typ}"
            if name in taken:
                prefix = ("N", "S", "E", "W", "OLD")[int(rng.integers(5))]
                name = f"{prefix} {name}"
            if name in taken:
                continue
            taken.add(name)
            names.append(name)
        # Address slots: (street, block, lot, side).
        slots_per_street = n_blocks * lots * 2
        total = int(slots_per_street.sum())
        st = np.repeat(np.arange(n_streets), slots_per_street)
        within = np.arange(total) - np.repeat(np.cumsum(slots_per_street) - slots_per_street, slots_per_street)
        block = within // (2 * lots)
        lot = (within // 2) % lots
        side = within % 2  # 0 = odd side, 1 = even side
        chosen = np.sort(rng.choice(total, size=n_slots_needed + 1, replace=False))
        poll_slot = chosen[-1]
        chosen = chosen[:-1]
        st_c, block_c, lot_c, side_c = st[chosen], block[chosen], lot[chosen], side[chosen]
        step = 100 // (2 * lots)
        number = (start_block[st_c] + block_c) * 100 + lot_c * 2 * step + 1 + side_c
        block_m = BLOCK_M_RURAL if is_rural else BLOCK_M_TOWN
        along_m = (block_c + (lot_c + 0.5) / lots) * block_m
        off_m = np.where(side_c == 0, SIDE_OFFSET_M, -SIDE_OFFSET_M)
        hz = horizontal[st_c]
        lat = o_lat[st_c] + np.where(hz, off_m, along_m) / M_PER_DEG_LAT
        lon = o_lon[st_c] + np.where(hz, along_m, off_m) / M_PER_DEG_LON
        # Which slots become apartment buildings, and expand them to units.
        is_bldg = np.zeros(n_slots_needed, dtype=bool)
        if buildings.size:
            is_bldg[rng.choice(n_slots_needed, size=buildings.size, replace=False)] = True
        reps = np.ones(n_slots_needed, dtype=np.int64)
        reps[is_bldg] = buildings
        unit_no = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        floors = np.repeat(np.where(reps >= 12, 4, 1), reps)
        per_floor = np.repeat(np.ceil(reps / np.where(reps >= 12, 4, 1)).astype(np.int64), reps)
        floor = unit_no // per_floor + 1
        pos = unit_no % per_floor + 1
        bldg_units = np.repeat(is_bldg, reps)
        unit = np.where(
            ~bldg_units,
            "",
            np.where(
                floors > 1,
                np.char.add(floor.astype(str), np.char.zfill(pos.astype(str), 2)),
                np.char.add(floor.astype(str), np.asarray(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))[(pos - 1) % 26]),
            ),
        )
        names_arr = np.asarray(names, dtype=object)
        cols["precinct_idx"].append(np.full(unit.size, p, dtype=np.int64))
        cols["house_number"].append(np.repeat(number, reps))
        cols["street_name"].append(np.repeat(names_arr[st_c], reps))
        cols["unit"].append(unit.astype(object))
        cols["lat"].append(np.repeat(lat, reps))
        cols["lon"].append(np.repeat(lon, reps))
        cols["street_id"].append(np.repeat(street_counter + st_c, reps))
        cols["is_apartment"].append(bldg_units)
        street_counter += n_streets
        # Polling place: a free slot on one of the precinct's streets.
        ps = int(st[poll_slot])
        pnum = (start_block[ps] + int(block[poll_slot])) * 100 + int(lot[poll_slot]) * 2 * step + 1 + int(side[poll_slot])
        kind = POLL_KINDS[int(rng.integers(len(POLL_KINDS)))]
        word = bases[int(rng.integers(len(STREET_WORDS)))]
        polling["precinct_idx"].append(p)
        polling["polling_place_name"].append(kind.format(word=word, town=town, n=int(rng.integers(1, 12))))
        polling["house_num"].append(pnum)
        polling["street_name"].append(names[ps])

    addresses = pl.DataFrame(
        {k: np.concatenate(v) for k, v in cols.items()},
        schema_overrides={"street_name": pl.Utf8, "unit": pl.Utf8},
    ).with_row_index("address_idx")
    return addresses, pl.DataFrame(polling)
