"""Registered job kinds: `@job_kind("import.members", title=...)` on a function
``fn(ctx: JobContext, **params) -> dict | None``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

JobFunction = Callable[..., "dict[str, Any] | None"]


@dataclass(frozen=True)
class JobKind:
    kind: str
    title: str
    fn: JobFunction
    uses_warehouse: bool


_REGISTRY: dict[str, JobKind] = {}


def job_kind(
    kind: str, *, title: str, uses_warehouse: bool = True
) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under `kind`."""

    def register(fn: JobFunction) -> JobFunction:
        _REGISTRY[kind] = JobKind(kind=kind, title=title, fn=fn, uses_warehouse=uses_warehouse)
        return fn

    return register


def get_job_kind(kind: str) -> JobKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        from unionhall.errors import UserError

        raise UserError(f"unknown job kind {kind!r}: known kinds are {known}") from None


def job_kinds() -> list[JobKind]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


