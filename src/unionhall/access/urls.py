from django.urls import path

from unionhall.access import views

urlpatterns = [
    path("agreement/", views.agreement, name="account-agreement"),
    path("two-factor/", views.two_factor, name="account-two-factor"),
    path("usage/", views.usage, name="usage-report"),
]
