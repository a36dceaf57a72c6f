"""The decision printed as a document (issue 17), in Kazakh or Russian."""

from __future__ import annotations

from django.urls import URLPattern, path

from payments import document_views

urlpatterns: list[URLPattern] = [
    path("decisions/<int:pk>/document.<str:lang>.pdf", document_views.decision_pdf_view, name="decision_pdf"),
]
