from django.urls import path

from unionhall.ingest import views

urlpatterns = [
    path("", views.import_history, name="import-history"),
    path("upload/", views.upload, name="import-upload"),
    path("map/<str:token>/", views.mapping_screen, name="import-map"),
    path("<int:run_id>/", views.import_detail, name="import-detail"),
    path("<int:run_id>/quarantine/", views.quarantine, name="import-quarantine"),
]
