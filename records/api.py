"""The records API: a participant's personal data by IIN, for state systems (access logged)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import log_access
from records.identifiers import identifier_error
from records.models import AccessLog, Participant


def model_permission(permission: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission (declared for the URL matrix)."""

    class HasModelPermission(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.has_perm(permission))

    HasModelPermission.__name__ = f"Has_{permission.replace('.', '_')}"
    return HasModelPermission


class ParticipantOutput(serializers.ModelSerializer[Participant]):
    class Meta:
        model = Participant
        fields = [
            "iin",
            "last_name",
            "first_name",
            "patronymic",
            "birth_date",
            "gender",
            "death_date",
            "address",
            "postal_code",
            "citizenship",
        ]


class ParticipantDetailApi(APIView):
    """GET /api/v1/participants/{iin}/: personal data of one participant (Rules, paragraph 7 items 1-3)."""

    required_permission = "records.view_participant"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(responses=ParticipantOutput)
    def get(self, request: Request, iin: str) -> Response:
        if identifier_error(iin) is not None:
            raise Http404
        try:
            participant = Participant.objects.get(iin=iin)
        except Participant.DoesNotExist:
            raise Http404 from None
        log_access(request, kind=AccessLog.Kind.VIEW, view="api:participant_detail", participant=participant)
        return Response(ParticipantOutput(participant).data)
