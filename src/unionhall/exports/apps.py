from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "unionhall.exports"
    label = "exports"
    verbose_name = "Exports (output requests, approvals, seed records, tracing)"
