"""Matching settings: a plain dataclass, backend-neutral (STYLE.md rule 6)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from unionhall.errors import UserError


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds on Splink's match probability, and training sizes.

    * a pair at or above ``link_threshold`` links automatically (member -> voter);
    * ``dual_threshold`` is the same for member <-> member pairs;
    * a pair between ``review_threshold`` and the link threshold goes to the review queue;
    * below ``review_threshold`` a pair is not kept.
    """

    link_threshold: float = 0.90
    dual_threshold: float = 0.95
    review_threshold: float = 0.50
    retrain: bool = False
    seed: int = 42
    u_pairs: float = 1e6
    em_pairs: float = 1e6

    def validate(self) -> MatchSettings:
        for name in ("link_threshold", "dual_threshold", "review_threshold"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise UserError(f"{name.replace('_', ' ')} must be between 0 and 1 (got {v})")
        if self.review_threshold > min(self.link_threshold, self.dual_threshold):
            raise UserError("the review threshold must not be above the link thresholds")
        return self

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MatchSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in known and v is not None}).validate()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
