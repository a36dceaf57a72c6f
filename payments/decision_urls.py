"""URLs of the decision pages (issue 17, decisions part): the amount preview and drafting from a
recipient, the decision, the steps of its approval, each role's queue and the proposals."""

from __future__ import annotations

from django.urls import URLPattern, path

from payments.views import decisions as views

urlpatterns: list[URLPattern] = [
    path("recipients/<int:pk>/amount/", views.amount_preview, name="amount_preview"),
    path("recipients/<int:pk>/decisions/new/", views.decision_new, name="decision_new"),
    path("decisions/", views.decision_queue_view, name="decision_queue"),
    path("decisions/proposals/", views.proposal_list, name="proposal_list"),
    path("decisions/proposals/<int:pk>/dismiss/", views.proposal_dismiss_view, name="proposal_dismiss"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision_detail"),
    path("decisions/<int:pk>/edit/", views.decision_redraft_view, name="decision_redraft"),
    path("decisions/<int:pk>/<slug:step>/", views.decision_step, name="decision_step"),
]
