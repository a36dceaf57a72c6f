"""The payments API under ``/api/v1/`` (``config/urls.py``): recipients and decisions."""

from __future__ import annotations

from django.urls import URLPattern, path

from payments import api, run_api

urlpatterns: list[URLPattern] = [
    path("recipients/", api.RecipientCreateApi.as_view(), name="api_recipients"),
    path("recipients/<int:pk>/", api.RecipientDetailApi.as_view(), name="api_recipient_detail"),
    path("decisions/", api.DecisionCreateApi.as_view(), name="api_decisions"),
    path("decisions/<int:pk>/", api.DecisionDetailApi.as_view(), name="api_decision_detail"),
    path("decisions/<int:pk>/<str:step>/", api.DecisionStepApi.as_view(), name="api_decision_step"),
    path("payment-runs/<str:month>/", run_api.PaymentRunApi.as_view(), name="api_payment_run"),
    path("payment-confirmations/", run_api.ConfirmationSubmitApi.as_view(), name="api_payment_confirmations"),
]
