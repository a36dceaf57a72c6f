"""The payments API under ``/api/v1/`` (``config/urls.py``): recipients and decisions."""

from __future__ import annotations

from django.urls import URLPattern, path

from payments import api

urlpatterns: list[URLPattern] = [
    path("recipients/", api.RecipientCreateApi.as_view(), name="api_recipients"),
    path("recipients/<int:pk>/", api.RecipientDetailApi.as_view(), name="api_recipient_detail"),
    path("decisions/", api.DecisionCreateApi.as_view(), name="api_decisions"),
    path("decisions/<int:pk>/", api.DecisionDetailApi.as_view(), name="api_decision_detail"),
    path("decisions/<int:pk>/<str:step>/", api.DecisionStepApi.as_view(), name="api_decision_step"),
]
