"""Member-list import: read any affiliate file, map its columns, standardize, quarantine.

The pieces, in the order an import uses them:

- `open_source(path)` -> `SourceReader` (header, notes, `batches()` of raw string rows)
- `suggest_mapping(header, sample_rows)` -> `ColumnMapping` (to confirm, save as JSON, reuse)
- `standardize_batch(batch, mapping)` -> `StandardizedBatch` (loaded rows + quarantined rows)
- `Reconciliation`: rows read = rows loaded + rows quarantined

This package has no Django or warehouse dependency; the importer job builds on it.
"""

from unionhall.ingest.mapping import MEMBER_SCHEMA, ColumnMapping, ColumnRule, suggest_mapping
from unionhall.ingest.pipeline import standardize_source
from unionhall.ingest.quarantine import QUARANTINE_CODES, Reconciliation, RejectedRow
from unionhall.ingest.readers import Batch, FixedField, FixedWidthLayout, SourceReader, open_source
from unionhall.ingest.standardize import LOADED_SCHEMA, StandardizedBatch, standardize_batch

__all__ = [
    "LOADED_SCHEMA",
    "MEMBER_SCHEMA",
    "QUARANTINE_CODES",
    "Batch",
    "ColumnMapping",
    "ColumnRule",
    "FixedField",
    "FixedWidthLayout",
    "Reconciliation",
    "RejectedRow",
    "SourceReader",
    "StandardizedBatch",
    "open_source",
    "standardize_batch",
    "standardize_source",
    "suggest_mapping",
]
