"""Member-list import: the job that takes one affiliate file into the warehouse.

Read (streamed) -> map -> standardize -> per batch: quarantine within-file duplicates,
compare with the source's members as they were before the import and write the new and
changed rows -> at the end: close replaced versions and drop missing members (a
snapshot), all inside the job's warehouse transaction (see `unionhall.jobs.runner`): a
failed or killed import leaves the previous member data exactly as it was.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from django.utils import timezone
from django.utils.text import slugify

from unionhall.errors import UserError
from unionhall.ingest.mapping import ColumnMapping, suggest_mapping
from unionhall.ingest.models import ImportRun, Source, SourceMapping
from unionhall.ingest.pipeline import standardize_source
from unionhall.ingest.readers import SourceReader, open_source
from unionhall.ingest.schema import MEMBER_COLUMNS
from unionhall.jobs.runner import JobContext
from unionhall.warehouse.backends import is_postgres

BATCH_ROWS = 50_000
_ROW_GROUP = 122_880  # DuckDB's rows per row group
_COLS = ", ".join(f'"{name}"' for name, _ in MEMBER_COLUMNS)
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
    counts = _load_file(ctx, cur, reader, resolved.mapping, size, slug, import_id, mode)
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


class _SnapshotLoader:
    """Writes standardized batches straight into the member tables, on its own thread.

    Each batch is compared with the source's members as they were before this import
    (`prev`, a narrow copy taken at the start) and with the rows of this file already
    seen (`chg`), so a row's member columns are copied once into each table they belong
    to and never into a staging table. DuckDB releases the GIL while it writes, so on
    two cores the writes of batch k overlap the standardization of batch k+1.

    Until `finish()` nothing that existed before the import is changed: old versions
    are closed, replaced records deleted and missing members dropped there, in a few
    set-based statements. All of it is in the job's transaction.
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection, *, source: str, import_id: int, now: Any) -> None:
        self.cur = cur
        self.source = source
        self.import_id = import_id
        self.now = now
        self.prev = f"uh_prev_{import_id}"
        self.chg = f"uh_chg_{import_id}"
        self.batch = f"uh_bc_{import_id}"
        # Write each full row group to the database file as soon as it is complete (the
        # default buffers five), so compression overlaps the standardization of the next
        # batches instead of all landing in the commit.
        if not is_postgres(cur):  # a DuckDB setting
            cur.execute("SET SESSION write_buffer_row_group_count = 1")
        cur.execute(
            f"CREATE TEMP TABLE {self.prev} AS SELECT member_key, status, row_hash, first_import_id "
            "FROM member_record WHERE source = ?",
            [source],
        )
        # Every loaded row of this file: its key, its row and what it does to the record.
        cur.execute(
            f"CREATE TEMP TABLE {self.chg} (member_key VARCHAR, row_number BIGINT, change VARCHAR)"
        )
        self._queue: queue.Queue[tuple[pl.DataFrame, pl.DataFrame] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._pending: list[pl.DataFrame] = []  # new and changed rows not inserted yet
        self._pending_rows = 0
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    # -- feeding (job thread) ---------------------------------------------------------
    def put(self, loaded: pl.DataFrame, rejected: pl.DataFrame) -> None:
        """Queue one batch (loaded rows with their `raw` text, quarantined rows)."""
        while True:
            self._raise_if_failed()
            try:
                self._queue.put((loaded, rejected), timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait for the queued batches to be written; re-raise a writer failure."""
        if self._thread.is_alive():
            while True:
                if self._error is not None:
                    break
                try:
                    self._queue.put(None, timeout=0.1)
                    break
                except queue.Full:
                    continue
            self._thread.join()
        self._raise_if_failed()

    def abandon(self) -> None:
        """Stop after the batch being written (the job failed); the caller rolls back."""
        self._error = self._error or RuntimeError("import abandoned")
        while self._thread.is_alive():  # unblock a writer waiting on nothing
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            self._thread.join(timeout=0.1)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    # -- writing (writer thread) ------------------------------------------------------
    def _run(self) -> None:
        try:
            while self._error is None:
                item = self._queue.get()
                if item is None:
                    if self._error is None:  # not abandoned
                        self._flush(final=True)
                    return
                self._write(*item)
        except BaseException as exc:  # handed to the job thread, which re-raises it
            self._error = exc

    def _write(self, loaded: pl.DataFrame, rejected: pl.DataFrame) -> None:
        cur, bc = self.cur, self.batch
        if rejected.height:
            cur.register("uh_rejected", rejected.to_arrow())
            cur.execute(
                "INSERT INTO member_quarantine SELECT ?, ?, row_number, code, reason, raw FROM uh_rejected",
                [self.import_id, self.source],
            )
            cur.unregister("uh_rejected")
        if not loaded.height:
            return
        cur.register("uh_batch", loaded.to_arrow())
        # Key, hash, duplicate-of and change of each row; the member columns stay in Arrow.
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {bc} AS
            SELECT k.row_number, k.member_key, k.row_hash,
                   coalesce(e.row_number, first_value(k.row_number) OVER w) AS first_row,
                   e.row_number IS NOT NULL OR row_number() OVER w > 1 AS duplicate,
                   CASE WHEN p.member_key IS NULL THEN 'new'
                        WHEN p.status = 'dropped' THEN 'rejoined'
                        WHEN p.row_hash <> k.row_hash THEN 'updated'
                        ELSE 'unchanged' END AS change,
                   p.first_import_id AS prev_first_import_id
            FROM (SELECT row_number, {_KEY_EXPR} AS member_key, {_HASH_EXPR} AS row_hash FROM uh_batch) k
            LEFT JOIN {self.chg} e USING (member_key)
            LEFT JOIN {self.prev} p USING (member_key)
            WINDOW w AS (PARTITION BY k.member_key ORDER BY k.row_number)
            """
        )
        # The same member twice in one file: the first row is loaded, the others quarantined.
        cur.execute(
            f"""
            INSERT INTO member_quarantine
            SELECT ?, ?, c.row_number, 'duplicate',
                   'same member as row ' || c.first_row || ' (' ||
                   CASE WHEN c.member_key LIKE 'id:%' THEN 'member id ' || substr(c.member_key, 4)
                        ELSE 'same name, date of birth and address' END ||
                   '); the first row was loaded', u.raw
            FROM {bc} c JOIN uh_batch u USING (row_number) WHERE c.duplicate
            """,
            [self.import_id, self.source],
        )
        cur.execute(f"INSERT INTO {self.chg} SELECT member_key, row_number, change FROM {bc} WHERE NOT duplicate")
        changes = cur.execute(
            f"SELECT row_number, member_key, row_hash, change, prev_first_import_id FROM {bc} "
            "WHERE NOT duplicate AND change <> 'unchanged' ORDER BY row_number"
        ).pl()
        cur.unregister("uh_batch")
        if changes.height == loaded.height:  # every row new or changed (a first import)
            rows = loaded.drop("raw").hstack(changes.drop("row_number").get_columns())
        else:
            rows = loaded.drop("raw").join(changes, on="row_number", how="inner", maintain_order="left")
        if rows.height:
            self._pending.append(rows)
            self._pending_rows += rows.height
        if self._pending_rows >= _ROW_GROUP:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        """Insert the pending new and changed rows into the version history and the records.

        Only whole row groups go in before the end: DuckDB then compresses and writes them
        straight to the database file while the next batches are standardized, instead
        of holding them for the commit.
        """
        if not self._pending_rows:
            return
        rows = pl.concat(self._pending) if len(self._pending) > 1 else self._pending[0]
        take = rows.height if final else rows.height - rows.height % _ROW_GROUP
        rest = rows.slice(take)
        self._pending, self._pending_rows = ([rest], rest.height) if rest.height else ([], 0)
        cur = self.cur
        cur.register("uh_changed", rows.slice(0, take).to_arrow())
        cur.execute(
            f"INSERT INTO member_record_version SELECT ?, member_key, change, 'active', row_hash, ?, NULL, ?, "
            f"{_COLS} FROM uh_changed",
            [self.source, self.import_id, self.now],
        )
        cur.execute(
            f"INSERT INTO member_record SELECT ?, member_key, 'active', row_hash, "
            f"coalesce(prev_first_import_id, ?), ?, ?, NULL, {_COLS} FROM uh_changed",
            [self.source, self.import_id, self.import_id, self.import_id],
        )
        cur.unregister("uh_changed")

    # -- the end (job thread, after close) --------------------------------------------
    def finish(self, *, mode: str) -> dict[str, int]:
        """Close replaced versions, drop missing members, count. Returns the changes."""
        cur, chg, prev, source, import_id = self.cur, self.chg, self.prev, self.source, self.import_id
        today = timezone.localdate()
        gone = f"uh_gone_{import_id}"
        if mode == ImportRun.Mode.SNAPSHOT:
            cur.execute(
                f"""CREATE TEMP TABLE {gone} AS SELECT member_key FROM {prev} p
                    WHERE status = 'active' AND NOT EXISTS (SELECT 1 FROM {chg} c WHERE c.member_key = p.member_key)"""
            )
        else:
            cur.execute(f"CREATE TEMP TABLE {gone} (member_key VARCHAR)")
        replaced = f"SELECT member_key FROM {chg} WHERE change IN ('updated', 'rejoined')"
        # The versions this import wrote are open too: only the older ones are closed.
        cur.execute(
            f"""UPDATE member_record_version SET valid_to_import_id = ?
                WHERE source = ? AND valid_to_import_id IS NULL AND valid_from_import_id <> ?
                  AND member_key IN ({replaced} UNION ALL SELECT member_key FROM {gone})""",
            [import_id, source, import_id],
        )
        cur.execute(
            f"""INSERT INTO member_record_version
                SELECT source, member_key, 'dropped', 'dropped', row_hash, ?, NULL, ?, {_COLS}
                FROM member_record WHERE source = ? AND member_key IN (SELECT member_key FROM {gone})""",
            [import_id, self.now, source],
        )
        cur.execute(
            f"DELETE FROM member_record WHERE source = ? AND import_id <> ? AND member_key IN ({replaced})",
            [source, import_id],
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
            f"""SELECT count(*),
                       count(*) FILTER (WHERE change = 'new'),
                       count(*) FILTER (WHERE change IN ('updated', 'rejoined')),
                       count(*) FILTER (WHERE change = 'rejoined'),
                       count(*) FILTER (WHERE change = 'unchanged'),
                       (SELECT count(*) FROM {gone})
                FROM {chg}"""
        ).fetchone()
        assert row is not None
        for table in (chg, prev, gone):
            cur.execute(f"DROP TABLE {table}")
        cur.execute(f"DROP TABLE IF EXISTS {self.batch}")
        return {
            "rows_loaded": int(row[0]),
            "new": int(row[1]),
            "updated": int(row[2]),
            "rejoined": int(row[3]),
            "unchanged": int(row[4]),
            "dropped": int(row[5]),
        }


@contextlib.contextmanager
def _writer_threads(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Give DuckDB one core less than the machine while the file streams in.

    The job thread standardizes (Python, one core) while the loader thread writes; a
    DuckDB using every core as well only makes the two fight and, on two cores, burns
    about half again as much CPU in total. `threads` is a database-wide setting, so it
    is set and restored on a cursor of its own (the job's may hold an aborted
    transaction by then). A DuckDB setting: nothing on a PostgreSQL warehouse.
    """
    if is_postgres(cur):
        yield
        return
    with contextlib.closing(cur.cursor()) as own:
        row = own.execute("SELECT current_setting('threads')").fetchone()
        assert row is not None
        before = int(row[0])
        own.execute(f"SET threads = {max(1, min(before, (os.cpu_count() or 2) - 1))}")
        try:
            yield
        finally:
            own.execute(f"SET threads = {before}")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the file streams in.

    Standardization keeps large per-value caches of tuples; each full collection walks
    all of them (about a tenth of the import's CPU). The batches make no reference cycles
    worth collecting early; collection resumes when the stream ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_file(
    ctx: JobContext,
    cur: duckdb.DuckDBPyConnection,
    reader: SourceReader,
    mapping: ColumnMapping,
    size: int,
    slug: str,
    import_id: int,
    mode: str,
) -> dict[str, int]:
    """Stream the file into the member tables; quarantine what cannot be loaded."""
    rows_read = 0
    consumed = 0
    with _writer_threads(cur), _gc_paused():
        loader = _SnapshotLoader(cur, source=slug, import_id=import_id, now=timezone.now().replace(tzinfo=None))
        try:
            # read_ahead: the next batch is read on a thread while this one is standardized
            for result in standardize_source(reader, mapping, batch_size=BATCH_ROWS, read_ahead=True):
                batch = result.batch
                rows_read += result.rows_read
                loaded = result.loaded
                if loaded.height == batch.frame.height:  # every row kept: aligned already
                    loaded = loaded.with_columns(batch.raw.alias("raw"))
                elif loaded.height:
                    raw = batch.raw.to_frame("raw").with_columns(batch.row_numbers.alias("row_number"))
                    loaded = loaded.join(raw, on="row_number", how="left")
                loader.put(loaded, result.quarantined)  # the reader's rejects and the standardizer's
                consumed += int(batch.raw.str.len_bytes().sum() or 0) + batch.rows_read
                ctx.progress(5 + 80 * min(1.0, consumed / max(size, 1)), f"{rows_read:,} rows read")
            loader.close()
        except BaseException:
            loader.abandon()
            raise
    ctx.progress(90, "comparing with the current member list")
    counts = loader.finish(mode=mode)
    quarantined_row = cur.execute(
        "SELECT count(*) FROM member_quarantine WHERE import_id = ?", [import_id]
    ).fetchone()
    assert quarantined_row is not None
    return {"rows_read": rows_read, "rows_quarantined": int(quarantined_row[0]), **counts}


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
