from django.urls import URLPattern, path

from unionhall.elections import views

urlpatterns: list[URLPattern] = [
    path("", views.loads_page, name="elections-loads"),
    path("people/<int:person_id>/", views.person_page, name="elections-person"),
    path("early-vote/", views.early_vote_page, name="elections-early-vote"),
    path("voter-files/", views.voter_files_page, name="elections-voter-files"),
    path("voter-files/map/<str:token>/", views.voter_file_map, name="elections-voter-file-map"),
]
