from importlib import import_module
from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from unionhall.access import views as access_views
from unionhall.web import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/", views.job_list_page, name="job-list"),
    path("jobs/<int:job_id>/", views.job_page, name="job-detail"),
    path("jobs/<int:job_id>/status", views.job_status_partial, name="job-status"),
    path("admin/", admin.site.urls),
    path("api/", include("unionhall.api.urls")),
    path("account/", include("unionhall.access.urls")),
    path("people/", access_views.people_search, name="people-search"),
]

# Capability pages: each `unionhall.<capability>.urls` module with `urlpatterns`,
# mounted under its prefix.
CAPABILITY_URLS = {
    "imports/": "unionhall.ingest.urls",
    "elections/": "unionhall.elections.urls",
    "identity/": "unionhall.identity.urls",
    "field/": "unionhall.field.urls",
    "reports/": "unionhall.reports.urls",
    "exports/": "unionhall.exports.urls",
    "analytics/": "unionhall.analytics.urls",
}
for prefix, module in CAPABILITY_URLS.items():
    if find_spec(module) is not None:
        urlpatterns.append(path(prefix, include(import_module(module))))
