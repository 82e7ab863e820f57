from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "unionhall.web"
    label = "web"
    verbose_name = "Union Hall web"
