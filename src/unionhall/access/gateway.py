"""The one gateway to person rows (DESIGN.md; STYLE.md rule 3).

Every read of person data on behalf of a user starts here:

* `person_base(user=...)`: the golden records the user may see, fields outside their
  scope set to null;
* `person_rows(user=..., table=...)`: the rows of any other person-bearing table
  (voter registrations, vote history, ballots, member records, identity records,
  provenance, contact history...) whose person the user may see, each column masked by
  its field group for that person (`unionhall.warehouse.catalog` declares both);
* dedicated readers for rows of no person yet: `quarantine_rows`, `identity_pairs`.

They fail closed: no user, an anonymous, inactive, expired or not-yet-agreed user
raises ScopeError. Which persons and fields are visible comes from
`unionhall.access.scope.scope_paths_for` (committee roles and data agreements); this
module turns those paths into one filter plus per-field masks, as an ibis expression,
so every later list, count, report and export inherits the same rules. The warehouse
refuses plain reads of person-bearing tables (`Warehouse.table`), and a test keeps
every module but this one and the system jobs from reading them at all.

Membership tests use `person.member_source_bits` (one bit per affiliate source, kept
by `person_member_bits_refresh` from `member_sources`) where the source has a bit: an
integer test instead of reading a list column for every row. Sources without a bit
(a new one not yet refreshed, or more than 63 of them) and locals are tested on the
lists themselves, so the answer is the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from unionhall.errors import ScopeError
from unionhall.warehouse.catalog import PersonTable, person_tables
from unionhall.warehouse.core import Warehouse, get_warehouse

# Person columns by the field group that governs them; the other columns (ids, state,
# county, registration number, districts, timestamps) are visible on every path.
FIELD_GROUP_OF: dict[str, str] = dict(person_tables()["person"].groups)
GROUPS: tuple[str, ...] = ("name", "address", "phone", "email", "dob", "age")
# Derived from member_sources, for the row filter only: never returned (it would show
# memberships the user's paths do not grant).
BITS_COLUMN = "member_source_bits"
MAX_SOURCE_BITS = 63  # bits 0..62 of a BIGINT (bit 63 is the sign)

Geo = tuple[str | None, tuple[str, ...]]


def _any(preds: Sequence[ir.BooleanValue]) -> ir.BooleanValue:
    if not preds:
        return ibis.literal(False)
    out = preds[0]
    for p in preds[1:]:
        out = out | p
    return out


def _geo(t: ir.Table, geo: Geo) -> ir.BooleanValue | None:
    # Counties are stored upper case (as the voter file writes them); committees too.
    state, counties = geo
    preds = []
    if state:
        preds.append(t.state == state)
    if len(counties) == 1:
        preds.append(t.county == counties[0])
    elif counties:
        # A membership test on a literal list: DuckDB runs it ~3 ms/1M rows faster than
        # `IN (...)`, which it evaluates as a chain of ORs (same answer, NULL included).
        preds.append(ibis.literal(list(counties), type="array<string>").contains(t.county))
    if not preds:
        return None
    return preds[0] if len(preds) == 1 else preds[0] & preds[1]


def _by_geo(paths: Sequence[Any]) -> dict[Geo, list[Any]]:
    out: dict[Geo, list[Any]] = {}
    for p in paths:
        out.setdefault((p.state, tuple(p.counties)), []).append(p)
    return out


def _who(t: ir.Table, paths: Sequence[Any], bits: Mapping[str, int]) -> ir.BooleanValue:
    """Any of `paths` (which share a geography) takes the person, geography aside."""
    preds: list[ir.BooleanValue] = []
    if any(p.kind == "voters" for p in paths):
        preds.append(t.voter_reg_num.notnull())
    sources = sorted({s for p in paths if p.kind == "members" for s in p.sources})
    locals_ = sorted({loc for p in paths if p.kind == "members" for loc in p.locals})
    mask = 0
    for s in sources:
        if s in bits:
            mask |= 1 << bits[s]
    if mask:
        preds.append((t[BITS_COLUMN] & mask) != 0)
    preds.extend(t.member_sources.contains(s) for s in sources if s not in bits)
    preds.extend(t.member_locals.contains(loc) for loc in locals_)
    return _any(preds)


def _on(t: ir.Table, paths: Sequence[Any], bits: Mapping[str, int]) -> ir.BooleanValue:
    """The person is on at least one of `paths`. Paths sharing a geography share one
    test of it, so the common case (a CLC: its voters and its agreements' members)
    costs one geography check and one membership test."""
    parts = []
    for geo, group in _by_geo(paths).items():
        g = _geo(t, geo)
        who = _who(t, group, bits)
        parts.append(who if g is None else g & who)
    return _any(parts)


def _row_filter(t: ir.Table, paths: Sequence[Any], bits: Mapping[str, int] | None = None) -> ir.BooleanValue:
    """Any path matches."""
    return _on(t, paths, bits or {})


def _no_entries() -> ir.ArrayValue:
    # An empty list of strings. (Not `ibis.literal([])`: ibis writes PostgreSQL's untyped
    # `ARRAY[]`, which PostgreSQL refuses; a filtered one-entry list has its type.)
    return ibis.literal([""], type="array<string>").filter(lambda v: v != "")


def _shown(t: ir.Table, column: str, by_geo: dict[Geo, set[str]]) -> ir.ArrayValue:
    """The entries of a membership list that some path, whose geography holds, grants."""
    by_geo = {g: v for g, v in by_geo.items() if v}
    if not by_geo:
        return _no_entries()

    def granted(v: ir.StringValue) -> ir.BooleanValue:
        parts = []
        for geo, values in by_geo.items():
            g = _geo(t, geo)
            test = v.isin(sorted(values))
            parts.append(test if g is None else g & test)
        return _any(parts)

    return ibis.coalesce(t[column].filter(granted), _no_entries())


class ScopedTable(ir.Table):
    """Person rows through the scope: one projection (the field masks) over one filter
    of the person table (the row filter).

    It is an ordinary ibis table; only `filter` and `count` know its shape. A row-wise
    filter is moved into the one row filter, with each masked column it reads replaced
    by its mask (so a filter on a masked field still matches nobody), and a count
    counts that filter without computing any mask. That keeps the expression a single
    SELECT: cheap to compile and to run, with exactly the semantics of filtering and
    counting the masked rows.
    """

    __slots__ = ()

    def _shape(self) -> tuple[ops.Project, ops.Filter] | None:
        proj = self.op()
        if isinstance(proj, ops.Project) and isinstance(proj.parent, ops.Filter):
            return proj, proj.parent
        return None

    def filter(self, *predicates: Any) -> ir.Table:
        masked = ir.Table.filter(self, *predicates)  # bound to the masked columns
        shape = self._shape()
        preds = masked.op().predicates
        if shape is None or not all(_row_wise(p, shape[0]) for p in preds):
            return masked
        proj, rows = shape
        base = rows.parent
        names = list(base.schema.names)
        unmask = {ops.Field(proj, k): v for k, v in proj.values.items()}
        to_base = {ops.Field(rows, c): ops.Field(base, c) for c in names}
        pushed = tuple(_unmask_null_rejecting(p.replace(unmask, filter=ops.Value).replace(to_base, filter=ops.Value))
                       for p in preds)
        new_rows = ops.Filter(base, (*rows.predicates, *pushed))
        to_new = {ops.Field(rows, c): ops.Field(new_rows, c) for c in names}
        values = {k: v.replace(to_new, filter=ops.Value) for k, v in proj.values.items()}
        return ScopedTable(ops.Project(new_rows, values))


_NULL_REJECTING = (ops.Equals, ops.NotEquals, ops.Greater, ops.GreaterEqual, ops.Less, ops.LessEqual)


def _mask_parts(v: ops.Value) -> tuple[ops.Value, ops.Value] | None:
    """(grant, column) of a field mask `ifelse(grant, column, NULL)`."""
    if (isinstance(v, ops.IfElse) and isinstance(v.false_null_expr, ops.Literal)
            and v.false_null_expr.value is None):
        return v.bool_expr, v.true_expr
    return None


def _unmask_null_rejecting(p: ops.Value) -> ops.Value:
    """`mask(c) >= 25` as `grant AND c >= 25`: the same rows for a filter (a comparison
    with NULL is never true, and neither is a false grant), without evaluating the mask
    twice per row. Only under AND/OR (monotone), never under NOT, where NULL and false
    differ."""
    if isinstance(p, (ops.And, ops.Or)):
        return type(p)(_unmask_null_rejecting(p.left), _unmask_null_rejecting(p.right))
    grants: list[ops.Value] = []

    def bare(v: ops.Value) -> ops.Value:
        parts = _mask_parts(v)
        if parts is None:
            return v
        grants.append(parts[0])
        return parts[1]

    if isinstance(p, _NULL_REJECTING):
        out: ops.Value = type(p)(bare(p.left), bare(p.right))
    elif isinstance(p, ops.InValues):
        out = ops.InValues(bare(p.value), p.options)
    elif isinstance(p, ops.Between):
        out = ops.Between(bare(p.arg), p.lower_bound, p.upper_bound)
    else:
        return p
    for g in grants:
        out = ops.And(g, out)
    return out


def scoped_count(table: ir.Table) -> ir.IntegerScalar:
    """How many rows: on a `ScopedTable`, the count of its one row filter, computing no
    mask (the rows are the same; masks only change values, and filters on masked
    values were already moved into the row filter with their masks). Counts of persons
    for a user go through here; `.count()` gives the same number at a higher compile
    cost (it stays a plain ibis count, usable inside an aggregation too)."""
    if isinstance(table, ScopedTable):
        shape = table._shape()
        if shape is not None:
            return shape[1].to_expr().count()
    return table.count()


_NOT_ROW_WISE = (ops.Reduction, ops.WindowFunction, ops.Subquery, ops.Impure)


def _row_wise(pred: ops.Value, proj: ops.Project) -> bool:
    """Does the predicate look at one masked row at a time (so it can move below the
    masks)? Aggregates, windows and subqueries would see other rows: they stay above."""
    if pred.find(_NOT_ROW_WISE, filter=ops.Value):
        return False
    return all(f.rel == proj for f in pred.find(ops.Field, filter=ops.Value))


def _grants(rows: ir.Table, paths: Sequence[Any], bits: Mapping[str, int]) -> dict[str, bool | ir.BooleanValue]:
    """For each field group: True (every path grants it), False (none does), or the
    test that a path granting it takes the row's person. `rows` have passed the row
    filter: when every path has the same geography, the rows are in it, and the test
    need not check it again (one membership test per row instead of three)."""
    one_geography = len(_by_geo(paths)) == 1
    out: dict[str, bool | ir.BooleanValue] = {}
    for group in GROUPS:
        granting = [p for p in paths if group in p.fields]
        if len(granting) == len(paths):
            out[group] = True
        elif not granting:
            out[group] = False
        else:
            out[group] = _who(rows, granting, bits) if one_geography else _on(rows, granting, bits)
    return out


def _masked(value: ir.Value, grant: bool | ir.BooleanValue) -> ir.Value:
    if grant is True:
        return value
    null = ibis.null(value.type())
    return null if grant is False else ibis.ifelse(grant, value, null)


def _memberships(rows: ir.Table, paths: Sequence[Any]) -> dict[str, ir.ArrayValue]:
    """Union membership is itself sensitive: only the memberships a path grants show."""
    sources: dict[Geo, set[str]] = {}
    locals_: dict[Geo, set[str]] = {}
    for p in paths:
        if p.kind == "members":
            sources.setdefault((p.state, tuple(p.counties)), set()).update(p.sources)
            locals_.setdefault((p.state, tuple(p.counties)), set()).update(p.locals)
    return {"member_sources": _shown(rows, "member_sources", sources),
            "member_locals": _shown(rows, "member_locals", locals_)}


def scoped_persons(person: ir.Table, paths: Sequence[Any], *, source_bits: Mapping[str, int] | None = None) -> ir.Table:
    """Apply visibility paths to a person table expression: filter rows, mask fields.

    `source_bits` maps member sources to their bit in `member_source_bits` (see
    `person_member_bits_refresh`); without it membership is tested on the lists.
    """
    columns = [c for c in person.columns if c != BITS_COLUMN]
    if any(p.kind == "all" for p in paths):
        rows = person.filter(ibis.literal(True))
        return ScopedTable(rows.select(*columns).op())
    if not paths:
        return ScopedTable(person.filter(ibis.literal(False)).select(*columns).op())
    bits = dict(source_bits or {}) if BITS_COLUMN in person.columns else {}
    rows = person.filter(_on(person, paths, bits))
    grants = _grants(rows, paths, bits)
    values: dict[str, ir.Value] = {c: rows[c] for c in columns}
    for col, group in FIELD_GROUP_OF.items():
        if col in values:
            values[col] = _masked(rows[col], grants[group])
    values.update(_memberships(rows, paths))
    return ScopedTable(rows.select(**values).op())


def source_bits_for(warehouse: Warehouse) -> dict[str, int]:
    """Member source -> bit of `person.member_source_bits` (empty before the migration)."""
    try:
        rows = warehouse.cursor().execute("SELECT source, bit FROM member_source_bit").fetchall()
    except duckdb.CatalogException:
        return {}
    return {str(s): int(b) for s, b in rows if 0 <= int(b) < MAX_SOURCE_BITS}


def person_member_bits_refresh(cur: duckdb.DuckDBPyConnection) -> None:
    """Give each new member source a bit and bring `person.member_source_bits` in line
    with `member_sources`. Whoever writes `member_sources` calls this afterwards, in the
    same transaction; bits are never reassigned, so a mapping read earlier stays true."""
    cur.execute(
        f"""
        INSERT INTO member_source_bit (source, bit)
        SELECT source, bit FROM (
          SELECT source,
                 (SELECT coalesce(max(bit), -1) FROM member_source_bit) + row_number() OVER (ORDER BY source) AS bit
          FROM (SELECT DISTINCT unnest(member_sources) AS source FROM person) s
          WHERE source IS NOT NULL AND NOT EXISTS (SELECT 1 FROM member_source_bit b WHERE b.source = s.source)
        ) WHERE bit < {MAX_SOURCE_BITS}
        """  # noqa: S608  (a constant)
    )
    cur.execute(
        f"""
        UPDATE person SET {BITS_COLUMN} = m.bits
        FROM (SELECT u.person_id, bit_or(CAST(1 AS BIGINT) << b.bit) AS bits
              FROM (SELECT person_id, unnest(member_sources) AS source FROM person) u
              JOIN member_source_bit b ON b.source = u.source
              GROUP BY u.person_id) m
        WHERE person.person_id = m.person_id AND person.{BITS_COLUMN} IS DISTINCT FROM m.bits
        """  # noqa: S608  (a constant)
    )
    cur.execute(
        f"""
        UPDATE person SET {BITS_COLUMN} = NULL
        WHERE {BITS_COLUMN} IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM member_source_bit b WHERE list_contains(person.member_sources, b.source))
        """  # noqa: S608  (a constant)
    )


def user_paths(user: Any, *, roles: Collection[str] | None = None) -> list[Any]:
    """The user's scope paths, after the account checks (fail closed).

    Raises ScopeError when there is no authenticated, active user, or the account is
    blocked (expired, deactivated, current data agreement not accepted, no 2FA).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ScopeError("person rows were requested without an authenticated, active user")
    from unionhall.access.gate import access_block_reason
    from unionhall.access.scope import scope_paths_for

    reason = access_block_reason(user)
    if reason is not None:
        raise ScopeError(reason)
    return scope_paths_for(user, roles=roles)


