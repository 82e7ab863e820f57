"""Errors a person can act on.

A `UserError` carries one line that names the problem and the fix. The CLI prints it
without a traceback and exits non-zero; the web app shows it on the page.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with input or environment that the user can fix.

    The message is one line: what is wrong (naming the file, row and column where there
    is one) and what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(UserError):
    """The configuration or environment is unusable (bad URL, unreachable server...)."""

    exit_code = 3


class WarehouseLocked(UserError):
    """Another process holds the embedded warehouse file."""

    exit_code = 4


class ScopeError(Exception):
    """A read of person rows was attempted without a user, or outside the user's scope.

    Deliberately not a `UserError`: it signals a programming mistake, and callers that
    render it must show the same "not found" as for a missing record.
    """


class PersonTableRefused(Exception):
    """Code asked the warehouse for a person-bearing table outside the one gateway.

    A programming mistake, like `ScopeError`: person rows for a user are read through
    `unionhall.access.gateway`, system jobs through `Warehouse.unscoped_table`.
    """
