"""Member-list import: the job that takes one affiliate file into the warehouse.

Read (streamed) -> map -> standardize -> stage -> quarantine within-file duplicates ->
compare with the source's current members -> apply as a snapshot, all inside the job's
warehouse transaction (see `unionhall.jobs.runner`): a failed or killed import leaves
the previous member data exactly as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.utils import timezone
from django.utils.text import slugify

from unionhall.errors import UserError
from unionhall.ingest.mapping import ColumnMapping, suggest_mapping
from unionhall.ingest.models import ImportRun, Source, SourceMapping
from unionhall.ingest.pipeline import standardize_source
from unionhall.ingest.readers import SourceReader, open_source
from unionhall.ingest.schema import MEMBER_COLUMNS
from unionhall.jobs.runner import JobContext

BATCH_ROWS = 50_000
_COLS = ", ".join(f'"{name}"' for name, _ in MEMBER_COLUMNS)
_S_COLS = ", ".join(f's."{name}"' for name, _ in MEMBER_COLUMNS)
_HASHED = [name for name, _ in MEMBER_COLUMNS if name != "row_number"]
# What makes two rows "the same member" when the list has no member id.
_KEY_EXPR = (
    "CASE WHEN coalesce(trim(member_id), '') <> '' THEN 'id:' || upper(trim(member_id)) "
    "ELSE 'h:' || md5(concat_ws('|', coalesce(upper(last_name), ''), coalesce(upper(first_name), ''), "
    "coalesce(CAST(dob AS VARCHAR), ''), coalesce(addr_line1, ''), coalesce(zip5, ''))) END"
)
_HASH_EXPR = "md5(concat_ws('|', " + ", ".join(
    f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in _HASHED
) + "))"


def file_sha256(path: Path) -> tuple[str, int]:
    """Content hash and size of a file, streamed."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def source_slug(name: str) -> str:
    slug = slugify(name.strip())
    if not slug:
        raise UserError(f"affiliate name {name!r} has no letters or digits: give a real name")
    return slug


@dataclass
class ResolvedMapping:
    mapping: ColumnMapping
    origin: str  # "given", "saved" or "suggested"
    notes: list[str]


def mapping_resolve(
    *, reader: SourceReader, source_name: str, mapping_json: str | None = None
) -> ResolvedMapping:
    """The mapping to use for this file: the one given, the source's saved one adapted
    to this header, or a suggestion from the header and content."""
    if mapping_json:
        mapping = ColumnMapping.from_json(mapping_json)
        mapping, notes = mapping.for_header(reader.header)
        return ResolvedMapping(mapping, "given", notes)
    saved = (
        SourceMapping.objects.filter(source__slug=source_slug(source_name)).order_by("-saved_at", "-id").first()
    )
    if saved is not None:
        mapping, notes = ColumnMapping.from_json(saved.mapping_json).for_header(reader.header)
        return ResolvedMapping(mapping, "saved", notes)
    mapping = suggest_mapping(reader.header, reader.sample_rows(), source=source_name)
    return ResolvedMapping(mapping, "suggested", [])


def _stage_table(import_id: int) -> str:
    return f"stage_members_{import_id}"


