"""The canvass and phone-bank pages and the results API (mounted under /field/)."""

from django.urls import URLPattern, path

from unionhall.field.views import canvass

urlpatterns: list[URLPattern] = [
    path("canvass/", canvass.my_turfs, name="field-my-turfs"),
    path("canvass/<int:turf_id>/", canvass.canvass_page, name="field-canvass"),
    path("canvass/<int:turf_id>/data.json", canvass.canvass_data, name="field-canvass-data"),
    path("api/results", canvass.results_api, name="field-results-api"),
    path("lists/<int:list_id>/call/", canvass.phone_bank, name="field-phone-bank"),
]
