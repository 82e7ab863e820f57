from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "unionhall.access"
    label = "access"
    verbose_name = "Access and governance"