def person_base(*, user: Any, warehouse: Warehouse | None = None, roles: Collection[str] | None = None) -> ir.Table:
    """Person rows the user may see, with fields outside their scope set to null.
    With `roles`, only what the user's grants in those roles show (downloads)."""
    paths = user_paths(user, roles=roles)
    wh = warehouse or get_warehouse()
    return scoped_persons(wh.unscoped_table("person"), paths, source_bits=source_bits_for(wh))


def person_rows(
    *, user: Any, table: str, warehouse: Warehouse | None = None, roles: Collection[str] | None = None
) -> ir.Table:
    """The rows of a person-bearing table whose person the user may see, each column
    masked by its field group for that person; a `person_id` column is added where the
    table links through a registration or a member record. Member-source rows show only
    where the user's scope shows that membership."""
    paths = user_paths(user, roles=roles)
    wh = warehouse or get_warehouse()
    return scoped_rows(wh, table, paths, source_bits=source_bits_for(wh))


def _all_path(paths: Sequence[Any]) -> bool:
    return any(p.kind == "all" for p in paths)


def managed_sources(paths: Sequence[Any]) -> set[str]:
    """Member sources whose every member and every field the paths show, wherever they
    live: raw rows of those sources (quarantine, unmatched records) can be shown."""
    every = set(GROUPS)
    return {s for p in paths if p.kind == "members" and p.state is None and not p.counties
            and every <= set(p.fields) for s in p.sources}


