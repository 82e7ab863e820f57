"""Writes of election data: one import service per file kind (all run inside a job).

Each returns a `Reconciliation`: rows read = loaded + quarantined, plus new, changed,
removed and unchanged. `person_upsert_from_voters` is the one writer of `person` rows.
"""

from unionhall.elections.absentee import absentee_import, ballot_status_refresh
from unionhall.elections.history import participation_refresh, vote_history_import
from unionhall.elections.people import person_upsert_from_voters
from unionhall.elections.polling import polling_places_import
from unionhall.elections.vendor import vendor_voterfile_import
from unionhall.elections.voterfile import voterfile_import

__all__ = [
    "absentee_import",
    "ballot_status_refresh",
    "participation_refresh",
    "person_upsert_from_voters",
    "polling_places_import",
    "vendor_voterfile_import",
    "vote_history_import",
    "voterfile_import",
]
