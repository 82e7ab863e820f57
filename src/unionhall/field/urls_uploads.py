"""Vendor result uploads, under /field/results/."""

from django.urls import path

from unionhall.field.views import uploads

urlpatterns = [
    path("results/", uploads.uploads, name="field-results"),
    path("results/<int:upload_id>/", uploads.upload_detail, name="field-results-detail"),
    path("results/<int:upload_id>/map/", uploads.mapping_screen, name="field-results-map"),
    path("results/<int:upload_id>/quarantine.csv", uploads.quarantine_csv, name="field-results-quarantine-csv"),
]