def _grant_table(person: ir.Table, paths: Sequence[Any], bits: Mapping[str, int]) -> ir.Table:
    """One row per visible person: `_g_pid`, the memberships shown, and a boolean per
    field group (`_g_name`...)."""
    rows = person.filter(_on(person, paths, bits))
    grants = _grants(rows, paths, bits)
    shown = _memberships(rows, paths)
    return rows.select(
        _g_pid=rows.person_id,
        _g_sources=shown["member_sources"],
        _g_local_sources=shown["member_locals"].map(lambda x: x.split(":")[0]),
        _g_locals=shown["member_locals"],
        **{f"_g_{g}": ibis.literal(v) if isinstance(v, bool) else v for g, v in grants.items()},
    )


def scoped_rows(
    wh: Warehouse, table: str, paths: Sequence[Any], *, source_bits: Mapping[str, int] | None = None
) -> ir.Table:
    """`person_rows` for given scope paths (the expression; no account checks)."""
    spec = person_tables().get(table)
    if spec is None or spec.link == "none":
        raise ValueError(f"{table!r} is not a person-linked table (see unionhall.warehouse.catalog)")
    t = wh.unscoped_table(table)
    columns = list(t.columns)
    keyed, pid = _with_person(wh, t, spec)
    if _all_path(paths):
        return keyed.select(*columns, **({} if "person_id" in columns else {"person_id": pid}))
    person = wh.unscoped_table("person")
    bits = dict(source_bits or {}) if BITS_COLUMN in person.columns else {}
    g = _grant_table(person, paths, bits)
    j = keyed.left_join(g, pid == g._g_pid)
    pid_name = pid.get_name()
    linked: ir.BooleanValue = j._g_pid.notnull()
    full: ir.BooleanValue = ibis.literal(False)
    if spec.source is not None:
        src = j[spec.source]
        shown = j._g_sources.contains(src) | (
            j._g_locals.contains(src.concat(":", j["local"])) if "local" in columns
            else j._g_local_sources.contains(src))
        managed = sorted(managed_sources(paths))
        if managed:
            full = ibis.literal(managed, type="array<string>").contains(src)
        if spec.source_kind is not None:  # only member-kind rows name a membership
            is_member = j[spec.source_kind] == "member"
            shown = ~is_member | shown
            full = is_member & full
        linked = linked & shown.fill_null(False)
    j = j.mutate(
        _v_full=full.fill_null(False),
        _v_linked=linked,
        **{f"_v_{grp}": j[f"_g_{grp}"].fill_null(False) for grp in GROUPS},
    )
    visible = j.filter(j._v_linked | j._v_full)
    flags = {grp: visible._v_full | visible[f"_v_{grp}"] for grp in GROUPS}
    flags["all"] = _all_of([flags[grp] for grp in GROUPS])
    values: dict[str, ir.Value] = {}
    for c in columns:
        col = visible[c]
        if c == spec.value_column and spec.value_group_of is not None:
            named = visible[spec.value_group_of]
            grant = ibis.cases(*[(named == f, flags[grp]) for f, grp in FIELD_GROUP_OF.items()],
                               else_=ibis.literal(True))
            values[c] = ibis.ifelse(grant, col, ibis.null(col.type()))
        elif c in spec.groups:
            values[c] = ibis.ifelse(flags[spec.groups[c]], col, ibis.null(col.type()))
        else:
            values[c] = col
    if "person_id" not in values:
        values["person_id"] = visible[pid_name]
    return visible.select(**values)


