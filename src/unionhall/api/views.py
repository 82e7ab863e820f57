from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from unionhall.api.serializers import JobSerializer, MeSerializer
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
