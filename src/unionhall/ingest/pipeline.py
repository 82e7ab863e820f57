"""Read + standardize a whole file batch by batch, with row accounting."""

from __future__ import annotations

from collections.abc import Iterator

from unionhall.ingest.mapping import ColumnMapping
from unionhall.ingest.quarantine import Reconciliation
from unionhall.ingest.readers import DEFAULT_BATCH_SIZE, SourceReader
from unionhall.ingest.standardize import StandardizedBatch, standardize_batch


def standardize_source(
    reader: SourceReader,
    mapping: ColumnMapping,
    *,
    reconciliation: Reconciliation | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[StandardizedBatch]:
    """Stream standardized batches of `reader` under `mapping`.

    If `reconciliation` is given it is updated after each batch; the caller checks
    `reconciliation.balanced` (or calls `check()`) at the end.
    """
    for batch in reader.batches(size=batch_size):
        result = standardize_batch(batch, mapping)
        if reconciliation is not None:
            reconciliation.add(read=result.rows_read, loaded=result.loaded.height, quarantined=result.quarantined)
        yield result
