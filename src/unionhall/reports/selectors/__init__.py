"""Reads behind the reports (STYLE.md rule 1). Person data only through the gateway;
each read is written to the usage log, as the other pages' reads are."""

from __future__ import annotations

from unionhall.reports.selectors.common import report_committees, reports_allowed
from unionhall.reports.selectors.contacts import contact_report, contact_report_options
from unionhall.reports.selectors.early_vote import early_vote_progress
from unionhall.reports.selectors.usage import usage_flagged

__all__ = ["contact_report", "contact_report_options", "early_vote_progress", "report_committees",
           "reports_allowed", "usage_flagged"]
