from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework import serializers

from unionhall.jobs.models import Job


class JobSerializer(serializers.ModelSerializer[Job]):
    created_by: serializers.SlugRelatedField[AbstractBaseUser] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Job
        fields = [
            "id", "kind", "params", "status", "progress", "message", "error", "result",
            "created_by", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "is_staff"]
        read_only_fields = fields
