"""Standardize a batch of member rows: every value kept raw and standardized, with flags.

`standardize_batch(batch, mapping)` turns one reader `Batch` into a table of loaded rows
with the fixed `LOADED_SCHEMA`, plus the quarantined rows (the reader's rejects and the
rows that fail validation: repeated header, totals line, no usable name).

Speed comes from doing Python work once per *distinct* value: each field's distinct
values in the batch are standardized (through LRU caches that also span batches), put in
a small lookup table and joined back onto the batch in Polars.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from unionhall.ingest import quarantine as q
from unionhall.ingest.mapping import CUSTOM, ColumnMapping
from unionhall.ingest.quarantine import RejectedRow, quarantine_frame
from unionhall.ingest.readers import Batch
from unionhall.ingest.standardize.addresses import (
    split_full_address,
    standardize_street,
    street_vector_frame,
)
from unionhall.ingest.standardize.codes import (
    member_id_vector_exprs,
    standardize_dues_status,
    standardize_gender,
    standardize_local,
    standardize_member_id,
    standardize_member_status,
    standardize_state,
    standardize_text,
    standardize_zip,
)
from unionhall.ingest.standardize.dates import check_range, parse_date
from unionhall.ingest.standardize.emails import email_vector_exprs, standardize_email
from unionhall.ingest.standardize.names import (
    standardize_first,
    standardize_full_name,
    standardize_last,
    standardize_name_piece,
    standardize_suffix,
    standardize_title,
)
from unionhall.ingest.standardize.phones import phone_vector_exprs, standardize_phone
from unionhall.ingest.standardize.text import collapse

__all__ = ["LOADED_SCHEMA", "StandardizedBatch", "standardize_batch"]

PHONE_STRUCT = pl.Struct({"e164": pl.Utf8, "type": pl.Utf8, "raw": pl.Utf8, "flag": pl.Utf8, "column": pl.Utf8})
EMAIL_STRUCT = pl.Struct({"email": pl.Utf8, "raw": pl.Utf8, "flag": pl.Utf8, "column": pl.Utf8})

_LOADED_COLUMNS: dict[str, Any] = {
    "row_number": pl.Int64,
    "member_id": pl.Utf8,
    "local": pl.Utf8,
    "prefix": pl.Utf8,
    "first_name": pl.Utf8,
    "middle_name": pl.Utf8,
    "last_name": pl.Utf8,
    "suffix": pl.Utf8,
    "name_raw": pl.Utf8,
    "addr_line1": pl.Utf8,
    "addr_line2": pl.Utf8,
    "addr_number": pl.Utf8,
    "addr_street": pl.Utf8,
    "city": pl.Utf8,
    "state": pl.Utf8,
    "zip5": pl.Utf8,
    "zip4": pl.Utf8,
    "address_raw": pl.Utf8,
    "address_flag": pl.Utf8,
    "phone": pl.Utf8,
    "phones": pl.List(PHONE_STRUCT),
    "email": pl.Utf8,
    "email_raw": pl.Utf8,
    "email_flag": pl.Utf8,
    "emails": pl.List(EMAIL_STRUCT),
    "dob": pl.Date,
    "dob_raw": pl.Utf8,
    "dob_flag": pl.Utf8,
    "gender": pl.Utf8,
    "employer": pl.Utf8,
    "worksite": pl.Utf8,
    "member_status": pl.Utf8,
    "dues_status": pl.Utf8,
    "join_date": pl.Date,
    "join_date_raw": pl.Utf8,
    "join_date_flag": pl.Utf8,
    "flags": pl.List(pl.Utf8),
    "custom": pl.Utf8,
}
LOADED_SCHEMA = pl.Schema(_LOADED_COLUMNS)

EARLIEST_DATE = dt.date(1900, 1, 1)
_TOTALS_RE = re.compile(
    r"^\s*(?:grand\s+|sub-?)?totals?\b|\btotal\s+(?:members|records|rows|count|employees)\b"
    r"|^\s*(?:record\s+|row\s+|member\s+)?count\s*[:=]|^\s*sum\s*[:=]|^\s*end\s+of\s+(?:report|file)\b",
    re.I,
)


@dataclass(frozen=True)
class StandardizedBatch:
    """Loaded rows (`LOADED_SCHEMA`) and quarantined rows (`QUARANTINE_SCHEMA`) of one batch.

    `batch` is the reader batch it came from (its `raw` text is aligned by `row_number`).
    """

    loaded: pl.DataFrame
    quarantined: pl.DataFrame
    rows_read: int
    batch: Batch


def _lookup(keys: Sequence[pl.Series], fn: Callable[..., Sequence[Any]], out: dict[str, Any]) -> pl.DataFrame:
    """Apply `fn` once per distinct key tuple and join the results back in row order."""
    names = [f"__k{i}" for i in range(len(keys))]
    frame = pl.DataFrame({n: k for n, k in zip(names, keys, strict=True)})
    uniq = frame.unique()
    cols = [uniq.get_column(n).to_list() for n in names]
    results = [fn(*args) for args in zip(*cols, strict=True)]
    data: dict[str, pl.Series] = {n: uniq.get_column(n) for n in names}
    for j, (name, dtype) in enumerate(out.items()):
        data[name] = pl.Series(name, [r[j] for r in results], dtype=dtype)
    table = pl.DataFrame(data)
    joined = frame.join(table, on=names, how="left", maintain_order="left", nulls_equal=True)
    return joined.drop(names)


VectorFn = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr, Callable[[pl.Expr], pl.Expr]]]


def _lookup_hybrid(
    values: pl.Series, vector: VectorFn, fn: Callable[..., Sequence[Any]], out: dict[str, Any]
) -> pl.DataFrame:
    """Two outputs (value, flag) for one column: rows `vector` handles are computed in Polars;
    only the distinct values of the remaining rows go through `fn` in Python."""
    (value_name, value_type), (flag_name, flag_type) = out.items()
    frame = values.to_frame("__v")
    handled, value, flag = vector(pl.col("__v"))
    # Staged so the flag reads the computed value instead of re-running its regexes.
    fast = frame.with_columns(__h=handled.fill_null(False), __val=value).with_columns(__flag=flag(pl.col("__val")))
    mask = fast.get_column("__h")
    rest = values.filter(~mask)
    slow = _lookup([rest], fn, out) if rest.len() else pl.DataFrame(schema=out)
    # Scatter the slow answers back to their rows.
    idx = pl.Series(range(values.len())).filter(~mask)
    val = fast.get_column("__val").cast(value_type).scatter(idx, slow.get_column(value_name)) if rest.len() else fast.get_column("__val").cast(value_type)
    flg = fast.get_column("__flag").cast(flag_type).scatter(idx, slow.get_column(flag_name)) if rest.len() else fast.get_column("__flag").cast(flag_type)
    return pl.DataFrame({value_name: val, flag_name: flg})


def _street_hybrid(line1: pl.Series, line2: pl.Series) -> pl.DataFrame:
    """Street standardization: plain shapes in Polars, the rest once per distinct value."""
    fast = street_vector_frame(line1, line2)
    mask = fast.get_column("__h")
    out = fast.drop("__h")
    if mask.all():
        return out
    idx = pl.Series(range(line1.len())).filter(~mask)
    slow = _lookup([line1.filter(~mask), line2.filter(~mask)], standardize_street, {n: pl.Utf8 for n in out.columns})
    return pl.DataFrame({n: out.get_column(n).scatter(idx, slow.get_column(n)) for n in out.columns})


_PLAIN_ZIP = r"^\d{5}(?:-?\d{4})?$"


def _zip_hybrid(values: pl.Series) -> pl.DataFrame:
    """ZIPs already in 12345 / 12345-6789 / 123456789 form in Polars; the rest in Python."""
    frame = values.to_frame("z").select(
        __h=pl.col("z").str.contains(_PLAIN_ZIP),
        a_zip5=pl.col("z").str.slice(0, 5),
        a_zip4=pl.col("z").str.extract(r"^\d{5}-?(\d{4})$", 1),
        f_zip=pl.lit(None, dtype=pl.Utf8),
    )
    mask = frame.get_column("__h")
    out = frame.drop("__h")
    if mask.all():
        return out
    idx = pl.Series(range(values.len())).filter(~mask)
    slow = _lookup([values.filter(~mask)], standardize_zip, {n: pl.Utf8 for n in out.columns})
    return pl.DataFrame({n: out.get_column(n).scatter(idx, slow.get_column(n)) for n in out.columns})


def _date_hybrid(values: pl.Series, order: str, fn: Callable[[str, str], Any], latest: dt.date, names: tuple[str, str]) -> pl.DataFrame:
    """ISO dates (1980-03-04) and, in MDY files, 03/04/1980 in Polars; the rest in Python.

    Same answers as `parse_date` + `check_range`: impossible dates flagged, out-of-range
    and future dates nulled and flagged (tests compare the two).
    """
    v = pl.col("d")
    iso = v.str.extract_groups(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
    us = v.str.extract_groups(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
    use_us = order == "MDY"
    g = values.to_frame("d").select(
        y=pl.coalesce(iso.struct.field("1"), us.struct.field("3") if use_us else None),
        m=pl.coalesce(iso.struct.field("2"), us.struct.field("1") if use_us else None),
        dd=pl.coalesce(iso.struct.field("3"), us.struct.field("2") if use_us else None),
    )
    date = (
        pl.concat_str([pl.col("y"), pl.col("m").str.zfill(2), pl.col("dd").str.zfill(2)], separator="-")
        .str.to_date("%Y-%m-%d", strict=False)
    )
    g = g.with_columns(__h=pl.col("y").is_not_null(), __date=date)
    value_name, flag_name = names
    out = g.select(
        "__h",
        pl.when((pl.col("__date") >= EARLIEST_DATE) & (pl.col("__date") <= latest)).then(pl.col("__date")).alias(value_name),
        pl.when(pl.col("__date").is_null()).then(pl.lit("impossible"))
        .when(pl.col("__date") > latest).then(pl.lit("future"))
        .when(pl.col("__date") < EARLIEST_DATE).then(pl.lit("out_of_range"))
        .alias(flag_name),
    )
    mask = out.get_column("__h")
    out = out.drop("__h")
    if mask.all():
        return out
    idx = pl.Series(range(values.len())).filter(~mask)
    slow = _lookup([values.filter(~mask)], lambda x: fn(x, order), {value_name: pl.Date, flag_name: pl.Utf8})
    return pl.DataFrame({n: out.get_column(n).scatter(idx, slow.get_column(n)) for n in out.columns})


def _col(df: pl.DataFrame, name: str | None) -> pl.Series:
    if name is None:
        return pl.Series([""] * df.height, dtype=pl.Utf8)
    return df.get_column(name).fill_null("")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@lru_cache(maxsize=262144)
def _dob(value: str, order: str) -> tuple[dt.date | None, str | None]:
    d, flag = parse_date(value, order)
    return check_range(d, flag, earliest=EARLIEST_DATE, latest=_today())


@lru_cache(maxsize=262144)
def _join_date(value: str, order: str) -> tuple[dt.date | None, str | None]:
    d, flag = parse_date(value, order)
    return check_range(d, flag, earliest=EARLIEST_DATE, latest=_today() + dt.timedelta(days=366))


def _city(value: str) -> tuple[str | None, str | None]:
    v, flags = standardize_text(value)
    return (v.upper() if v else None), flags


def _full_address(value: str) -> tuple[str, str, str, str, str | None]:
    parts = split_full_address(value)
    if parts is None:
        v = collapse(value)
        return v, "", "", "", ("unparsed" if v else None)
    return parts.street, parts.city, parts.state, parts.zip, None


def _list_column(frames: list[pl.DataFrame], n: int, dtype: pl.DataType) -> pl.Series:
    """Row-wise lists from k aligned one-struct-column frames, skipping null entries.

    Built through Arrow offsets: Polars' list.drop_nulls on structs costs ~20 µs a row.
    Each frame has columns `__row` (row index) and `v` (the struct), already filtered.
    """
    if not frames:
        return pl.Series([[]] * n, dtype=dtype)
    long = pl.concat([f.with_columns(__k=pl.lit(i, pl.Int32)) for i, f in enumerate(frames)])
    long = long.sort(["__row", "__k"])
    counts = np.bincount(long.get_column("__row").to_numpy(), minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = long.get_column("v").cast(dtype.inner).to_arrow()  # type: ignore[attr-defined]
    return pl.Series(pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets), values)))


def _flag_expr(prefix: str, col: str) -> pl.Expr:
    """'a,b' in column `col` -> 'prefix:a,prefix:b' (null stays null)."""
    c = pl.col(col)
    return pl.when(c.is_not_null() & (c != "ok")).then(pl.lit(prefix + ":") + c.str.replace_all(",", "," + prefix + ":"))


def standardize_batch(batch: Batch, mapping: ColumnMapping) -> StandardizedBatch:
    """Standardize one batch under `mapping`; see the module docstring and docs/import.md."""
    df = batch.frame
    header = df.columns
    # A saved mapping may name columns this file does not have; they contribute nothing.
    if any(col not in header for col in mapping.columns):
        mapping = replace(mapping, columns={c: r for c, r in mapping.columns.items() if c in header})
    order = mapping.date_order
    work: dict[str, pl.Series] = {"row_number": batch.row_numbers}
    flag_cols: list[tuple[str, str]] = []  # (flag prefix, work column)

    def put(frame: pl.DataFrame) -> None:
        for s in frame.iter_columns():
            work[s.name] = s

    # --- names -------------------------------------------------------------------------
    c_first, c_last = mapping.column_for("first_name"), mapping.column_for("last_name")
    c_middle, c_suffix = mapping.column_for("middle_name"), mapping.column_for("suffix")
    c_prefix, c_full = mapping.column_for("prefix"), mapping.column_for("full_name")
    s = pl.Utf8
    if c_first:
        put(_lookup([_col(df, c_first)], standardize_first,
                    {"p_title": s, "p_first": s, "p_middle1": s, "f_first": s}))
        flag_cols.append(("first_name", "f_first"))
    if c_last:
        put(_lookup([_col(df, c_last)], standardize_last, {"p_last": s, "p_suffix1": s, "f_last": s}))
        flag_cols.append(("last_name", "f_last"))
    if c_middle:
        put(_lookup([_col(df, c_middle)], standardize_name_piece, {"p_middle": s, "f_middle": s}))
        flag_cols.append(("middle_name", "f_middle"))
    if c_suffix:
        put(_lookup([_col(df, c_suffix)], standardize_suffix, {"p_suffix": s, "f_suffix": s}))
    if c_prefix:
        put(_lookup([_col(df, c_prefix)], standardize_title, {"p_prefix": s, "f_prefix": s}))
    if c_full:
        put(_lookup([_col(df, c_full)], standardize_full_name,
                    {"n_prefix": s, "n_first": s, "n_middle": s, "n_last": s, "n_suffix": s, "f_name": s}))
        flag_cols.append(("name", "f_name"))

    # --- address -----------------------------------------------------------------------
    c_l1, c_l2 = mapping.column_for("addr_line1"), mapping.column_for("addr_line2")
    c_city, c_state, c_zip = mapping.column_for("city"), mapping.column_for("state"), mapping.column_for("zip")
    c_faddr = mapping.column_for("full_address")
    line1, city_in, state_in, zip_in = _col(df, c_l1), _col(df, c_city), _col(df, c_state), _col(df, c_zip)
    if c_faddr:
        fa = _lookup([_col(df, c_faddr)], _full_address,
                     {"fa_street": s, "fa_city": s, "fa_state": s, "fa_zip": s, "f_faddr": s})
        put(fa.select("f_faddr"))
        use = line1.str.strip_chars() == ""
        line1 = pl.select(pl.when(use).then(fa["fa_street"]).otherwise(line1)).to_series()
        city_in = pl.select(pl.when(city_in.str.strip_chars() == "").then(fa["fa_city"]).otherwise(city_in)).to_series()
        state_in = pl.select(pl.when(state_in.str.strip_chars() == "").then(fa["fa_state"]).otherwise(state_in)).to_series()
        zip_in = pl.select(pl.when(zip_in.str.strip_chars() == "").then(fa["fa_zip"]).otherwise(zip_in)).to_series()
    has_address = bool(c_l1 or c_l2 or c_city or c_state or c_zip or c_faddr)
    if has_address:
        put(_street_hybrid(line1, _col(df, c_l2)))
        put(_lookup([city_in], _city, {"a_city": s, "f_city": s}))
        put(_lookup([state_in], standardize_state, {"a_state": s, "f_state": s}))
        put(_zip_hybrid(zip_in))
        flag_cols += [("state", "f_state"), ("zip", "f_zip"), ("city", "f_city")]

    # --- phones and emails -------------------------------------------------------------
    phone_cols = mapping.columns_for("phone")
    for i, col in enumerate(phone_cols):
        put(_lookup_hybrid(_col(df, col), phone_vector_exprs, standardize_phone, {f"ph{i}_e164": s, f"ph{i}_flag": s}))
    email_cols = mapping.columns_for("email")
    for i, col in enumerate(email_cols):
        put(_lookup_hybrid(_col(df, col), email_vector_exprs, standardize_email, {f"em{i}_email": s, f"em{i}_flag": s}))

    # --- dates and codes ---------------------------------------------------------------
    c_dob, c_join = mapping.column_for("dob"), mapping.column_for("join_date")
    if c_dob:
        put(_date_hybrid(_col(df, c_dob), order, _dob, _today(), ("d_dob", "d_dob_flag")))
    if c_join:
        put(_date_hybrid(_col(df, c_join), order, _join_date, _today() + dt.timedelta(days=366), ("d_join", "d_join_flag")))
    simple = {
        "member_id": standardize_member_id,
        "local": standardize_local,
        "gender": standardize_gender,
        "employer": standardize_text,
        "worksite": standardize_text,
        "member_status": standardize_member_status,
        "dues_status": standardize_dues_status,
    }
    for fname, fn in simple.items():
        simple_col = mapping.column_for(fname)
        if simple_col and fname == "member_id":
            put(_lookup_hybrid(_col(df, simple_col), member_id_vector_exprs, fn, {f"c_{fname}": s, f"cf_{fname}": s}))
        elif simple_col:
            put(_lookup([_col(df, simple_col)], fn, {f"c_{fname}": s, f"cf_{fname}": s}))
            flag_cols.append((fname, f"cf_{fname}"))

    w = pl.DataFrame(work)
    n = w.height

    def c(name: str, dtype: Any = pl.Utf8) -> pl.Expr:
        return pl.col(name) if name in work else pl.lit(None, dtype=dtype)

    def raw(col: str | None) -> pl.Expr:
        if col is None:
            return pl.lit(None, dtype=pl.Utf8)
        return pl.lit(df.get_column(col)).replace("", None)

    # Names: the part columns win; the combined column fills rows where they are empty.
    parts_empty = c("p_first").is_null() & c("p_last").is_null()
    first = pl.when(parts_empty).then(c("n_first")).otherwise(c("p_first"))
    last = pl.when(parts_empty).then(c("n_last")).otherwise(c("p_last"))
    middle = pl.coalesce(c("p_middle"), c("p_middle1"), pl.when(parts_empty).then(c("n_middle")))
    suffix = pl.coalesce(c("p_suffix"), c("p_suffix1"), pl.when(parts_empty).then(c("n_suffix")))
    prefix = pl.coalesce(c("p_prefix"), c("p_title"), pl.when(parts_empty).then(c("n_prefix")))
    name_raw_parts = [raw(x) for x in (c_prefix, c_first, c_middle, c_last, c_suffix) if x]
    name_raw = raw(c_full) if c_full else (
        pl.concat_str(name_raw_parts, separator=" ", ignore_nulls=True) if name_raw_parts else pl.lit(None, pl.Utf8)
    )
    if c_full and name_raw_parts:
        name_raw = pl.coalesce(pl.concat_str(name_raw_parts, separator=" ", ignore_nulls=True).replace("", None), raw(c_full))

    # Address flag, most serious first.
    foreign = (c("f_state") == "foreign") | (c("f_zip") == "foreign")
    unparsed = (c("a_flag") == "unparsed") | (c("f_faddr") == "unparsed")
    missing = c("a_line1").is_null() & c("a_city").is_null() & c("a_state").is_null() & c("a_zip5").is_null()
    incomplete = c("a_line1").is_null() | (c("a_city").is_null() & c("a_zip5").is_null())
    address_flag = (
        pl.when(pl.lit(not has_address) | missing).then(pl.lit("missing"))
        .when(foreign.fill_null(False)).then(pl.lit("foreign"))
        .when(unparsed.fill_null(False)).then(pl.lit("unparsed"))
        .when(incomplete).then(pl.lit("incomplete"))
        .when(c("a_flag") == "po_box").then(pl.lit("po_box"))
        .otherwise(pl.lit("ok"))
    )
    if c_faddr:
        address_raw = raw(c_faddr)
    else:
        addr_parts = [raw(x) for x in (c_l1, c_l2, c_city, c_state, c_zip) if x]
        address_raw = pl.concat_str(addr_parts, separator=", ", ignore_nulls=True) if addr_parts else pl.lit(None, pl.Utf8)
    # A foreign address is kept as written (upper-cased): US rules would mangle it.
    foreign_line1 = pl.lit(line1).str.strip_chars().str.to_uppercase().replace("", None)
    # Materialize the pieces used many times: an eager select re-evaluates repeated
    # sub-expressions.
    w = w.with_columns(__first=first, __last=last, __addr_flag=address_flag)
    first, last, address_flag = pl.col("__first"), pl.col("__last"), pl.col("__addr_flag")
    is_foreign = address_flag == "foreign"

    w_raw = w.with_row_index("__row").with_columns(
        [df.get_column(col).alias(f"__ph{i}") for i, col in enumerate(phone_cols)]
        + [df.get_column(col).alias(f"__em{i}") for i, col in enumerate(email_cols)]
    )
    phones = _list_column(
        [
            w_raw.filter(pl.col(f"__ph{i}").str.strip_chars() != "").select(
                pl.col("__row").cast(pl.Int64),
                v=pl.struct(
                    e164=c(f"ph{i}_e164"),
                    type=pl.lit(mapping.rule(col).phone_type or "other"),
                    raw=pl.col(f"__ph{i}"),
                    flag=c(f"ph{i}_flag"),
                    column=pl.lit(col),
                ),
            )
            for i, col in enumerate(phone_cols)
        ],
        w.height,
        pl.List(PHONE_STRUCT),
    )
    emails = _list_column(
        [
            w_raw.filter(pl.col(f"__em{i}").str.strip_chars() != "").select(
                pl.col("__row").cast(pl.Int64),
                v=pl.struct(email=c(f"em{i}_email"), raw=pl.col(f"__em{i}"), flag=c(f"em{i}_flag"), column=pl.lit(col)),
            )
            for i, col in enumerate(email_cols)
        ],
        w.height,
        pl.List(EMAIL_STRUCT),
    )
    first_email = [i for i, _ in enumerate(email_cols)]

    for i, col in enumerate(phone_cols):
        flag_cols.append((f"phone[{col}]", f"ph{i}_flag"))
    for i, col in enumerate(email_cols):
        flag_cols.append((f"email[{col}]", f"em{i}_flag"))
    if c_dob:
        flag_cols.append(("dob", "d_dob_flag"))
    if c_join:
        flag_cols.append(("join_date", "d_join_flag"))
    name_incomplete = pl.when(first.is_null() ^ last.is_null()).then(pl.lit("name:incomplete"))
    addr_flag_text = pl.when(address_flag.is_in(["unparsed", "foreign", "incomplete"])).then(
        pl.lit("address:") + address_flag
    )
    flag_exprs = [_flag_expr(p, col) for p, col in flag_cols if col in work] + [name_incomplete, addr_flag_text]
    flags = pl.concat_str(flag_exprs, separator=",", ignore_nulls=True)
    flags = pl.when(flags == "").then(pl.lit([], dtype=pl.List(pl.Utf8))).otherwise(flags.str.split(","))

    custom_cols = [col for col in header if mapping.rule(col).field == CUSTOM]

    def json_of(cols: list[str], names: list[str]) -> pl.Expr:
        if not cols:
            return pl.lit(None, dtype=pl.Utf8)
        return pl.struct([raw(col).alias(nm) for col, nm in zip(cols, names, strict=True)]).struct.json_encode()

    custom_names = [mapping.rule(col).custom_name or col for col in custom_cols]
    email_first_ok = pl.coalesce([c(f"em{i}_email") for i in first_email]) if email_cols else pl.lit(None, pl.Utf8)
    email_raw0 = pl.coalesce([raw(col) for col in email_cols]) if email_cols else pl.lit(None, pl.Utf8)
    email_flag0 = (
        pl.coalesce([pl.when(raw(col).is_not_null()).then(c(f"em{i}_flag")) for i, col in enumerate(email_cols)])
        if email_cols else pl.lit(None, pl.Utf8)
    )

    out = w.select(
        row_number=pl.col("row_number"),
        member_id=c("c_member_id"),
        local=c("c_local"),
        prefix=prefix,
        first_name=first,
        middle_name=middle,
        last_name=last,
        suffix=suffix,
        name_raw=name_raw,
        addr_line1=pl.when(is_foreign).then(foreign_line1).otherwise(c("a_line1")),
        addr_line2=pl.when(is_foreign).then(raw(c_l2).str.to_uppercase()).otherwise(c("a_line2")),
        addr_number=pl.when(is_foreign).then(None).otherwise(c("a_number")),
        addr_street=pl.when(is_foreign).then(None).otherwise(c("a_street")),
        city=c("a_city"),
        state=pl.when(is_foreign).then(pl.lit(state_in).str.strip_chars().str.to_uppercase().replace("", None)).otherwise(c("a_state")),
        zip5=c("a_zip5"),
        zip4=c("a_zip4"),
        address_raw=address_raw,
        address_flag=address_flag,
        phone=pl.coalesce([c(f"ph{i}_e164") for i in range(len(phone_cols))]) if phone_cols else pl.lit(None, pl.Utf8),
        phones=pl.lit(phones),
        email=email_first_ok,
        email_raw=email_raw0,
        email_flag=email_flag0,
        emails=pl.lit(emails),
        dob=c("d_dob", pl.Date),
        dob_raw=raw(c_dob),
        dob_flag=c("d_dob_flag"),
        gender=c("c_gender"),
        employer=c("c_employer"),
        worksite=c("c_worksite"),
        member_status=c("c_member_status"),
        dues_status=c("c_dues_status"),
        join_date=c("d_join", pl.Date),
        join_date_raw=raw(c_join),
        join_date_flag=c("d_join_flag"),
        flags=flags,
        custom=json_of(custom_cols, custom_names),
    )
    out = pl.DataFrame(schema=LOADED_SCHEMA) if n == 0 else out.cast(LOADED_SCHEMA)

    keep, rejected = _validate(batch, out, mapping, c_first, c_last, c_full)
    loaded = out.filter(pl.Series(keep)) if rejected else out
    quarantined = quarantine_frame(list(batch.rejected) + rejected)
    if quarantined.height > 1:
        quarantined = quarantined.sort("row_number")
    # quarantine_frame already has QUARANTINE_SCHEMA; the sort keeps it.
    return StandardizedBatch(loaded=loaded, quarantined=quarantined, rows_read=batch.rows_read, batch=batch)


def _validate(
    batch: Batch,
    out: pl.DataFrame,
    mapping: ColumnMapping,
    c_first: str | None,
    c_last: str | None,
    c_full: str | None,
) -> tuple[list[bool], list[RejectedRow]]:
    """Row-level checks that send a whole row to quarantine."""
    df = batch.frame
    n = df.height
    if n == 0:
        return [], []
    header = df.columns
    ncols = len(header)
    stripped = [pl.col(h).str.strip_chars() for h in header]
    nonempty = pl.sum_horizontal([(e != "").cast(pl.Int32) for e in stripped])
    same_as_header = pl.sum_horizontal(
        [(e.str.to_lowercase() == h.strip().lower()).cast(pl.Int32) for e, h in zip(stripped, header, strict=True)]
    )
    need = max(2, -(-3 * ncols // 5)) if ncols > 1 else 1
    checks = df.select(repeated=same_as_header >= need, few=nonempty <= max(3, ncols // 3))
    repeated = checks.get_column("repeated").to_list()
    # Totals lines have few filled cells; only those rows pay for the regex.
    few = checks.get_column("few")
    totals = [False] * n
    if few.any():
        idx = pl.Series(range(n)).filter(few).to_list()
        hit = df.filter(few).select(
            pl.any_horizontal([e.str.contains("(?i)" + _TOTALS_RE.pattern) for e in stripped])
        ).to_series().to_list()
        for i, h in zip(idx, hit, strict=True):
            totals[i] = bool(h)
    first = out.get_column("first_name")
    last = out.get_column("last_name")
    letters = pl.select(
        ok=(pl.lit(first).fill_null("") + pl.lit(last).fill_null("")).str.contains(r"\p{L}")
    ).get_column("ok").to_list()
    keep = [True] * n
    rejected: list[RejectedRow] = []
    numbers = batch.row_numbers.to_list()
    raws = batch.raw.to_list()
    name_cols = [x for x in (c_first, c_last, c_full) if x]
    for i in range(n):
        if not (repeated[i] or totals[i] or not letters[i]):
            continue
        keep[i] = False
        if repeated[i]:
            code, reason = q.REPEATED_HEADER, "repeated header row (two files glued together?)"
        elif totals[i]:
            cell = next(v for v in df.row(i) if v and _TOTALS_RE.search(v.strip()))
            code, reason = q.TOTALS_ROW, f"totals row ({collapse(cell)[:80]!r})"
        else:
            shown = [(col, df.get_column(col)[i]) for col in name_cols]
            if not name_cols:
                what = "no column is mapped to a name"
            elif all(not collapse(v) for _, v in shown):
                what = " and ".join(col for col, _ in shown) + " empty"
            else:
                what = ", ".join(f"{col} {collapse(v)[:40]!r}" for col, v in shown) + " has no letters"
            code, reason = q.NO_NAME, f"no usable name ({what})"
        rejected.append(RejectedRow(numbers[i], code, reason, raws[i]))
    return keep, rejected


