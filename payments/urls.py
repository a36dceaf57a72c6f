"""Pages of recipients and their case files (Rules, paragraphs 10-12): registering an
applicant, the recipient, dated changes and dependants, the case file's documents, and the
inventory of case files with its export."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from payments.views import recipients

urlpatterns: list[URLPattern] = [
    path("recipients/", recipients.recipient_list, name="recipient_list"),
    path("recipients/new/", recipients.recipient_new, name="recipient_register"),
    # The format in the pattern: any other is not a page (404) before the view is reached.
    re_path(r"^recipients/export\.(?P<fmt>csv|xlsx)/$", recipients.case_inventory_export, name="case_inventory_export"),
    path("recipients/<int:pk>/", recipients.recipient_detail, name="recipient_detail"),
    path("recipients/<int:pk>/change/", recipients.recipient_change, name="recipient_change"),
    path("recipients/<int:pk>/dependants/", recipients.dependant_add_view, name="dependant_add"),
    path("recipients/<int:pk>/dependants/end/", recipients.dependant_end_view, name="dependant_end"),
    path("recipients/<int:pk>/documents/", recipients.case_document_upload, name="case_document_upload"),
    path("documents/<int:pk>/", recipients.case_document_download, name="case_document_download"),
    path("documents/<int:pk>/check/", recipients.case_document_check_view, name="case_document_check"),
]
