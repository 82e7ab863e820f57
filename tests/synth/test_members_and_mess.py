"""Affiliate member files: formats, truth keys, and realized mess rates measured in the files."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from unionhall.synth import MessRates, SynthSummary
from unionhall.synth.affiliates import PROFILES
from unionhall.synth.names import nickname_table


# Documented tolerance (docs/synth.md): realized rate within max(0.01, 2 / eligible)
# of the configured rate, measured from the written files against the truth.
def tolerance(eligible: int) -> float:
    return max(0.01, 2 / max(eligible, 1))


def read_member_file(out: Path, rel: str, fmt: str, encoding: str) -> list[list[str]]:
    """All physical rows of a member file (header first) as strings."""
    path = out / rel
    if fmt == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [["" if v is None else str(v) for v in row] for row in rows]
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ","))


def fold(s: str) -> str:
    """Upper-case ASCII: the voter file's form of a name."""
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().upper().strip()


@pytest.fixture(scope="module")
def written(dist_state: tuple[Path, SynthSummary]) -> pl.DataFrame:
    """Member rows from the files joined to their truth rows by (file, row_number)."""
    out, summary = dist_state
    truth = pl.read_parquet(out / "truth" / "member_records.parquet")
    profiles = {p.slug: p for p in PROFILES}
    records: list[dict[str, object]] = []
    for f in summary.member_files:
        prof = profiles[f["slug"]]
        rows = read_member_file(out, f["path"], f["format"], f["encoding"])
        header = [h for _, h in prof.columns]
        assert rows[0] == header
        assert len(rows) - 1 == f["rows"]
        fields = [c for c, _ in prof.columns]
        for n, row in enumerate(rows[1:], start=2):
            rec: dict[str, object] = {"file": f["path"], "row_number": n, "raw": row}
            if row and any(row) and len(row) == len(fields):
                rec.update({k: v for k, v in zip(fields, row, strict=True)})
            records.append(rec)
    df = pl.DataFrame(records, infer_schema_length=None)
    joined = df.join(truth, on=["file", "row_number"], how="full", coalesce=True)
    assert joined.height == truth.height == df.height, "every row has exactly one truth row"
    return joined


def test_every_file_row_is_accounted_for_in_truth(written: pl.DataFrame) -> None:
    kinds = written["record_kind"].value_counts()
    assert set(kinds["record_kind"]) >= {"member", "duplicate", "junk_blank", "junk_header", "junk_total"}
    junk = written.filter(pl.col("record_kind").str.starts_with("junk"))
    assert junk["person_id"].null_count() == junk.height
    blank = written.filter(pl.col("record_kind") == "junk_blank")
    assert all(not any(r) for r in blank["raw"].to_list())
    members = written.filter(pl.col("record_kind") == "member")
    assert members["person_id"].null_count() == 0
    # A member id appears once per file among member rows; duplicates point at it.
    assert members.select("file", "source_member_id").is_unique().all()
    dups = written.filter(pl.col("record_kind") == "duplicate")
    orig = members.select("file", pl.col("row_number").alias("duplicate_of_row"), pl.col("person_id").alias("p"))
    check = dups.join(orig, on=["file", "duplicate_of_row"], how="left")
    assert (check["p"] == check["person_id"]).all()


