from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "unionhall.ingest"
    label = "ingest"
    verbose_name = "Member imports"