def _all_of(preds: Sequence[ir.BooleanValue]) -> ir.BooleanValue:
    out = preds[0]
    for p in preds[1:]:
        out = out & p
    return out


def _with_person(wh: Warehouse, t: ir.Table, spec: PersonTable) -> tuple[ir.Table, ir.IntegerValue]:
    """The table with its person's id beside each row (null where the row has none yet)."""
    if spec.link == "person":
        return t, t.person_id
    if spec.link == "ncid":
        vp = wh.unscoped_table("voter_person")
        k = vp.select(_k_ncid=vp.ncid, _k_pid=vp.person_id)
        j = t.left_join(k, t.ncid == k._k_ncid)
        return j, j._k_pid
    r = wh.unscoped_table("identity_record")
    k = r.filter(r.source_kind == "member").select(_k_src=r.source_name, _k_key=r.record_key, _k_pid=r.person_id)
    j = t.left_join(k, (t.source == k._k_src) & (t.member_key == k._k_key))
    return j, j._k_pid


# -- a canvasser's doors -------------------------------------------------------------------


def canvass_persons(
    *, user: Any, committee: Any, cut_id: int, turf_no: int, assigned_user_id: int | None,
    warehouse: Warehouse | None = None,
) -> ir.Table:
    """The persons of one turf with their door and walk order, for the canvasser it is
    assigned to: as the turf's committee sees them, limited to name, address and age
    (`access.scope.canvass_paths`). A user who is not the turf's canvasser gets the
    turf's persons within their own scope instead (an organizer checking a turf); a
    canvasser of another turf gets nobody. Columns: the person's, plus `door_id`, `seq`."""
    from unionhall.access.scope import canvass_paths

    own = user_paths(user)  # the account checks; also the scope of an organizer looking
    wh = warehouse or get_warehouse()
    paths = canvass_paths(committee) if assigned_user_id is not None and assigned_user_id == user.pk else own
    persons = scoped_persons(wh.unscoped_table("person"), paths, source_bits=source_bits_for(wh))
    tp = wh.unscoped_table("turf_person")
    doors = tp.filter((tp.cut_id == cut_id) & (tp.turf_no == turf_no)).select(
        _t_pid=tp.person_id, door_id=tp.door_id, seq=tp.seq)
    return persons.join(doors, persons.person_id == doors._t_pid).drop("_t_pid")


