"""URLs of the monthly payments pages (issue 18): runs, lists, confirmations, returns and
recoveries, the work lists, a recipient's bank details."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from payments.views import runs as views

urlpatterns: list[URLPattern] = [
    path("payments/runs/", views.payment_runs, name="payment_runs"),
    re_path(r"^payments/runs/(?P<month>[0-9]{4}-[0-9]{2})/$", views.payment_run_detail, name="payment_run_detail"),
    re_path(
        r"^payments/runs/(?P<month>[0-9]{4}-[0-9]{2})/(?P<step>approve|rebuild)/$",
        views.payment_run_step,
        name="payment_run_step",
    ),
    re_path(
        r"^payments/lists/(?P<pk>[0-9]{1,18})\.(?P<fmt>csv|xlsx|mt102)$",
        views.payment_list_download,
        name="payment_list_download",
    ),
    path("payments/confirmations/", views.payment_confirmations, name="payment_confirmations"),
    path("payments/returns/", views.payment_returns, name="payment_returns"),
    re_path(r"^payments/work/(?P<kind>unpaid|reported_dead)/$", views.work_list, name="work_list"),
    re_path(
        r"^payments/work/(?P<kind>unpaid|reported_dead)/export\.(?P<fmt>csv|xlsx)$",
        views.work_list_export,
        name="work_list_export",
    ),
    path("recipients/<int:pk>/bank-account/", views.bank_account_add_view, name="bank_account_add"),
]
