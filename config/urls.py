from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from records import api as records_api
from records import views as records_views
from records.access import public
from standards import views as standards_views

urlpatterns = [
    path("", records_views.home, name="home"),
    path("healthz", records_views.healthz, name="healthz"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("accounts/login/", public(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("participants/", records_views.participant_search_view, name="participant_search"),
    path("participants/<int:pk>/", records_views.participant_detail, name="participant_detail"),
    path("access-log/", records_views.access_log_view, name="access_log"),
    path("staff/roles/", standards_views.role_list, name="role_list"),
    path("staff/roles/assign/", standards_views.role_assign_view, name="role_assign"),
    path("api/v1/participants/<str:iin>/", records_api.ParticipantDetailApi.as_view(), name="api_participant_detail"),
    path("admin/", admin.site.urls),
]
