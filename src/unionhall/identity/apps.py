from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "unionhall.identity"
    label = "identity"
    verbose_name = "Identity (persons and matching)"
