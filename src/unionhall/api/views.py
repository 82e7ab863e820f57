from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from unionhall.access.selectors import PersonFilter, PersonNotFound, person_get, person_search
from unionhall.api.serializers import JobSerializer, MeSerializer
from unionhall.errors import ScopeError
from unionhall.jobs.models import Job
from unionhall.jobs.selectors import job_get, job_list


class ApiRoot(APIView):
    """Entry point: links to the resources and the schema."""

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "me": reverse("api-me", request=request),
                "jobs": reverse("api-job-list", request=request),
                "people": reverse("api-people", request=request),
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
            }
        )


class MeView(APIView):
    """The authenticated user."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class JobListView(generics.ListAPIView[Job]):
    """Jobs the caller may see, newest first."""

    serializer_class = JobSerializer

    def get_queryset(self):
        return job_list(user=self.request.user, limit=1000)


class JobDetailView(generics.RetrieveAPIView[Job]):
    """One job with its progress and outcome."""

    serializer_class = JobSerializer

    def get_object(self) -> Job:
        try:
            return job_get(user=self.request.user, job_id=int(self.kwargs["pk"]))
        except Job.DoesNotExist:
            raise Http404 from None


class MemberDataAllowed(BasePermission):
    """Member data needs an account that is not blocked (expiry, agreement, 2FA)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        from unionhall.access.gate import access_block

        block = access_block(request.user)
        if block is not None:
            self.message = block.reason + (f" Go to {block.fix_url}." if block.fix_url else "")
            return False
        return True


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.lower() in ("1", "true", "yes")


class PeopleView(APIView):
    """Persons in the caller's scope, filtered; fields outside the scope are null.

    Query parameters: last_name, first_name (prefixes), state, county, zip5,
    registered (true/false), member_of (affiliate), limit (max 500), offset.
    """

    permission_classes = [IsAuthenticated, MemberDataAllowed]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        q = request.query_params
        filters = PersonFilter(
            last_name=q.get("last_name") or None, first_name=q.get("first_name") or None,
            state=q.get("state") or None, county=q.get("county") or None, zip5=q.get("zip5") or None,
            registered=_flag(q.get("registered")), member_of=q.get("member_of") or None,
        )
        try:
            limit = max(1, min(500, int(q.get("limit", "100"))))
            offset = max(0, int(q.get("offset", "0")))
        except ValueError:
            return Response({"detail": "limit and offset must be whole numbers"}, status=400)
        try:
            total, rows = person_search(user=request.user, filters=filters, limit=limit, offset=offset)
        except ScopeError as exc:
            return Response({"detail": str(exc)}, status=403)
        return Response({"count": total, "limit": limit, "offset": offset, "results": rows})


class PersonDetailView(APIView):
    """One person in the caller's scope (404 alike for missing and out of scope)."""

    permission_classes = [IsAuthenticated, MemberDataAllowed]

    @extend_schema(responses={200: dict})
    def get(self, request: Request, person_id: int) -> Response:
        try:
            return Response(person_get(user=request.user, person_id=person_id))
        except PersonNotFound:
            raise Http404 from None