def member_import_run(
    ctx: JobContext,
    *,
    path: str,
    source: str,
    mapping_json: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mode: str = ImportRun.Mode.SNAPSHOT,
) -> dict[str, Any]:
    """Import one member file for one source. Returns the reconciliation."""
    file = Path(path)
    if mode not in ImportRun.Mode.values:
        raise UserError(f"import mode {mode!r} is not one of {', '.join(ImportRun.Mode.values)}")
    slug = source_slug(source)
    ctx.progress(1, "hashing the file")
    if not file.is_file():
        raise UserError(f"{file}: file not found")
    sha, size = file_sha256(file)
    previous = ImportRun.objects.filter(source__slug=slug, file_sha256=sha).first()
    if previous is not None:
        ctx.log(f"{file.name} was already imported for {source} (import {previous.pk}); nothing to do")
        return {
            "noop": True,
            "file": str(file),
            "source": source,
            "already_imported_as": previous.job_id,
            "rows_read": previous.rows_read,
            "rows_loaded": previous.rows_loaded,
            "rows_quarantined": previous.rows_quarantined,
            "new": 0,
            "updated": 0,
            "dropped": 0,
        }

    reader = open_source(file, encoding=encoding, sheet=sheet)
    for note in reader.notes:
        ctx.log(note)
    resolved = mapping_resolve(reader=reader, source_name=source, mapping_json=mapping_json)
    problems = resolved.mapping.problems()
    if problems:
        raise UserError(f"{file.name}: the column mapping cannot be used: {'; '.join(problems)}")
    ctx.log(f"column mapping: {resolved.origin}")
    for note in resolved.notes:
        ctx.log(note)

    import_id = int(ctx.job.pk)
    cur = ctx.warehouse.cursor()
    stage = _stage_table(import_id)
    counts = _stage_file(ctx, cur, reader, resolved.mapping, file, size, slug, import_id, stage)
    ctx.progress(90, "comparing with the current member list")
    changes = _apply_snapshot(cur, stage=stage, source=slug, import_id=import_id, mode=mode)
    counts.update(changes)
    if counts["rows_read"] != counts["rows_loaded"] + counts["rows_quarantined"]:
        raise RuntimeError(f"row accounting does not balance: {counts}")
    imported_at = timezone.now()
    cur.execute(
        "INSERT INTO member_import VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            import_id, slug, file.name, sha, mode, imported_at.replace(tzinfo=None),
            counts["rows_read"], counts["rows_loaded"], counts["rows_quarantined"],
            counts["new"], counts["updated"], counts["unchanged"], counts["dropped"],
        ],
    )
    cur.execute(f"DROP TABLE {stage}")

    notes = [*reader.notes, *resolved.notes]
    mapping_text = resolved.mapping.to_json()

    def record() -> None:
        src, _ = Source.objects.get_or_create(slug=slug, defaults={"name": source.strip()})
        latest = src.mappings.order_by("-saved_at", "-id").first()
        if latest is None or latest.mapping_json != mapping_text:
            SourceMapping.objects.create(source=src, mapping_json=mapping_text, saved_by=ctx.user)
        ImportRun.objects.create(
            job=ctx.job, source=src, file_name=file.name, file_sha256=sha, file_size=size,
            mode=mode, mapping_json=mapping_text, imported_by=ctx.user, imported_at=imported_at,
            notes=notes, **{k: counts[k] for k in (
                "rows_read", "rows_loaded", "rows_quarantined", "new", "updated", "unchanged", "dropped")},
        )

    ctx.defer_app_write(record)
    ctx.progress(100, f"{counts['rows_loaded']:,} loaded, {counts['rows_quarantined']:,} quarantined")
    return {"noop": False, "file": str(file), "source": source, "import_id": import_id,
            "mapping": resolved.origin, **counts}


