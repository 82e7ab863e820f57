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


AfterJob = Callable[[Any], None]
_AFTER: list[tuple[frozenset[str], AfterJob]] = []


def after_jobs(*kinds: str) -> Callable[[AfterJob], AfterJob]:
    """Register `fn(ctx)` to run at the end of every job of one of `kinds`, inside that
    job's transactions (derived data kept in step with its inputs: a failed job leaves
    both as they were). Capabilities use it to follow others' loads without those
    knowing about them."""

    def register(fn: AfterJob) -> AfterJob:
        _AFTER.append((frozenset(kinds), fn))
        return fn

    return register


def after_job_hooks(kind: str) -> list[AfterJob]:
    return [fn for kinds, fn in _AFTER if kind in kinds]


def get_job_kind(kind: str) -> JobKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        from unionhall.errors import UserError

        raise UserError(f"unknown job kind {kind!r}: known kinds are {known}") from None


def job_kinds() -> list[JobKind]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


