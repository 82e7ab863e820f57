"""Generate a whole synthetic state into a directory, all or nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from unionhall.errors import UserError
from unionhall.synth.absentee import build_absentee_events, write_absentee_snapshots
from unionhall.synth.history import History, build_history
from unionhall.synth.members import MembersResult, build_members, person_email
from unionhall.synth.nc_files import (
    address_points_frame,
    ncvhis_frame,
    ncvoter_frame,
    polling_place_frame,
    voter_rows,
    write_polling_places,
    write_quoted_tsv,
)
from unionhall.synth.params import SynthParams
from unionhall.synth.population import Population, build_population

GENERATOR_VERSION = "1.0"
Progress = Callable[[int, str], None]


@dataclass
class SynthSummary:
    """What `generate` wrote (also the content of `manifest.json`)."""

    out_dir: str
    generator_version: str
    params: dict[str, Any]
    counts: dict[str, int]
    member_files: list[dict[str, Any]] = field(default_factory=list)
    absentee_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def check_out_dir(out_dir: Path) -> None:
    """Raise `UserError` unless `out_dir` is new (or empty) under an existing parent."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"--out {out_dir} already exists and is not empty; choose a new directory")
    if not out_dir.parent.exists():
        raise UserError(f"--out {out_dir}: parent directory {out_dir.parent} does not exist; create it first")


def generate(params: SynthParams, out_dir: Path | str, progress: Progress | None = None) -> SynthSummary:
    """Generate the synthetic state described by `params` into `out_dir`.

    Everything is written into a temporary directory beside `out_dir` and renamed into
    place at the end, so a failure leaves nothing behind. `out_dir` must not exist or
    be empty. `progress(percent, message)` is called as work advances.
    """
    params.validate()
    out = Path(out_dir).absolute()
    check_out_dir(out)
    report = progress or (lambda _p, _m: None)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary directory
    try:
        summary = _generate_into(params, tmp, report)
        if out.exists():
            out.rmdir()  # empty, checked above
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.out_dir = str(out)
    (out / "manifest.json").write_text(json.dumps(_manifest(summary), indent=2) + "\n", encoding="utf-8")
    report(100, "done")
    return summary


def _manifest(summary: SynthSummary) -> dict[str, Any]:
    # The manifest holds no absolute path so identical inputs give identical bytes.
    data = summary.as_json()
    data.pop("out_dir")
    return data


def _generate_into(params: SynthParams, out: Path, report: Progress) -> SynthSummary:
    report(1, "people and places")
    pop = build_population(params)
    report(25, "vote history")
    history = build_history(pop, params.seed, params.today, params.past_elections)
    # Stages run one after another: writing the voter file on a second thread was
    # tried and is slower, because polars work in both threads shares one thread pool.
    report(30, "voter file and history")
    _write_voter_and_history(pop, history, out)
    events, absentee_files, members = _generate_rest(params, pop, out, report)
    report(92, "ground truth")
    truth = out / "truth"
    truth.mkdir()
    _write_truth(pop, members.records, members.extra_persons, members.locals, truth)
    counts = {
        "voters": pop.voters.height,
        "households": pop.households.height,
        "persons": pop.persons.height + members.extra_persons.height,
        "persons_in_state": pop.persons.height,
        "counties": pop.geography.counties.height,
        "precincts": pop.geography.precincts.height,
        "vote_history_rows": history.votes.height,
        "elections": len(history.elections),
        "affiliates": params.affiliates,
        "locals": members.locals.height,
        "members": params.members,
        "member_records": int((members.records["record_kind"] == "member").sum()),
        "member_file_rows": members.records.height,
        "absentee_rows_last_day": events.height,
    }
    files = [*(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()), "manifest.json"]
    return SynthSummary(
        out_dir=str(out),
        generator_version=GENERATOR_VERSION,
        params=params.as_json(),
        counts=counts,
        member_files=[
            {
                "affiliate": f.affiliate, "slug": f.slug, "path": f.path, "format": f.fmt,
                "encoding": f.encoding, "rows": f.rows, "records": f.records,
            }
            for f in members.files
        ],
        absentee_files=absentee_files,
        files=sorted(files),
    )


def _write_voter_and_history(pop: Population, history: History, out: Path) -> None:
    rows = voter_rows(pop)
    write_quoted_tsv(ncvoter_frame(rows), out / "ncvoter_synth.txt")
    write_quoted_tsv(ncvhis_frame(rows, history), out / "ncvhis_synth.txt")