def _stage_file(
    ctx: JobContext,
    cur: duckdb.DuckDBPyConnection,
    reader: SourceReader,
    mapping: ColumnMapping,
    file: Path,
    size: int,
    slug: str,
    import_id: int,
    stage: str,
) -> dict[str, int]:
    """Stream the file into a staging table; quarantine what cannot be loaded."""
    cur.execute(
        f"CREATE TEMP TABLE {stage} AS SELECT ''::VARCHAR AS member_key, ''::VARCHAR AS row_hash, "
        f"''::VARCHAR AS raw, {_COLS} FROM member_record LIMIT 0"
    )
    rows_read = 0
    consumed = 0
    # read_ahead: the next batch is read on a thread while this one is standardized
    for result in standardize_source(reader, mapping, batch_size=BATCH_ROWS, read_ahead=True):
        batch = result.batch
        rows_read += result.rows_read
        loaded = result.loaded
        if loaded.height:
            raw = batch.raw.to_frame("raw").with_columns(batch.row_numbers.alias("row_number"))
            frame = loaded.join(raw, on="row_number", how="left")
            cur.register("uh_batch", frame.to_arrow())
            cur.execute(
                f"INSERT INTO {stage} SELECT {_KEY_EXPR}, {_HASH_EXPR}, raw, {_COLS} FROM uh_batch"
            )
            cur.unregister("uh_batch")
        rejected = result.quarantined  # the reader's rejects and the standardizer's
        if rejected.height:
            cur.register("uh_rejected", rejected.to_arrow())
            cur.execute(
                "INSERT INTO member_quarantine SELECT ?, ?, row_number, code, reason, raw FROM uh_rejected",
                [import_id, slug],
            )
            cur.unregister("uh_rejected")
        consumed += int(batch.raw.str.len_bytes().sum() or 0) + batch.rows_read
        ctx.progress(5 + 80 * min(1.0, consumed / max(size, 1)), f"{rows_read:,} rows read")

    # The same member twice in one file: load the first row, quarantine the others.
    cur.execute(
        f"""
        INSERT INTO member_quarantine
        SELECT ?, ?, row_number, 'duplicate',
               'same member as row ' || first_row || ' (' ||
               CASE WHEN member_key LIKE 'id:%' THEN 'member id ' || substr(member_key, 4)
                    ELSE 'same name, date of birth and address' END ||
               '); the first row was loaded', raw
        FROM (
            SELECT *, row_number() OVER w AS n, first_value(row_number) OVER w AS first_row
            FROM {stage} WINDOW w AS (PARTITION BY member_key ORDER BY row_number)
        ) WHERE n > 1
        """,
        [import_id, slug],
    )
    cur.execute(
        f"""
        DELETE FROM {stage} s USING (
            SELECT member_key, row_number,
                   row_number() OVER (PARTITION BY member_key ORDER BY row_number) AS n
            FROM {stage}
        ) d
        WHERE s.member_key = d.member_key AND s.row_number = d.row_number AND d.n > 1
        """
    )
    loaded_row = cur.execute(f"SELECT count(*) FROM {stage}").fetchone()
    quarantined_row = cur.execute(
        "SELECT count(*) FROM member_quarantine WHERE import_id = ?", [import_id]
    ).fetchone()
    assert loaded_row is not None and quarantined_row is not None
    return {
        "rows_read": rows_read,
        "rows_loaded": int(loaded_row[0]),
        "rows_quarantined": int(quarantined_row[0]),
    }


