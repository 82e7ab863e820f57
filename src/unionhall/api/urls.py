from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from unionhall.api import views

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("me", views.MeView.as_view(), name="api-me"),
    path("jobs", views.JobListView.as_view(), name="api-job-list"),
    path("jobs/<int:pk>", views.JobDetailView.as_view(), name="api-job-detail"),
    path("people", views.PeopleView.as_view(), name="api-people"),
    path("people/<int:person_id>", views.PersonDetailView.as_view(), name="api-person-detail"),
]
