"""Read + standardize a whole file batch by batch, with row accounting."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

from unionhall.ingest.mapping import ColumnMapping
from unionhall.ingest.quarantine import Reconciliation
from unionhall.ingest.readers import DEFAULT_BATCH_SIZE, Batch, SourceReader
from unionhall.ingest.standardize import StandardizedBatch, standardize_batch

_DONE = object()


def _read_ahead(reader: SourceReader, batch_size: int) -> Iterator[Batch]:
    """Yield the reader's batches, reading the next one in a thread meanwhile.

    Parsing text holds the GIL but Polars releases it, so on two cores reading batch k+1
    overlaps standardizing batch k. At most one batch waits in the queue (memory stays at
    about two batches). Reader exceptions (UserError) are re-raised here.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in reader.batches(size=batch_size):
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put(exc)

    thread = threading.Thread(target=produce, name="ingest-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Batch)
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
            thread.join(timeout=0.1)


def standardize_source(
    reader: SourceReader,
    mapping: ColumnMapping,
    *,
    reconciliation: Reconciliation | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    read_ahead: bool = True,
) -> Iterator[StandardizedBatch]:
    """Stream standardized batches of `reader` under `mapping`.

    If `reconciliation` is given it is updated after each batch; the caller checks
    `reconciliation.balanced` (or calls `check()`) at the end. `read_ahead` reads the next
    batch in a background thread while this one is standardized.
    """
    batches = _read_ahead(reader, batch_size) if read_ahead else reader.batches(size=batch_size)
    for batch in batches:
        result = standardize_batch(batch, mapping)
        if reconciliation is not None:
            reconciliation.add(read=result.rows_read, loaded=result.loaded.height, quarantined=result.quarantined)
        yield result
