from django.urls import path

from unionhall.exports import views

urlpatterns = [
    path("", views.export_index, name="exports"),
    path("deliveries/", views.deliveries, name="export-deliveries"),
    path("trace/", views.trace_page, name="export-trace"),
    path("new/<int:list_id>/", views.export_new, name="export-new"),
    path("<int:pk>/", views.export_detail, name="export-detail"),
    path("<int:pk>/decide", views.export_decide, name="export-decide"),
    path("<int:pk>/download", views.export_file, name="export-download"),
    path("<int:pk>/layout", views.export_file, {"part": "layout"}, name="export-layout"),
]
