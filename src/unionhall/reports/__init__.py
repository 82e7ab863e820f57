"""Reports and dashboards (DESIGN.md capability 7): contact reports for walks, phones
and mailings, early-vote progress of a saved list, and the usage report flagged
against the data agreement; each a page with a chart, and CSV, PDF and PNG downloads.

Every number comes through the one gateway (`unionhall.access.gateway`) or, for the
usage log, through `unionhall.access.selectors.usage_report`. Public names:
`contact_report`, `early_vote_progress`, `usage_flagged` (selectors), `Report`.
"""

from __future__ import annotations

from unionhall.reports.report import Report

__all__ = ["Report"]
