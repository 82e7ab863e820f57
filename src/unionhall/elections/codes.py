"""Normalization tables for NC election files.

Labels in the public files changed over the years (vote-history voting methods) or
carry many distinct texts for one meaning (absentee return statuses). These tables map
every label we know to one small set of values. A label that is in none of them is
*flagged and kept*: the row loads, its value becomes ``unknown`` and the load records
the file, row, column and value so someone can extend the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# -- vote history (ncvhis `voting_method`) ----------------------------------------------
# Normalized methods.
ELECTION_DAY: Final = "election_day"
EARLY: Final = "early_in_person"
MAIL: Final = "mail"
PROVISIONAL: Final = "provisional"
DID_NOT_VOTE: Final = "did_not_vote"
UNKNOWN: Final = "unknown"

VOTING_METHODS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # current labels (layout of 06/17/2021)
        "IN-PERSON": ELECTION_DAY,
        "CURBSIDE": ELECTION_DAY,
        "TRANSFER": ELECTION_DAY,
        "ABSENTEE ONESTOP": EARLY,
        "ABSENTEE CURBSIDE": EARLY,
        "ABSENTEE BY MAIL": MAIL,
        "PROVISIONAL": PROVISIONAL,
        # older labels seen in files of earlier years
        "IN PERSON": ELECTION_DAY,
        "ELECTION DAY": ELECTION_DAY,
        "ONE STOP": EARLY,
        "ONESTOP": EARLY,
        "ABSENTEE ONE STOP": EARLY,
        "EARLY VOTING": EARLY,
        "ABSENTEE": MAIL,
        "MAIL": MAIL,
        "ABSENTEE MAIL": MAIL,
        "CIVILIAN": MAIL,
        "MILITARY": MAIL,
        "OVERSEAS": MAIL,
        "UOCAVA": MAIL,
        "ELIGIBLE DID NOT VOTE": DID_NOT_VOTE,
        "NO VOTE": DID_NOT_VOTE,
    }
)

METHOD_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        ELECTION_DAY: "Election day",
        EARLY: "Early in person",
        MAIL: "By mail",
        PROVISIONAL: "Provisional",
        DID_NOT_VOTE: "Did not vote",
        UNKNOWN: "Unknown",
    }
)

# `election_desc` -> kind of election. Checked in this order; the first word found wins
# ("05/17/2022 SECOND PRIMARY" is a runoff, "11/05/2019 MUNICIPAL GENERAL" municipal).
ELECTION_TYPES: Final[tuple[tuple[str, str], ...]] = (
    ("SECOND PRIMARY", "runoff"),
    ("RUNOFF", "runoff"),
    ("MUNICIPAL", "municipal"),
    ("SPECIAL", "special"),
    ("PRIMARY", "primary"),
    ("GENERAL", "general"),
)

# -- voter file ---------------------------------------------------------------------------
# Address values the voter file writes instead of an address.
ADDRESS_PLACEHOLDERS: Final = ("CONFIDENTIAL", "REMOVED")

# Order in which registrations of one person are preferred for the person's address.
STATUS_RANK: Final[Mapping[str, int]] = MappingProxyType({"A": 1, "S": 2, "I": 3, "D": 4, "R": 5})

# Columns of the previous (until 02/05/2022) voter layout that the current one renamed.
OLD_TO_NEW_VOTER_COLUMNS: Final[Mapping[str, str]] = MappingProxyType({"birth_age": "age_at_year_end"})

# Columns of the voter file that carry a code checked against the layout's code lists.
VOTER_CODED_COLUMNS: Final = ("status_cd", "race_code", "ethnic_code", "party_cd", "gender_code", "reason_cd")

# -- absentee ballots (`ballot_rtn_status`, `ballot_req_type`) ----------------------------
# Normalized ballot stages, in the order a ballot moves through them (the rank breaks ties
# between events on the same day).
REQUESTED: Final = "requested"
SENT: Final = "sent"
SPOILED: Final = "spoiled"
VOID: Final = "void"
NEEDS_CURE: Final = "needs_cure"
ACCEPTED: Final = "accepted"
CURED: Final = "cured"
VOTED_EARLY: Final = "voted_early"

STAGE_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        UNKNOWN: 0,
        REQUESTED: 1,
        SENT: 2,
        SPOILED: 3,
        VOID: 4,
        NEEDS_CURE: 5,
        ACCEPTED: 6,
        CURED: 7,
        VOTED_EARLY: 8,
    }
)

STAGE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        REQUESTED: "Mail ballot requested",
        SENT: "Mail ballot sent",
        SPOILED: "Ballot spoiled or undeliverable",
        VOID: "Ballot not counted (conflict or duplicate)",
        NEEDS_CURE: "Ballot needs a cure",
        ACCEPTED: "Mail ballot returned and accepted",
        CURED: "Mail ballot cured and accepted",
        VOTED_EARLY: "Voted early in person",
        UNKNOWN: "Unknown status",
    }
)

VOTED_STAGES: Final = (ACCEPTED, CURED, VOTED_EARLY)
CHASE_STAGES: Final = (REQUESTED, SENT, SPOILED)

# `ballot_rtn_status` text -> stage. Empty means "not returned": requested or sent,
# depending on whether a send date is filled.
RETURN_STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ACCEPTED": ACCEPTED,
        "ACCEPTED - CURED": CURED,
        "ACCEPTED-CURED": CURED,
        "CURED": CURED,
        "PENDING CURE": NEEDS_CURE,
        "WITNESS INFO INCOMPLETE": NEEDS_CURE,
        "SIGNATURE DIFFERENT": NEEDS_CURE,
        "VOTER SIGNATURE MISSING": NEEDS_CURE,
        "ASSISTANT INFO INCOMPLETE": NEEDS_CURE,
        "WITNESS SIGNATURE MISSING": NEEDS_CURE,
        "ID REQUIRED": NEEDS_CURE,
        "SPOILED": SPOILED,
        "RETURNED UNDELIVERABLE": SPOILED,
        "CANCELLED": SPOILED,
        "NOT VOTED": SPOILED,
        "WRONG VOTER": SPOILED,
        "CONFLICT": VOID,
        "DUPLICATE": VOID,
    }
)

REQUEST_TYPES: Final[Mapping[str, str]] = MappingProxyType({"MAIL": "mail", "ONE-STOP": "early"})

AGE_GROUPS: Final[tuple[tuple[str, int, int], ...]] = (
    ("18-25", 18, 25),
    ("26-40", 26, 40),
    ("41-65", 41, 65),
    ("66 and over", 66, 200),
)


def election_type(desc: str) -> str:
    """Kind of election from an `election_desc` such as ``11/05/2024 GENERAL``."""
    text = desc.upper()
    for word, kind in ELECTION_TYPES:
        if word in text:
            return kind
    return "other"
