"""The SQL page: one read-only query over the user's scope (`analytics.sql.run_sql`),
its first rows or the reason it was not run, beside the tables and columns that can be
read. For analysts, data managers and administrators; nothing here downloads rows
(exports of person rows need someone else's approval, on the list's export page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from unionhall.analytics.selectors import analytics_view
from unionhall.analytics.sql import SqlError, readable_tables, run_sql
from unionhall.reports.selectors.common import min_cell_for


@analytics_view
def sql_page(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: run the query and show its result or its error in place."""
    sql = request.POST.get("sql", "") if request.method == "POST" else ""
    result = None
    error = None
    if request.method == "POST":
        try:
            result = run_sql(user=request.user, sql=sql)
        except SqlError as exc:
            error = exc
    return render(request, "analytics/sql/index.html", {
        "sql": sql, "result": result, "error": error,
        "tables": readable_tables(), "min_cell": min_cell_for(request.user),
    })
