from django.urls import path

from unionhall.analytics.views import models

urlpatterns = [
    path("", models.model_index, name="analytics-models"),
    path("<int:pk>/", models.model_detail, name="analytics-model"),
]