# -- rows of no person yet ---------------------------------------------------------------


def quarantine_rows(
    *, user: Any, import_id: int, imported_by_id: int | None = None, warehouse: Warehouse | None = None
) -> ir.Table:
    """The quarantined (unloadable) rows of one member import, for a user who may see
    them: raw lines cannot be masked, so only someone who sees every field of every
    member of that source (its affiliate's data managers and administrators, a
    federation data manager under a full, statewide-or-wider agreement, platform
    administrators) or the person who uploaded the file. ScopeError otherwise, the
    same for an import that does not exist."""
    from unionhall.access.scope import DATA_ROLES

    paths = user_paths(user, roles=DATA_ROLES)
    wh = warehouse or get_warehouse()
    q = wh.unscoped_table("member_quarantine")
    rows = q.filter(q.import_id == import_id)
    uploader = imported_by_id is not None and imported_by_id == getattr(user, "pk", None)
    if _all_path(paths) or uploader:
        return rows
    managed = sorted(managed_sources(paths))
    if not managed:
        raise ScopeError("quarantined rows are for the data managers of their affiliate")
    return rows.filter(ibis.literal(managed, type="array<string>").contains(rows.source))


def contact_quarantine_rows(
    *, user: Any, upload_id: int, committee_id: int, uploaded_by_id: int | None,
    warehouse: Warehouse | None = None,
) -> tuple[ir.Table, bool]:
    """The quarantined rows of one vendor result upload, and whether their raw text
    shows: for the field roles (administrator, data manager, organizer) of the upload's
    committee and its uploader; ScopeError, alike, for everyone else and for an upload
    that does not exist. A raw row may hold any column the vendor sent back and cannot
    be masked: it shows only to the uploader and platform administrators; the others see
    the row number, column, code and reason (which quote only ids, codes and dates)."""
    from unionhall.access.models import RoleGrant

    user_paths(user)  # the account checks
    field_roles = (RoleGrant.Role.ADMINISTRATOR, RoleGrant.Role.DATA_MANAGER, RoleGrant.Role.ORGANIZER)
    uploader = uploaded_by_id is not None and uploaded_by_id == user.pk
    if not (user.is_superuser or uploader or RoleGrant.objects.filter(
            user=user, committee_id=committee_id, role__in=field_roles).exists()):
        raise ScopeError("contact quarantine is for the committee's organizers and the uploader")
    wh = warehouse or get_warehouse()
    q = wh.unscoped_table("contact_quarantine")
    q = q.filter(q.upload_id == upload_id)
    raw = bool(user.is_superuser or uploader)
    return q.select("row_number", "column_name", "code", "reason",
                    raw=q.raw if raw else ibis.null("string")), raw


