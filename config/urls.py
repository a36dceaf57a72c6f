from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from contributions import api as contributions_api
from contributions import views as contributions_views
from records import api as records_api
from records import otp_views
from records import views as records_views
from records.access import public
from standards import views as standards_views

# The admin is named like the app it administers (Django's default reads "Django administration").
admin.site.site_header = _("Personalized records: administration")
admin.site.site_title = _("Personalized records")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", records_views.home, name="home"),
    path("healthz", records_views.healthz, name="healthz"),
    path("favicon.ico", records_views.favicon, name="favicon"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("accounts/login/", public(otp_views.SignInView.as_view()), name="login"),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("participants/", records_views.participant_search_view, name="participant_search"),
    path("participants/<int:pk>/", records_views.participant_detail, name="participant_detail"),
    path("access-log/", records_views.access_log_view, name="access_log"),
    path("exports/", records_views.export_jobs, name="export_jobs"),
    path("exports/jobs/", records_views.export_job_table, name="export_job_table"),
    path("exports/<int:pk>/download/", records_views.export_download, name="export_download"),
    path("registry/", records_views.registry_upload, name="registry_upload"),
    path("registry/loads/<int:pk>/", records_views.registry_load_detail, name="registry_load_detail"),
    path("staff/roles/", standards_views.role_list, name="role_list"),
    path("staff/roles/assign/", standards_views.role_assign_view, name="role_assign"),
    path("orders/", contributions_views.order_list, name="order_list"),
    path("orders/live/", contributions_views.order_live, name="order_live"),
    path("orders/upload/", contributions_views.order_upload, name="order_upload"),
    path("orders/review/", contributions_views.review_queue, name="review_queue"),
    path("orders/deadlines/", contributions_views.deadlines, name="deadlines"),
    path("orders/<int:pk>/", contributions_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/resolve/", contributions_views.order_resolve, name="order_resolve"),
    path("returns/", contributions_views.return_document_list, name="return_document_list"),
    path(
        "returns/<int:pk>.<str:fmt>",
        contributions_views.return_document_download,
        name="return_document_download",
    ),
    path("files/<int:pk>/raw/", contributions_views.incoming_file_download, name="incoming_file_download"),
    path("payers/<str:idn>/", contributions_views.payer_detail, name="payer_detail"),
    path("refunds/", contributions_views.refund_list, name="refund_list"),
    path("refunds/new/<int:entry_id>/", contributions_views.refund_new, name="refund_new"),
    path("refunds/<int:pk>/decide/", contributions_views.refund_decide_view, name="refund_decide"),
    path("api/v1/participants/<str:iin>/", records_api.ParticipantDetailApi.as_view(), name="api_participant_detail"),
    path("api/v1/orders/", contributions_api.OrderSubmitApi.as_view(), name="api_order_submit"),
    path("api/v1/orders/<int:pk>/", contributions_api.OrderDetailApi.as_view(), name="api_order_detail"),
    path(
        "api/v1/orders/<int:pk>/return-document.<str:fmt>",
        contributions_api.ReturnDocumentApi.as_view(),
        name="api_return_document",
    ),
    path("api/schema/", public(SpectacularAPIView.as_view()), name="api_schema"),
    path("api/docs/", public(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("accounts/", include("records.otp_urls")),
    path("", include("payments.urls")),
    path("", include("payments.decision_urls")),
    path("", include("payments.document_urls")),
    path("", include("payments.run_urls")),
    path("", include("payments.report_urls")),
    path("api/v1/", include("payments.api_urls")),
    path("admin/", admin.site.urls),
]