def _generate_rest(
    params: SynthParams, pop: Population, out: Path, report: Progress
) -> tuple[pl.DataFrame, list[str], MembersResult]:
    """Polling places, absentee snapshots and member files (the Python-heavy part)."""
    report(55, "polling places")
    label = params.election_day.strftime("%m/%d/%Y")
    pp_name = f"polling_place_{params.election_day.strftime('%Y%m%d')}.csv"
    write_polling_places(polling_place_frame(pop, label), out / pp_name)
    address_points_frame(pop).write_csv(out / "address_points_synth.csv")
    report(57, "absentee snapshots")
    events = build_absentee_events(pop, params.seed, params.election_day, params.today)
    absentee_files = write_absentee_snapshots(
        pop, events, out, params.election_day, params.today, params.absentee_days
    )
    report(70, "member files")
    members = build_members(params, pop, out)

    return events, absentee_files, members


def _write_truth(
    pop: Any, records: pl.DataFrame, extra: pl.DataFrame, locals_df: pl.DataFrame, truth: Path
) -> None:
    """Write the ground-truth parquet files (schemas in docs/synth.md)."""
    # lz4: truth files are read by tests and tools, size matters less than write speed.
    opts: dict[str, Any] = {"compression": "lz4", "statistics": False}
    records.write_parquet(truth / "member_records.parquet", **opts)
    locals_df.write_parquet(truth / "locals.parquet", **opts)
    hh = pop.households.join(
        pop.geography.precincts.select("precinct_idx", "precinct_abbrv"), on="precinct_idx", how="left"
    ).join(pop.geography.counties.select("county_idx", "county_id"), on="county_idx", how="left")
    hh.select(
        pl.col("household_idx").alias("household_id"), "house_number", "street_name", "unit",
        pl.col("town_name").alias("city"), pl.col("zip").cast(pl.Utf8), "county_id",
        "precinct_abbrv", "street_id", "lat", "lon", "is_apartment", "adults",
    ).write_parquet(truth / "households.parquet", **opts)
    persons = pop.persons.join(
        hh.select("household_idx", "house_number", "street_name", "unit", "town_name", "zip"),
        on="household_idx", how="left",
    )
    in_state = persons.select(
        "person_id", pl.col("household_idx").alias("household_id"), "first_name", "middle_name",
        "last_name", "name_suffix", "sex", "dob", "race_code", "ethnic_code", "party_cd",
        "registered", pl.lit("NC").alias("state"), pl.col("house_number").cast(pl.Utf8),
        "street_name", "unit", pl.col("town_name").alias("city"), pl.col("zip").cast(pl.Utf8),
        pl.when(pl.col("phone") != "").then(pl.concat_str([pl.lit("+1"), pl.col("phone")])).otherwise(None).alias("phone_e164"),
        pl.when(pl.col("has_email")).then(
            person_email(pl.col("first_name"), pl.col("last_name"), pl.col("email_style"), pl.col("email_num"), pl.col("email_domain"))
        ).otherwise(None).alias("email"),
        "propensity",
    )
    oos = extra.select(
        "person_id", pl.lit(None, dtype=pl.Int64).alias("household_id"), "first_name",
        "middle_name", "last_name", "name_suffix", "sex", pl.col("dob_days").cast(pl.Date).alias("dob"),
        pl.lit("U").alias("race_code"), pl.lit("UN").alias("ethnic_code"),
        pl.lit(None, dtype=pl.Utf8).alias("party_cd"), pl.lit(False).alias("registered"), "state",
        pl.col("house_number").cast(pl.Utf8), "street_name", "unit", "city", "zip",
        pl.when(pl.col("has_phone")).then(pl.concat_str([pl.lit("+1"), pl.col("phone")])).otherwise(None).alias("phone_e164"),
        pl.when(pl.col("has_email")).then(
            person_email(pl.col("first_name"), pl.col("last_name"), pl.col("email_style"), pl.col("email_num"), pl.col("email_domain"))
        ).otherwise(None).alias("email"),
        pl.lit(None, dtype=pl.Float64).alias("propensity"),
    )
    pl.concat([in_state, oos], how="vertical_relaxed").write_parquet(truth / "persons.parquet", **opts)
    v = pop.voters.with_row_index("voter_row").join(
        pop.persons.with_row_index("person_row").select(
            pl.col("person_row").cast(pl.Int64), "person_id", "household_idx"
        ),
        on="person_row", how="left", maintain_order="left",
    )
    v.select(
        pl.col("voter_row").cast(pl.Int64).alias("file_row"), "county_id",
        pl.col("voter_reg_num").cast(pl.Utf8).str.zfill(12), "ncid", "person_id",
        pl.col("household_idx").alias("household_id"), "status_cd", "reason_cd",
        "confidential", "registr_dt",
    ).write_parquet(truth / "voters.parquet", **opts)