def identity_pairs(*, user: Any, warehouse: Warehouse | None = None) -> ir.Table:
    """Candidate pairs of records (identity review) whose two records the user may see
    as a data manager or administrator: a member record where their scope shows that
    membership, a voter registration where it shows the registered voter."""
    from unionhall.access.scope import DATA_ROLES

    paths = user_paths(user, roles=DATA_ROLES)
    wh = warehouse or get_warehouse()
    pairs = wh.unscoped_table("identity_pair")
    if _all_path(paths):
        return pairs
    bits = source_bits_for(wh)
    members = scoped_rows(wh, "identity_record", paths, source_bits=bits)
    members = members.filter(members.source_kind == "member")
    voters = scoped_rows(wh, "voter_person", paths, source_bits=bits)
    keys = members.select(key=ibis.literal("m|").concat(members.source_name, "|", members.record_key)).union(
        voters.select(key=ibis.literal("v|").concat(voters.ncid)))
    left = keys.select(_l=keys.key)
    right = keys.select(_r=keys.key)
    # IN, not two semi-joins: ibis 12 leaves the second as LEFT SEMI JOIN for PostgreSQL
    return pairs.filter(pairs.key_l.isin(left._l), pairs.key_r.isin(right._r))


# -- compiled reads, cached by scope ------------------------------------------------------

