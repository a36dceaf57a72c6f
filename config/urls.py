from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from records import views as records_views

urlpatterns = [
    path("healthz", records_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
