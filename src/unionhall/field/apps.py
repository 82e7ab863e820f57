from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "unionhall.field"
    label = "field"
    verbose_name = "Field program (lists, turfs, scripts, contact results)"
