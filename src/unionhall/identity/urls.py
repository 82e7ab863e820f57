from django.urls import path

from unionhall.identity import views

urlpatterns = [
    path("", views.summary, name="identity-summary"),
    path("review/", views.review, name="identity-review"),
    path("review/<str:pair>/", views.review_pair, name="identity-pair"),
    path("people/<int:person_id>/", views.person, name="identity-person"),
    path("people/<int:person_id>/split/", views.person_split_view, name="identity-person-split"),
    path("people/<int:person_id>/merge/", views.person_merge_view, name="identity-person-merge"),
]
