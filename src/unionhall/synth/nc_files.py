"""Writers for the NCSBE public file formats.

* `ncvoter` / `ncvhis`: tab-delimited, every field (header too) in double quotes, CRLF
  line ends, columns exactly as in the packaged layout documents.
* polling places: UTF-16LE with a byte-order mark, tab-delimited, unquoted, CRLF (as the
  real `polling_place_20201103.csv`).
* absentee: comma-delimited, DOS code page 437, every field quoted except `age`, blank
  fields written as `""` (or `" "` for the address/relative fields NCSBE pads).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from unionhall.elections.nc_layout import absentee_layout, ncvhis_layout, ncvoter_layout
from unionhall.synth.history import METHODS, PARTY_DESC, History
from unionhall.synth.population import Population

POLLING_COLUMNS = (
    "election_dt", "county_name", "polling_place_id", "polling_place_name", "precinct_name",
    "house_num", "street_name", "city", "state", "zip",
)
OVERSEAS = ("FRANCE", "GERMANY", "JAPAN", "MEXICO", "UNITED KINGDOM", "ITALY", "SPAIN", "CANADA")


def write_quoted_tsv(df: pl.DataFrame, path: Path) -> None:
    """Tab-delimited, every field double-quoted, CRLF, UTF-8 (ASCII content)."""
    df.write_csv(path, separator="\t", quote_style="always", line_terminator="\r\n", null_value="")


def street_address(house: pl.Expr, street: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """`123 MAIN ST APT 4B` in USPS style (the voter file's form)."""
    base = pl.concat_str([house.cast(pl.Utf8), pl.lit(" "), street])
    return pl.when(unit == "").then(base).otherwise(pl.concat_str([base, pl.lit(" APT "), unit]))


def voter_rows(pop: Population) -> pl.DataFrame:
    """Every registration joined to its person, address and precinct (raw values)."""
    persons = pop.persons.select(
        "person_id", "household_idx", "first_name", "middle_name", "last_name", "name_suffix",
        "sex", "dob", "age_at_year_end", "race_code", "ethnic_code", "party_cd", "phone",
    )
    hh = pop.households.select(
        "household_idx", "house_number", "street_name", "unit", "precinct_idx", "zip", "town_name",
    )
    prec = pop.geography.precincts.drop("county_idx", "zip", "town_name", "county_desc")
    return (
        pop.voters.with_row_index("voter_row")
        .join(persons.with_row_index("person_row").with_columns(pl.col("person_row").cast(pl.Int64)), on="person_row", how="left")
        .join(hh, on="household_idx", how="left")
        .join(prec, on="precinct_idx", how="left")
        .sort("voter_row")
    )


def ncvoter_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The 67 `ncvoter` columns, as strings, in layout order."""
    conf = pl.col("confidential")
    res = street_address(pl.col("house_number"), pl.col("street_name"), pl.col("unit"))
    kind = pl.col("mail_kind")
    box = pl.col("mail_box").cast(pl.Utf8)
    overseas = pl.col("reason_cd") == "SO"
    country = pl.lit(pl.Series(OVERSEAS)).gather(pl.col("mail_box") % len(OVERSEAS))
    mail1 = (
        pl.when(kind == 0).then(res)
        .when(kind == 1).then(pl.concat_str([pl.lit("PO BOX "), box]))
        .when(kind == 2).then(pl.concat_str([pl.lit("RR "), pl.col("mail_route").cast(pl.Utf8), pl.lit(" BOX "), box]))
        .when(overseas).then(pl.concat_str([box, pl.lit(" AVENUE DES FLEURS")]))
        .otherwise(pl.concat_str([pl.lit("UNIT "), box, pl.lit(" BOX "), pl.col("mail_route").cast(pl.Utf8)]))
    )
    mail2 = pl.when((kind == 3) & overseas).then(pl.concat_str([pl.lit("APARTMENT "), pl.col("mail_route").cast(pl.Utf8)])).otherwise(pl.lit(""))
    mail3 = pl.when((kind == 3) & overseas).then(country).otherwise(pl.lit(""))
    mail_city = pl.when(kind < 3).then(pl.col("town_name")).when(overseas).then(pl.lit("")).otherwise(pl.lit("APO"))
    mail_state = pl.when(kind < 3).then(pl.lit("NC")).when(overseas).then(pl.lit("")).otherwise(pl.lit("AE"))
    mail_zip = (
        pl.when(kind < 3).then(pl.col("zip").cast(pl.Utf8))
        .when(overseas).then(pl.lit(""))
        .otherwise(pl.concat_str([pl.lit("09"), (pl.col("mail_box") % 1000).cast(pl.Utf8).str.zfill(3)]))
    )

    def blank_if_conf(e: pl.Expr) -> pl.Expr:
        return pl.when(conf).then(pl.lit("")).otherwise(e)

    empty = pl.lit("")
    exprs = {
        "county_id": pl.col("county_id"),
        "county_desc": pl.col("county_desc"),
        "voter_reg_num": pl.col("voter_reg_num").cast(pl.Utf8).str.zfill(12),
        "ncid": pl.col("ncid"),
        "last_name": pl.col("last_name"),
        "first_name": pl.col("first_name"),
        "middle_name": pl.col("middle_name"),
        "name_suffix_lbl": pl.col("name_suffix"),
        "status_cd": pl.col("status_cd"),
        "voter_status_desc": pl.col("voter_status_desc"),
        "reason_cd": pl.col("reason_cd"),
        "voter_status_reason_desc": pl.col("voter_status_reason_desc"),
        "res_street_address": blank_if_conf(res),
        "res_city_desc": blank_if_conf(pl.col("town_name")),
        "state_cd": blank_if_conf(pl.lit("NC")),
        "zip_code": blank_if_conf(pl.col("zip").cast(pl.Utf8)),
        "mail_addr1": blank_if_conf(mail1),
        "mail_addr2": blank_if_conf(mail2),
        "mail_addr3": blank_if_conf(mail3),
        "mail_addr4": empty,
        "mail_city": blank_if_conf(mail_city),
        "mail_state": blank_if_conf(mail_state),
        "mail_zipcode": blank_if_conf(mail_zip),
        "full_phone_number": pl.when(pl.col("phone_on_file") & ~conf).then(pl.col("phone")).otherwise(empty),
        "confidential_ind": pl.when(conf).then(pl.lit("Y")).otherwise(pl.lit("N")),
        "registr_dt": pl.col("registr_dt").dt.strftime("%m/%d/%Y"),
        "race_code": pl.col("race_code"),
        "ethnic_code": pl.col("ethnic_code"),
        "party_cd": pl.col("party_cd"),
        "gender_code": pl.col("sex"),
        "birth_year": pl.col("dob").dt.year().cast(pl.Utf8),
        "age_at_year_end": pl.col("age_at_year_end").cast(pl.Utf8),
        "birth_state": pl.col("birth_state"),
        "drivers_lic": pl.col("drivers_lic"),
        "precinct_abbrv": pl.col("precinct_abbrv"),
        "precinct_desc": pl.col("precinct_desc"),
        "municipality_abbrv": pl.col("municipality_abbrv"),
        "municipality_desc": pl.col("municipality_desc"),
        "ward_abbrv": pl.col("ward_abbrv"),
        "ward_desc": pl.col("ward_desc"),
        "cong_dist_abbrv": pl.col("cong_dist_abbrv"),
        "super_court_abbrv": pl.col("super_court_abbrv"),
        "judic_dist_abbrv": pl.col("judic_dist_abbrv"),
        "nc_senate_abbrv": pl.col("nc_senate_abbrv"),
        "nc_house_abbrv": pl.col("nc_house_abbrv"),
        "county_commiss_abbrv": pl.col("county_commiss_abbrv"),
        "county_commiss_desc": pl.col("county_commiss_desc"),
        "township_abbrv": pl.col("township_abbrv"),
        "township_desc": pl.col("township_desc"),
        "school_dist_abbrv": pl.col("school_dist_abbrv"),
        "school_dist_desc": pl.col("school_dist_desc"),
        "fire_dist_abbrv": pl.col("fire_dist_abbrv"),
        "fire_dist_desc": pl.col("fire_dist_desc"),
        "water_dist_abbrv": empty,
        "water_dist_desc": empty,
        "sewer_dist_abbrv": empty,
        "sewer_dist_desc": empty,
        "sanit_dist_abbrv": empty,
        "sanit_dist_desc": empty,
        "rescue_dist_abbrv": empty,
        "rescue_dist_desc": empty,
        "munic_dist_abbrv": pl.col("municipality_abbrv"),
        "munic_dist_desc": pl.col("municipality_desc"),
        "dist_1_abbrv": pl.col("dist_1_abbrv"),
        "dist_1_desc": pl.col("dist_1_desc"),
        "vtd_abbrv": pl.col("precinct_abbrv"),
        "vtd_desc": pl.col("precinct_abbrv"),
    }
    names = ncvoter_layout().column_names
    missing = set(names) ^ set(exprs)
    if missing:
        raise AssertionError(f"ncvoter columns out of step with the layout: {sorted(missing)}")
    return rows.select([exprs[n].alias(n) for n in names])


def ncvhis_frame(rows: pl.DataFrame, history: History) -> pl.DataFrame:
    """The 15 `ncvhis` columns, one row per vote, in layout order."""
    elections = history.elections
    votes = history.votes.join(
        rows.select(
            "voter_row", "county_id", "county_desc", "voter_reg_num", "ncid", "precinct_abbrv",
            "precinct_desc",
        ).with_columns(pl.col("voter_row").cast(pl.Int64)),
        on="voter_row",
        how="left",
        maintain_order="left",
    )
    exprs = {
        "county_id": pl.col("county_id"),
        "county_desc": pl.col("county_desc"),
        "voter_reg_num": pl.col("voter_reg_num").cast(pl.Utf8).str.zfill(12),
        "election_lbl": pl.lit(pl.Series([e.label for e in elections])).gather(pl.col("election_idx")),
        "election_desc": pl.lit(pl.Series([e.description for e in elections])).gather(pl.col("election_idx")),
        "voting_method": pl.lit(pl.Series(METHODS)).gather(pl.col("method_idx")),
        "voted_party_cd": pl.col("voted_party_cd"),
        "voted_party_desc": pl.col("voted_party_cd").replace_strict(PARTY_DESC),
        "pct_label": pl.col("precinct_abbrv"),
        "pct_description": pl.col("precinct_desc"),
        "ncid": pl.col("ncid"),
        "voted_county_id": pl.col("county_id"),
        "voted_county_desc": pl.col("county_desc"),
        "vtd_label": pl.col("precinct_abbrv"),
        "vtd_description": pl.col("precinct_abbrv"),
    }
    names = ncvhis_layout().column_names
    return votes.select([exprs[n].alias(n) for n in names])


def polling_place_frame(pop: Population, election_label: str) -> pl.DataFrame:
    """One polling place per precinct, in NCSBE's polling-place columns."""
    prec = pop.geography.precincts.select(
        "precinct_idx", "county_desc", "precinct_desc", "town_name", "zip", "precinct_abbrv"
    )
    pp = pop.geography.polling_places.join(prec, on="precinct_idx", how="left").sort("precinct_idx")
    return pp.select(
        pl.lit(election_label).alias("election_dt"),
        pl.col("county_desc").alias("county_name"),
        (pl.int_range(pl.len()).over("county_desc") + 1).cast(pl.Utf8).alias("polling_place_id"),
        pl.col("polling_place_name"),
        pl.col("precinct_desc").alias("precinct_name"),
        pl.col("house_num").cast(pl.Utf8),
        pl.col("street_name"),
        pl.col("town_name").alias("city"),
        pl.lit("NC").alias("state"),
        pl.col("zip").cast(pl.Utf8),
    )


def write_polling_places(df: pl.DataFrame, path: Path) -> None:
    """UTF-16LE with BOM, tab-delimited, unquoted, CRLF (NCSBE's polling place format)."""
    lines = ["\t".join(POLLING_COLUMNS)]
    for row in df.select(POLLING_COLUMNS).iter_rows():
        lines.append("\t".join(row))
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


# Absentee fields NCSBE pads with a single space when empty.
_SPACE_BLANK = frozenset(
    {
        "other_mail_addr1", "other_mail_addr2", "other_city_state_zip", "relative_request_name",
        "relative_request_address", "relative_request_city", "relative_request_state",
        "relative_request_zip",
    }
)
_UNQUOTED = "age"


def absentee_quoted(df: pl.DataFrame, columns: tuple[str, ...] | list[str]) -> pl.DataFrame:
    """Quote absentee fields as NCSBE does: every field but `age` in quotes."""
    exprs = []
    for n in columns:
        if n == _UNQUOTED:
            exprs.append(pl.col(n).cast(pl.Utf8).alias(n))
            continue
        value = pl.col(n).cast(pl.Utf8)
        if n in _SPACE_BLANK:
            value = pl.when(value == "").then(pl.lit(" ")).otherwise(value)
        exprs.append(
            pl.concat_str([pl.lit('"'), value.str.replace_all('"', '""', literal=True), pl.lit('"')]).alias(n)
        )
    return df.select(exprs)


def write_absentee_lines(lines: pl.Series, path: Path) -> None:
    """Write pre-joined absentee lines under the quoted header, CRLF, in cp437.

    The generator's values are ASCII, where cp437 and UTF-8 agree byte for byte, so the
    fast path writes them directly; anything else goes through the cp437 codec.
    """
    header = ",".join(f'"{n}"' for n in absentee_layout().column_names)
    non_ascii = bool(lines.str.contains(r"[^\x00-\x7F]").any()) if lines.len() else False
    if non_ascii:
        body = "".join(line + "\r\n" for line in lines.to_list())
        path.write_bytes((header + "\r\n" + body).encode("cp437", errors="replace"))
        return
    buf = io.BytesIO()
    buf.write((header + "\r\n").encode("ascii"))
    if lines.len():
        pl.DataFrame({"line": lines}).write_csv(
            buf, include_header=False, quote_style="never", line_terminator="\r\n"
        )
    path.write_bytes(buf.getvalue())


def write_absentee(df: pl.DataFrame, path: Path) -> None:
    """Comma-delimited, cp437, every field quoted except `age`; blanks `""` or `" "`."""
    names = absentee_layout().column_names
    quoted = absentee_quoted(df, names)
    write_absentee_lines(quoted.select(pl.concat_str(pl.all(), separator=",")).to_series(), path)


def address_points_frame(pop: Population) -> pl.DataFrame:
    """The state's address points (as a county GIS office or NC OneMap publishes them):
    one row per street address (the units of an apartment building share it), with its
    coordinates. Vacant addresses are listed too, as in the real files."""
    geo = pop.geography
    prec = geo.precincts.select("precinct_idx", "zip", "town_name", "county_desc")
    return (
        geo.addresses.join(prec, on="precinct_idx", how="left")
        .group_by("house_number", "street_name", "zip", maintain_order=True)
        .agg(pl.first("town_name"), pl.first("county_desc"), pl.first("lat"), pl.first("lon"))
        .select(
            pl.col("house_number").cast(pl.Utf8).alias("ADD_NUMBER"),
            pl.col("street_name").alias("ST_NAME"),
            pl.col("town_name").alias("POST_CITY"),
            pl.col("zip").cast(pl.Utf8).alias("ZIP_CODE"),
            pl.col("county_desc").alias("COUNTY"),
            pl.col("lat").round(6).alias("LATITUDE"),
            pl.col("lon").round(6).alias("LONGITUDE"),
        )
        .sort("ZIP_CODE", "ST_NAME", "ADD_NUMBER")
    )
