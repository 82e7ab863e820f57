from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "unionhall.reports"
    label = "reports"
    verbose_name = "Reports (contacts, early-vote progress, usage)"
