"""URLs of the monthly report to the authorized body (Rules, paragraph 5; issue 19)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from payments.views import reports as views

urlpatterns: list[URLPattern] = [
    path("reports/", views.monthly_reports, name="monthly_reports"),
    path("dashboard/", views.heads_dashboard, name="heads_dashboard"),
    path("reports/<int:pk>/", views.monthly_report_detail, name="monthly_report_detail"),
    path("reports/<int:pk>/sign/", views.monthly_report_sign, name="monthly_report_sign"),
    re_path(
        r"^reports/(?P<pk>[0-9]{1,18})/report-(?P<lang>kk|ru|en)\.(?P<fmt>csv|xlsx)$",
        views.monthly_report_download,
        name="monthly_report_download",
    ),
]