def _apply_snapshot(
    cur: duckdb.DuckDBPyConnection, *, stage: str, source: str, import_id: int, mode: str
) -> dict[str, int]:
    """Compare the staged file with the source's current members and apply the changes."""
    now = timezone.now().replace(tzinfo=None)
    today = timezone.localdate()
    chg = f"chg_{import_id}"
    gone = f"gone_{import_id}"
    # Only keys and the kind of change: the member columns stay in the stage table and
    # are copied once, straight into the version history and the current records.
    cur.execute(
        f"""
        CREATE TEMP TABLE {chg} AS
        SELECT s.member_key,
               CASE WHEN r.member_key IS NULL THEN 'new'
                    WHEN r.status = 'dropped' THEN 'rejoined'
                    WHEN r.row_hash <> s.row_hash THEN 'updated'
                    ELSE 'unchanged' END AS change,
               r.first_import_id AS prev_first_import_id
        FROM {stage} s
        LEFT JOIN (SELECT member_key, status, row_hash, first_import_id
                   FROM member_record WHERE source = ?) r USING (member_key)
        """,
        [source],
    )
    if mode == ImportRun.Mode.SNAPSHOT:
        cur.execute(
            f"""
            CREATE TEMP TABLE {gone} AS
            SELECT member_key FROM member_record r
            WHERE source = ? AND status = 'active'
              AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.member_key = r.member_key)
            """,
            [source],
        )
    else:
        cur.execute(f"CREATE TEMP TABLE {gone} (member_key VARCHAR)")

    touched = f"SELECT member_key FROM {chg} WHERE change IN ('updated', 'rejoined') UNION ALL SELECT member_key FROM {gone}"
    cur.execute(
        f"""UPDATE member_record_version SET valid_to_import_id = ?
            WHERE source = ? AND valid_to_import_id IS NULL AND member_key IN ({touched})""",
        [import_id, source],
    )
    cur.execute(
        f"""INSERT INTO member_record_version
            SELECT ?, s.member_key, c.change, 'active', s.row_hash, ?, NULL, ?, {_S_COLS}
            FROM {stage} s JOIN {chg} c USING (member_key) WHERE c.change <> 'unchanged'""",
        [source, import_id, now],
    )
    cur.execute(
        f"""INSERT INTO member_record_version
            SELECT source, member_key, 'dropped', 'dropped', row_hash, ?, NULL, ?, {_COLS}
            FROM member_record WHERE source = ? AND member_key IN (SELECT member_key FROM {gone})""",
        [import_id, now, source],
    )
    cur.execute(
        f"""DELETE FROM member_record WHERE source = ? AND member_key IN
            (SELECT member_key FROM {chg} WHERE change IN ('updated', 'rejoined'))""",
        [source],
    )
    cur.execute(
        f"""INSERT INTO member_record
            SELECT ?, s.member_key, 'active', s.row_hash, coalesce(c.prev_first_import_id, ?), ?, ?, NULL, {_S_COLS}
            FROM {stage} s JOIN {chg} c USING (member_key) WHERE c.change <> 'unchanged'""",
        [source, import_id, import_id, import_id],
    )
    cur.execute(
        f"""UPDATE member_record SET last_seen_import_id = ?
            WHERE source = ? AND member_key IN (SELECT member_key FROM {chg} WHERE change = 'unchanged')""",
        [import_id, source],
    )
    cur.execute(
        f"""UPDATE member_record SET status = 'dropped', dropped_at = ?, import_id = ?
            WHERE source = ? AND member_key IN (SELECT member_key FROM {gone})""",
        [today, import_id, source],
    )
    row = cur.execute(
        f"""SELECT count(*) FILTER (WHERE change = 'new'),
                   count(*) FILTER (WHERE change IN ('updated', 'rejoined')),
                   count(*) FILTER (WHERE change = 'rejoined'),
                   count(*) FILTER (WHERE change = 'unchanged'),
                   (SELECT count(*) FROM {gone})
            FROM {chg}"""
    ).fetchone()
    assert row is not None
    cur.execute(f"DROP TABLE {chg}")
    cur.execute(f"DROP TABLE {gone}")
    return {
        "new": int(row[0]),
        "updated": int(row[1]),
        "rejoined": int(row[2]),
        "unchanged": int(row[3]),
        "dropped": int(row[4]),
    }


# -- web flow: upload, confirm the mapping, submit ---------------------------------------


def upload_create(*, name: str, chunks: Any, source_name: str, user: Any, data_dir: Path) -> Any:
    """Store an uploaded file under the data directory; returns the Upload to map."""
    import secrets

    from unionhall.ingest.models import Upload

    source_slug(source_name)  # validates the name
    token = secrets.token_hex(12)
    safe_name = Path(name).name or "upload"
    folder = data_dir / "uploads" / token
    folder.mkdir(parents=True)
    target = folder / safe_name
    with target.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return Upload.objects.create(
        token=token, path=str(target), file_name=safe_name, source_name=source_name.strip(), uploaded_by=user
    )


def import_submit(*, upload: Any, mapping: ColumnMapping, user: Any, mode: str) -> Any:
    """Queue the import of an upload with a confirmed mapping; returns the Job."""
    from unionhall.jobs.runner import job_submit

    problems = mapping.problems()
    if problems:
        raise UserError("; ".join(problems))
    job = job_submit(
        kind="ingest.import_members",
        params={"path": upload.path, "source": upload.source_name, "mapping_json": mapping.to_json(), "mode": mode},
        user=user,
    )
    upload.job = job
    upload.save(update_fields=["job"])
    return job