_COMPILED: dict[Any, str] = {}
_COMPILED_LOCK = threading.Lock()
_COMPILED_MAX = 1024


def scope_signature(*, user: Any, roles: Collection[str] | None = None, warehouse: Warehouse | None = None) -> Any:
    """What a scoped expression depends on besides the data: the user's paths (after the
    account checks, so a blocked account raises here), the membership bits, the
    warehouse. Two reads with the same signature and the same request compile to the
    same SQL."""
    wh = warehouse or get_warehouse()
    paths = user_paths(user, roles=roles)
    return (str(wh.path), tuple(paths), tuple(sorted(source_bits_for(wh).items())))


def run_cached(*, key: Any, build: Any, warehouse: Warehouse | None = None) -> list[tuple[Any, ...]]:
    """Rows of the expression `build()` (an ibis expression over gateway reads), its SQL
    compiled once per `key`. The key must hold `scope_signature(...)` and everything
    else the expression depends on: then a repeated read (the list builder's counts as
    an organizer clicks) costs the query alone, not building and compiling it again."""
    wh = warehouse or get_warehouse()
    with _COMPILED_LOCK:
        sql = _COMPILED.get(key)
    if sql is None:
        sql = str(wh.backend.compile(build()))
        with _COMPILED_LOCK:
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[key] = sql
    return wh.fetch_compiled(sql)
