from django.apps import AppConfig


class ElectionsConfig(AppConfig):
    name = "unionhall.elections"
    label = "elections"
    verbose_name = "Election data"
