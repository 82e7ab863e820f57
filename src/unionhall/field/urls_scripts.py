"""Scripts and codes pages, mounted under /field/ by `unionhall.field.urls`."""

from django.urls import URLPattern, path

from unionhall.field.views import scripts

urlpatterns: list[URLPattern] = [
    path("scripts/", scripts.scripts_index, name="field-scripts"),
    path("scripts/new/", scripts.script_create, name="field-script-create"),
    path("scripts/<int:script_id>/", scripts.script_preview, name="field-script"),
    path("scripts/<int:script_id>/edit/", scripts.script_edit, name="field-script-edit"),
    path("scripts/questions/new/", scripts.question_create, name="field-question-create"),
    path("scripts/questions/<int:question_id>/edit/", scripts.question_edit, name="field-question-edit"),
    path("scripts/activist-codes/new/", scripts.activist_code_create, name="field-activist-code-create"),
]
