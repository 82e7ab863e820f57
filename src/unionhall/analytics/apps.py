from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "unionhall.analytics"
    label = "analytics"
    verbose_name = "Analytics (models, imputation, experiments, polls, analysts' SQL)"
