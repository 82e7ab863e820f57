from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "unionhall.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Each capability registers its job functions in a `tasks` module.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
