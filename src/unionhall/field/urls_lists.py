from django.urls import path

from unionhall.field.views import lists

urlpatterns = [
    path("lists/", lists.list_index, name="field-lists"),
    path("lists/new/", lists.builder, name="field-list-builder"),
    path("lists/count", lists.builder_counts, name="field-list-count"),
    path("lists/save", lists.list_save, name="field-list-save"),
    path("lists/<int:list_id>/", lists.list_detail, name="field-list"),
    path("lists/<int:list_id>/refresh", lists.list_refresh, name="field-list-refresh"),
    path("lists/<int:list_id>/cut", lists.cut_submit, name="field-list-cut"),
    path("lists/<int:list_id>/call-sheet.pdf", lists.call_sheet, name="field-call-sheet"),
    path("lists/<int:list_id>/mail.<str:fmt>", lists.mail_file, name="field-mail-file"),
    path("cuts/<int:cut_id>/", lists.cut_detail, name="field-cut"),
    path("cuts/<int:cut_id>/edit", lists.cut_edit, name="field-cut-edit"),
    path("turfs/<int:turf_id>/walk-sheet.pdf", lists.walk_sheet, name="field-walk-sheet"),
]
