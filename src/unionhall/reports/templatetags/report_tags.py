"""Template helpers for report tables: one cell as people read it."""

from __future__ import annotations

from typing import Any

from django import template

from unionhall.reports.report import Column, cell_text

register = template.Library()


@register.simple_tag
def cell(row: dict[str, Any], column: Column) -> str:
    """The row's value for the column, formatted (counts, rates, dates)."""
    return cell_text(column.kind, row.get(column.key))


@register.simple_tag
def figure(kind: str, value: Any) -> str:
    return cell_text(kind, value)