def test_formats_encodings_and_name_styles(dist_state: tuple[Path, SynthSummary]) -> None:
    out, summary = dist_state
    formats = {f["format"] for f in summary.member_files}
    assert formats == {"csv", "tsv", "xlsx"}
    cp1252 = [f for f in summary.member_files if f["encoding"] == "cp1252"]
    assert len(cp1252) == 1
    raw = (out / cp1252[0]["path"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert re.search(r"[áéíóúñÁÉÍÓÚÑ]", text), "accented names expected in the Windows-1252 file"
    lfm = [p for p in PROFILES[: len(summary.member_files)] if any(c == "full_name_lfm" for c, _ in p.columns)]
    assert lfm
    rows = read_member_file(out, f"members/{lfm[0].file_name}", lfm[0].fmt, lfm[0].encoding or "utf-8")
    col = [c for c, _ in lfm[0].columns].index("full_name_lfm")
    names = [r[col] for r in rows[1:] if len(r) > col and r[col] and r[col] != rows[0][col]]
    assert sum(bool(re.fullmatch(r"[^,]+, [^,]+", n)) for n in names) / len(names) > 0.95


def test_dates_and_phones_come_in_mixed_formats(written: pl.DataFrame) -> None:
    members = written.filter(pl.col("record_kind") == "member")
    dobs = [d for d in members["dob"].to_list() if d]
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4}", d) for d in dobs)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dobs)
    assert any(re.fullmatch(r"\d{5}(\.0)?", d) for d in dobs), "Excel serial numbers expected"
    phones = [p for p in members["phone"].to_list() if p]
    shapes = {re.sub(r"\d", "#", p) for p in phones}
    assert len(shapes) >= 5


def _within(realized: float, rate: float, eligible: int) -> bool:
    return abs(realized - rate) <= tolerance(eligible)


def _edit_distance_le1(a: str, b: str) -> bool:
    if a == b:
        return False
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    s, t = (a, b) if len(a) < len(b) else (b, a)
    return any(t[:i] + t[i + 1 :] == s for i in range(len(t)))


def _names(row: dict[str, object]) -> tuple[str, str]:
    if row.get("full_name_lfm"):
        last, _, rest = str(row["full_name_lfm"]).partition(", ")
        first = rest.split(" ")[0]
        return fold(first), fold(last)
    return fold(str(row.get("first") or "")), fold(str(row.get("last") or ""))


def test_mess_rates_measured_in_files_match_configuration(written: pl.DataFrame) -> None:
    rates = MessRates()
    members = written.filter(pl.col("record_kind") == "member").to_dicts()
    nick = nickname_table()
    n = len(members)

    swapped = [r for r in members if _names(r) == (r["true_last_name"], r["true_first_name"]) and r["true_first_name"] != r["true_last_name"]]
    assert _within(len(swapped) / n, rates.transposed_name, n)

    plain = [r for r in members if r not in swapped]
    eligible = [r for r in plain if r["true_first_name"] in nick]
    nicked = [r for r in eligible if _names(r)[0] in nick[str(r["true_first_name"])]]
    assert _within(len(nicked) / len(eligible), rates.nickname, len(eligible))

    typos = [
        r for r in plain
        if _edit_distance_le1(_names(r)[1], str(r["true_last_name"]))
        or (_names(r)[0] not in nick.get(str(r["true_first_name"]), ()) and _edit_distance_le1(_names(r)[0], str(r["true_first_name"])))
    ]
    assert _within(len(typos) / len(plain), rates.typo, len(plain))

    missing = [r for r in members if not r["dob"]]
    assert _within(len(missing) / n, rates.dob_missing, n)
    partial = [r for r in members if r["dob"] and re.fullmatch(r"\d{4}|\d\d/\d{4}|\d{4}-\d\d", str(r["dob"]))]
    assert _within(len(partial) / (n - len(missing)), rates.dob_partial, n - len(missing))

    in_state = [r for r in members if r["registration"] != "out_of_state"]
    moved = [r for r in in_state if not str(r["address"]).upper().startswith(f"{r['true_house_number']} {r['true_street_name']}")]
    assert _within(len(moved) / len(in_state), rates.moved, len(in_state))

    with_unit = [r for r in members if r["true_unit"] and r["true_unit"] in f"{r['address']} {r.get('address2') or ''}"]
    standard = re.compile(r"(^|\s)APT \S+$", re.IGNORECASE)
    variant = [
        r for r in with_unit
        if not standard.search(str(r.get("address2") or "").strip() or str(r["address"]).strip())
    ]
    assert _within(len(variant) / len(with_unit), rates.apartment_variant, len(with_unit))

    persons = written.filter(pl.col("record_kind") == "member").group_by("person_id").agg(pl.col("file").n_unique())
    dual = persons.filter(pl.col("file") >= 2).height
    assert _within(dual / persons.height, rates.dual_member, persons.height)
    reg = written.filter(pl.col("record_kind") == "member").unique("person_id")
    assert _within((reg["registration"] == "unregistered").mean() or 0.0, rates.unregistered, reg.height)
    oos = [r for r in members if r["state"] and r["state"] != "NC"] if "state" in written.columns else []
    assert _within(len(oos) / n, rates.out_of_state, n)

    dup_rows = written.filter(pl.col("record_kind") == "duplicate").height
    assert _within(dup_rows / n, rates.duplicate_row, n)
    junk = written.filter(pl.col("record_kind").is_in(["junk_blank", "junk_header"])).height
    assert junk >= written["file"].n_unique()  # at least one per file
    assert _within(junk / n, rates.junk_row, n)


def test_truth_links_members_to_the_voter_file(dist_state: tuple[Path, SynthSummary]) -> None:
    out, _ = dist_state
    truth = pl.read_parquet(out / "truth" / "member_records.parquet").filter(pl.col("record_kind") == "member")
    voters = pl.read_parquet(out / "truth" / "voters.parquet")
    registered = truth.filter(pl.col("registration") == "registered")
    assert registered["voter_reg_num"].null_count() == 0
    linked = registered.join(
        voters, left_on=["voter_county_id", "voter_reg_num"], right_on=["county_id", "voter_reg_num"], how="left"
    )
    assert (linked["person_id"] == linked["person_id_right"]).all()
    assert set(linked["status_cd"].unique()) <= {"A", "I"}
    unregistered = truth.filter(pl.col("registration") != "registered")
    assert unregistered["voter_reg_num"].null_count() == unregistered.height
    assert not set(unregistered["person_id"]) & set(voters["person_id"])
    share = (truth.unique("person_id")["registration"] == "unregistered").mean()
    assert 0.20 <= (share or 0) <= 0.30
