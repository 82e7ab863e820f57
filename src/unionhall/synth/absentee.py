"""Daily absentee / early-vote snapshots for the upcoming general election.

Model. Mail ballots are requested from mid-August (more by older and Democratic
voters, and always by military/overseas voters), sent from 45 days before the
election, and come back after a delay. A returned ballot is ACCEPTED, or deficient
(WITNESS INFO INCOMPLETE / SIGNATURE DIFFERENT) and then perhaps cured (a later row
ACCEPTED - CURED), or SPOILED (a replacement ballot is requested: a second row).
Early ("one-stop") voting starts on the third Thursday before the election; each
early voter gets a ONE-STOP row on the day they vote, more on the first and last days.

Each daily file is a snapshot: every row whose request happened by that day, with the
send/return fields filled only once they happened. So returns grow day by day and a
voter can have several rows (spoiled and reissued, mail then one-stop, cured).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from unionhall.elections.nc_layout import absentee_layout
from unionhall.synth._common import day_number, rng_for
from unionhall.synth.nc_files import absentee_quoted, street_address, write_absentee_lines
from unionhall.synth.population import Population

RACE_DESC = {
    "A": "ASIAN", "B": "BLACK or AFRICAN AMERICAN", "I": "AMERICAN INDIAN or ALASKA NATIVE",
    "M": "TWO or MORE RACES", "O": "OTHER", "P": "NATIVE HAWAIIAN or PACIFIC ISLANDER",
    "U": "UNDESIGNATED", "W": "WHITE",
}
GENDER_DESC = {"F": "FEMALE", "M": "MALE", "U": "UNDESIGNATED"}
STATUSES = (
    "", "ACCEPTED", "WITNESS INFO INCOMPLETE", "SIGNATURE DIFFERENT", "SPOILED",
    "RETURNED UNDELIVERABLE", "CONFLICT", "ACCEPTED - CURED", "PENDING CURE",
)
S_NONE, S_ACC, S_WIT, S_SIG, S_SPOIL, S_UNDEL, S_CONFLICT, S_CURED, S_PENDING = range(9)


def early_voting_start(election_day: dt.date) -> dt.date:
    """Third Thursday before election day (NC's one-stop start)."""
    d = election_day - dt.timedelta(days=14)
    while d.weekday() != 3:
        d -= dt.timedelta(days=1)
    return d


def build_absentee_events(pop: Population, seed: int, election_day: dt.date, today: dt.date) -> pl.DataFrame:
    """All ballot rows through `today`: voter_row, kind, dates (day numbers), status."""
    rng = rng_for(seed, "absentee")
    voters = pop.voters
    persons = pop.persons[voters["person_row"].to_numpy()]
    n = voters.height
    status = voters["status_cd"].to_numpy()
    age = persons["age"].to_numpy()
    party = persons["party_cd"].to_numpy()
    z = persons["propensity"].to_numpy()
    e_n = day_number(election_day)
    today_n = day_number(today)
    active = np.isin(status, ["A", "S"]) | ((status == "I") & (rng.random(n) < 0.3))

    # Mail requests.
    logit = -3.3 + 1.0 * (age >= 65) + 0.45 * (party == "DEM") + 0.35 * z
    req = active & ((rng.random(n) < 1 / (1 + np.exp(-logit))) | (status == "S"))
    v = np.flatnonzero(req)
    m = v.size
    req_dt = day_number(dt.date(election_day.year, 8, 15)) + rng.integers(0, max(1, today_n - day_number(dt.date(election_day.year, 8, 15))), m)
    send_from = e_n - 45
    send_dt = np.maximum(req_dt, send_from) + rng.integers(0, 4, m)
    returns = rng.random(m) < 0.88
    rtn_dt = send_dt + np.ceil(rng.exponential(11.0, m)).astype(np.int64) + 2
    u = rng.random(m)
    outcome = np.select(
        [u < 0.925, u < 0.955, u < 0.968, u < 0.988, u < 0.996], [S_ACC, S_WIT, S_SIG, S_SPOIL, S_UNDEL], S_CONFLICT
    )
    outcome = np.where(returns, outcome, S_NONE)
    delivery = np.where(status[v] == "S", np.where(rng.random(m) < 0.6, 1, 2), 0)  # MAIL, EMAIL, FAX
    rows = [
        pl.DataFrame(
            {
                "voter_row": v, "req_type": np.zeros(m, dtype=np.int64), "delivery": delivery,
                "req_dt": req_dt, "send_dt": send_dt,
                "rtn_dt": np.where(outcome == S_NONE, 10**9, rtn_dt),
                "status": outcome, "pending_from": np.full(m, 10**9),
            }
        )
    ]
    # Deficient ballots: PENDING CURE a few days after return; some are cured later.
    defic = np.flatnonzero((outcome == S_WIT) | (outcome == S_SIG))
    cure_dt = rtn_dt[defic] + rng.integers(3, 12, defic.size)
    cured = rng.random(defic.size) < 0.6
    rows[0] = rows[0].with_columns(
        pending_from=pl.Series(np.where(np.isin(np.arange(m), defic), rtn_dt + 2, 10**9))
    )
    rows.append(
        pl.DataFrame(
            {
                "voter_row": v[defic][cured], "req_type": np.zeros(int(cured.sum()), dtype=np.int64),
                "delivery": delivery[defic][cured], "req_dt": req_dt[defic][cured],
                "send_dt": send_dt[defic][cured], "rtn_dt": cure_dt[cured],
                "status": np.full(int(cured.sum()), S_CURED), "pending_from": np.full(int(cured.sum()), 10**9),
                "visible_from": cure_dt[cured],
            }
        )
    )
    # Spoiled ballots are replaced by a new request.
    sp = np.flatnonzero(outcome == S_SPOIL)
    re_req = rtn_dt[sp] + rng.integers(1, 4, sp.size)
    re_send = re_req + rng.integers(0, 3, sp.size)
    re_rtn = re_send + np.ceil(rng.exponential(8.0, sp.size)).astype(np.int64) + 2
    re_back = rng.random(sp.size) < 0.8
    rows.append(
        pl.DataFrame(
            {
                "voter_row": v[sp], "req_type": np.zeros(sp.size, dtype=np.int64), "delivery": delivery[sp],
                "req_dt": re_req, "send_dt": re_send, "rtn_dt": np.where(re_back, re_rtn, 10**9),
                "status": np.where(re_back, S_ACC, S_NONE), "pending_from": np.full(sp.size, 10**9),
                "visible_from": re_req,
            }
        )
    )
    rows[0] = rows[0].with_columns(visible_from=pl.col("req_dt"))

    # One-stop (early) voting, for voters whose mail ballot was not accepted.
    ev_start = day_number(early_voting_start(election_day))
    ev_end = e_n - 3
    has_mail = np.zeros(n, dtype=bool)
    has_mail[v[(outcome == S_ACC) | (outcome == S_WIT) | (outcome == S_SIG)]] = True
    p_vote = 1 / (1 + np.exp(-(0.15 + z)))
    early = active & ~has_mail & (status != "S") & (rng.random(n) < p_vote * 0.6)
    ev = np.flatnonzero(early)
    ndays = ev_end - ev_start + 1
    w = np.ones(ndays)
    w[0] = w[-1] = 2.2
    w[1] = 1.5
    day = ev_start + rng.choice(ndays, size=ev.size, p=w / w.sum())
    rows.append(
        pl.DataFrame(
            {
                "voter_row": ev, "req_type": np.ones(ev.size, dtype=np.int64), "delivery": np.full(ev.size, 3),
                "req_dt": day, "send_dt": day, "rtn_dt": day, "status": np.full(ev.size, S_ACC),
                "pending_from": np.full(ev.size, 10**9), "visible_from": day,
                "sdr": rng.random(ev.size) < 0.01, "site": rng.integers(0, 3, ev.size),
            }
        )
    )
    events = pl.concat(rows, how="diagonal_relaxed").with_columns(
        pl.col("sdr").fill_null(False), pl.col("site").fill_null(-1)
    )
    events = events.filter(pl.col("visible_from") <= today_n)
    return events.sort(["voter_row", "visible_from", "req_type"])


def write_absentee_snapshots(
    pop: Population, events: pl.DataFrame, out_dir: Path, election_day: dt.date, today: dt.date, days: int
) -> list[str]:
    """Write `absentee/absentee_<YYYYMMDD>.csv` for the `days` days ending `today`."""
    folder = out_dir / "absentee"
    folder.mkdir(parents=True, exist_ok=True)
    involved = events.select("voter_row").unique().sort("voter_row")
    voter_rows = involved["voter_row"].to_numpy()
    v = pop.voters[voter_rows]
    p = pop.persons[v["person_row"].to_numpy()]
    hh = pop.households[p["household_idx"].to_numpy()]
    prec = pop.geography.precincts
    pr = prec[hh["precinct_idx"].to_numpy()]
    static = pl.DataFrame(
        {
            "voter_row": voter_rows,
            "county_desc": v["county_desc"],
            "voter_reg_num": v["voter_reg_num"].cast(pl.Utf8).str.zfill(12),
            "ncid": v["ncid"],
            "voter_last_name": p["last_name"],
            "voter_first_name": p["first_name"],
            "voter_middle_name": p["middle_name"],
            "race": p["race_code"].replace_strict(RACE_DESC),
            "ethnicity": p["ethnic_code"],
            "gender": p["sex"].replace_strict(GENDER_DESC),
            "age": p["age"],
            "house_number": hh["house_number"],
            "street_name": hh["street_name"],
            "unit": hh["unit"],
            "voter_city": hh["town_name"],
            "voter_zip": hh["zip"].cast(pl.Utf8),
            "voter_party_code": p["party_cd"],
            "precinct_desc": pr["precinct_desc"],
            "cong_dist_desc": "CONGRESSIONAL DISTRICT " + pr["cong_dist_abbrv"],
            "nc_house_desc": "NC HOUSE DISTRICT " + pr["nc_house_abbrv"],
            "nc_senate_desc": "NC SENATE DISTRICT " + pr["nc_senate_abbrv"],
            "town_name": pr["town_name"],
            "confidential": v["confidential"],
        }
    ).with_columns(
        voter_street_address=street_address(pl.col("house_number"), pl.col("street_name"), pl.col("unit")),
    )
    ev = events.join(static, on="voter_row", how="left", maintain_order="left")
    fmt = "%m/%d/%Y"

    def date_col(days_expr: pl.Expr, limit: int) -> pl.Expr:
        return pl.when(days_expr <= limit).then(days_expr.cast(pl.Date).dt.strftime(fmt)).otherwise(pl.lit(""))

    # Everything but the send date, return date and status is fixed once a row is
    # visible: quote and join those columns once, then finish each day's lines.
    columns = absentee_layout().column_names
    variable = ("ballot_send_dt", "ballot_rtn_dt", "ballot_rtn_status")
    first_var = columns.index(variable[0])
    if columns[first_var : first_var + 3] != variable:
        raise AssertionError("absentee layout changed: variable columns are not adjacent")
    static_cols = ev.select(
        "county_desc", "voter_reg_num", "ncid", "voter_last_name", "voter_first_name",
        "voter_middle_name", "race", "ethnicity", "gender", pl.col("age").cast(pl.Utf8),
        pl.when(pl.col("confidential")).then(pl.lit("")).otherwise(pl.col("voter_street_address")).alias("voter_street_address"),
        pl.col("voter_city"), pl.lit("NC").alias("voter_state"), pl.col("voter_zip"),
        pl.when(pl.col("req_type") == 0).then(pl.col("voter_street_address")).otherwise(pl.lit("")).alias("ballot_mail_street_address"),
        pl.when(pl.col("req_type") == 0).then(pl.col("voter_city")).otherwise(pl.lit("")).alias("ballot_mail_city"),
        pl.when(pl.col("req_type") == 0).then(pl.lit("NC")).otherwise(pl.lit("")).alias("ballot_mail_state"),
        pl.when(pl.col("req_type") == 0).then(pl.col("voter_zip")).otherwise(pl.lit("")).alias("ballot_mail_zip"),
        pl.lit("").alias("other_mail_addr1"), pl.lit("").alias("other_mail_addr2"),
        pl.lit("").alias("other_city_state_zip"), pl.lit("").alias("relative_request_name"),
        pl.lit("").alias("relative_request_address"), pl.lit("").alias("relative_request_city"),
        pl.lit("").alias("relative_request_state"), pl.lit("").alias("relative_request_zip"),
        pl.lit(election_day.strftime(fmt)).alias("election_dt"),
        "voter_party_code", "precinct_desc", "cong_dist_desc", "nc_house_desc", "nc_senate_desc",
        pl.col("delivery").replace_strict({0: "MAIL", 1: "EMAIL", 2: "FAX", 3: "IN PERSON"}, return_dtype=pl.Utf8).alias("ballot_req_delivery_type"),
        pl.col("req_type").replace_strict({0: "MAIL", 1: "ONE-STOP"}, return_dtype=pl.Utf8).alias("ballot_req_type"),
        pl.col("voter_party_code").alias("ballot_request_party"),
        pl.col("req_dt").cast(pl.Date).dt.strftime(fmt).alias("ballot_req_dt"),
        pl.when(pl.col("req_type") == 1).then(
            pl.when(pl.col("site") == 0).then(pl.concat_str([pl.col("county_desc"), pl.lit(" COUNTY BOARD OF ELECTIONS")]))
            .when(pl.col("site") == 1).then(pl.concat_str([pl.col("town_name"), pl.lit(" PUBLIC LIBRARY")]))
            .otherwise(pl.concat_str([pl.col("town_name"), pl.lit(" COMMUNITY CENTER")]))
        ).otherwise(pl.lit("")).alias("site_name"),
        pl.when(pl.col("sdr")).then(pl.lit("Y")).otherwise(pl.lit("N")).alias("sdr"),
        pl.lit("").alias("mail_veri_status"),
    )
    head_cols = columns[:first_var]
    tail_cols = columns[first_var + 3 :]
    quoted = absentee_quoted(static_cols, [*head_cols, *tail_cols])
    fixed = pl.DataFrame(
        {
            "head": quoted.select(pl.concat_str(list(head_cols), separator=",")).to_series(),
            "tail": quoted.select(pl.concat_str(list(tail_cols), separator=",")).to_series(),
            "visible_from": ev["visible_from"],
            "send_dt": ev["send_dt"],
            "rtn_dt": ev["rtn_dt"],
            "pending_from": ev["pending_from"],
            "status": ev["status"],
        }
    )

    names: list[str] = []
    today_n = day_number(today)
    for k in range(days - 1, -1, -1):
        d_n = today_n - k
        d = today - dt.timedelta(days=k)
        status_idx = (
            pl.when(pl.col("rtn_dt") > d_n).then(pl.lit(S_NONE))
            .when(pl.col("pending_from") <= d_n).then(pl.lit(S_PENDING))
            .otherwise(pl.col("status"))
        )
        lines = (
            fixed.lazy()
            .filter(pl.col("visible_from") <= d_n)
            .select(
                pl.concat_str(
                    [
                        pl.col("head"),
                        pl.lit(',"'), date_col(pl.col("send_dt"), d_n),
                        pl.lit('","'), date_col(pl.col("rtn_dt"), d_n),
                        pl.lit('","'), status_idx.replace_strict(dict(enumerate(STATUSES)), return_dtype=pl.Utf8),
                        pl.lit('",'), pl.col("tail"),
                    ]
                ).alias("line")
            )
            .collect()
            .to_series()
        )
        name = f"absentee/absentee_{d.strftime('%Y%m%d')}.csv"
        write_absentee_lines(lines, out_dir / name)
        names.append(name)
    return names
