from django.urls import URLPattern, path, re_path

from unionhall.reports import views

urlpatterns: list[URLPattern] = [
    path("", views.index, name="reports"),
    path("contacts/", views.contacts, name="reports-contacts"),
    re_path(r"^contacts\.(?P<fmt>csv|pdf|png)$", views.contacts, name="reports-contacts-download"),
    path("early-vote/", views.early_vote, name="reports-early-vote"),
    re_path(r"^early-vote\.(?P<fmt>csv|pdf|png)$", views.early_vote, name="reports-early-vote-download"),
    path("usage/", views.usage, name="reports-usage"),
    re_path(r"^usage\.(?P<fmt>csv|pdf|png)$", views.usage, name="reports-usage-download"),
]
