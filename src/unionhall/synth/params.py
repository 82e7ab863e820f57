"""Parameters of the synthetic state, with validation that explains how to fix bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unionhall.errors import UserError

__all__ = ["MAX_MEMBERS_PER_VOTER", "MessRates", "SynthParams", "mess_rates_from_json"]

# Members are drawn from the state's adults: registered ones from active/inactive
# voters, unregistered ones from the adults who never registered (about a fifth of
# adults). These caps keep both pools large enough for sampling without replacement.
MAX_MEMBERS_PER_VOTER = 0.30
MAX_UNREGISTERED_MEMBERS_PER_VOTER = 0.15


@dataclass
class MessRates:
    """How often each kind of real-world mess is put into affiliate member files.

    Every rate is a share in [0, 1] of the records it can apply to (see docs/synth.md):
    the generator picks exactly `round(rate * eligible)` records, so realized rates
    match the configured ones up to rounding.
    """

    nickname: float = 0.08
    """Share of records whose first name has a known nickname written as the nickname."""
    typo: float = 0.03
    """Share of records with one keyboard typo (edit) in the first or last name."""
    transposed_name: float = 0.01
    """Share of records with first and last name swapped."""
    dob_missing: float = 0.05
    """Share of records with the date of birth left blank."""
    dob_partial: float = 0.03
    """Share of records with only the year (or month and year) of birth."""
    moved: float = 0.10
    """Share of records still carrying the member's previous address."""
    apartment_variant: float = 0.60
    """Share of records with a unit whose unit is written in a non-USPS way (#4, Apt. 4...)."""
    duplicate_row: float = 0.02
    """Share of records repeated as a second row in the same file."""
    dual_member: float = 0.03
    """Share of members who also appear in a second affiliate's file."""
    unregistered: float = 0.25
    """Share of members not registered to vote anywhere."""
    out_of_state: float = 0.03
    """Share of members who live, and are registered, in another state."""
    junk_row: float = 0.002
    """Blank lines and repeated headers per data row (at least one per file when > 0)."""
    totals_row: float = 0.5
    """Share of affiliate files that end with a totals row."""

    def as_dict(self) -> dict[str, float]:
        """The rates as a plain dict (stable field order)."""
        return dataclasses.asdict(self)


def mess_rates_from_json(path: Path) -> MessRates:
    """Read mess rates from a JSON object file; unknown keys are an error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"--mess file {path} not found; pass a JSON file of mess rates") from exc
    except json.JSONDecodeError as exc:
        raise UserError(
            f"--mess file {path} is not valid JSON (line {exc.lineno}); fix the file"
        ) from exc
    if not isinstance(data, dict):
        raise UserError(f"--mess file {path} must hold a JSON object of name: rate")
    known = {f.name for f in dataclasses.fields(MessRates)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(
            f"--mess file {path}: unknown mess kind {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    rates = MessRates()
    for key, value in data.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise UserError(f"--mess file {path}: {key} must be a number between 0 and 1")
        setattr(rates, key, float(value))
    return rates


@dataclass
class SynthParams:
    """Everything that determines the generated state; same params -> same bytes."""

    voters: int = 200_000
    """Rows in the voter file (all statuses: active, inactive, removed, denied, temporary)."""
    members: int = 30_000
    """Distinct union members across all affiliates (file rows add duals, duplicates, junk)."""
    affiliates: int = 8
    """Number of fictional affiliate unions, 6 to 10."""
    seed: int = 7
    today: dt.date = dt.date(2026, 10, 20)
    """The state's "today": snapshot date of every file. Never the wall clock."""
    election_day: dt.date = dt.date(2026, 11, 3)
    """The upcoming general election the absentee files are about."""
    past_elections: int = 10
    """Past elections in vote history (primaries and generals), at least 8."""
    absentee_days: int = 12
    """Number of daily absentee snapshots, ending on `today`."""
    counties: int | None = None
    """Number of counties; default scales with `voters` (3 to 40)."""
    mess: MessRates = field(default_factory=MessRates)

    def county_count(self) -> int:
        """Counties in the state: given, or about one per 25,000 voters."""
        if self.counties is not None:
            return self.counties
        return max(3, min(40, round(self.voters / 25_000)))

    def validate(self) -> None:
        """Raise `UserError` (one line, naming the fix) if the parameters can't work."""
        if not isinstance(self.voters, int) or self.voters < 1_000:
            raise UserError(f"--voters must be at least 1000 (got {self.voters}); pass a larger --voters")
        if self.voters > 20_000_000:
            raise UserError(f"--voters {self.voters} is above the 20,000,000 limit; pass a smaller --voters")
        if not isinstance(self.members, int) or self.members < 0:
            raise UserError(f"--members must be zero or more (got {self.members})")
        if not isinstance(self.affiliates, int) or not 6 <= self.affiliates <= 10:
            raise UserError(f"--affiliates must be between 6 and 10 (got {self.affiliates})")
        if self.members and self.members < 10 * self.affiliates:
            raise UserError(
                f"--members {self.members} is too few for {self.affiliates} affiliates; "
                f"pass at least {10 * self.affiliates} or 0"
            )
        if not isinstance(self.seed, int) or self.seed < 0 or self.seed >= 2**63:
            raise UserError(f"--seed must be a non-negative integer below 2**63 (got {self.seed})")
        if self.counties is not None and not 1 <= self.counties <= 99:
            raise UserError(f"--counties must be between 1 and 99 (got {self.counties})")
        if not 8 <= self.past_elections <= 20:
            raise UserError(f"past_elections must be between 8 and 20 (got {self.past_elections})")
        if not 1 <= self.absentee_days <= 40:
            raise UserError(f"absentee_days must be between 1 and 40 (got {self.absentee_days})")
        if not dt.timedelta(days=self.absentee_days) <= self.election_day - self.today <= dt.timedelta(days=120):
            raise UserError(
                f"election day {self.election_day} must fall {self.absentee_days} to 120 days after today {self.today}"
            )
        for name, value in self.mess.as_dict().items():
            if not isinstance(value, (int, float)) or math.isnan(value) or not 0.0 <= value <= 1.0:
                raise UserError(f"mess rate {name}={value} is outside 0-1; pass a share such as 0.05")
        if self.mess.unregistered + self.mess.out_of_state > 1.0:
            raise UserError(
                "mess rates unregistered + out_of_state exceed 1; lower one of them"
            )
        if self.members > self.voters * MAX_MEMBERS_PER_VOTER:
            cap = int(self.voters * MAX_MEMBERS_PER_VOTER)
            raise UserError(
                f"--members {self.members} is more than {self.voters} voters allow (at most {cap}); "
                "lower --members or raise --voters"
            )
        unregistered = self.members * self.mess.unregistered
        if unregistered > self.voters * MAX_UNREGISTERED_MEMBERS_PER_VOTER:
            raise UserError(
                f"{int(unregistered)} unregistered members need more unregistered adults than "
                f"{self.voters} voters imply; lower the unregistered rate or --members"
            )

    def as_json(self) -> dict[str, Any]:
        """JSON-ready view for the manifest."""
        data = dataclasses.asdict(self)
        data["today"] = self.today.isoformat()
        data["election_day"] = self.election_day.isoformat()
        data["counties"] = self.county_count()
        return data
