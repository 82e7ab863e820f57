from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "unionhall.access"
    label = "access"
    verbose_name = "Access and governance"

    def ready(self) -> None:
        from unionhall.access import signals  # noqa: F401  (login events into the usage log)
