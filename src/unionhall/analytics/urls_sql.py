"""The SQL page, under /analytics/sql/."""

from __future__ import annotations

from django.urls import path

from unionhall.analytics.views import sql

urlpatterns = [path("", sql.sql_page, name="analytics-sql")]
