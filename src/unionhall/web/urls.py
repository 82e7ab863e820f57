from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from unionhall.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/", views.job_list_page, name="job-list"),
    path("jobs/<int:job_id>/", views.job_page, name="job-detail"),
    path("jobs/<int:job_id>/status", views.job_status_partial, name="job-status"),
    path("admin/", admin.site.urls),
    path("api/", include("unionhall.api.urls")),
]
