"""App-database records of member imports: sources, saved mappings, import history."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Source(models.Model):
    """Who sends us a member list: an affiliate union (or a local, or a vendor).

    A source of kind `voter_layout` is a saved voter-file layout (another state's or a
    vendor's file): its `SourceMapping` rows hold the layout JSON, newest first.
    """

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", "Member-list source"
        VOTER_LAYOUT = "voter_layout", "Voter-file layout"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AFFILIATE)
    slug = models.SlugField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceMapping(models.Model):
    """A confirmed column mapping for a source; the newest one is reused next time."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mappings")
    mapping_json = models.TextField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-saved_at", "-id"]

    def __str__(self) -> str:
        return f"mapping for {self.source} ({self.saved_at:%Y-%m-%d})"


class ImportRun(models.Model):
    """One successful import of one file (the import history)."""

    class Mode(models.TextChoices):
        SNAPSHOT = "snapshot", "Full snapshot (members missing from the file are dropped)"
        PARTIAL = "partial", "Partial update (nobody is dropped)"

    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_run"
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.BigIntegerField()
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SNAPSHOT)
    mapping_json = models.TextField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    imported_at = models.DateTimeField()
    rows_read = models.PositiveIntegerField()
    rows_loaded = models.PositiveIntegerField()
    rows_quarantined = models.PositiveIntegerField()
    new = models.PositiveIntegerField()
    updated = models.PositiveIntegerField()
    unchanged = models.PositiveIntegerField()
    dropped = models.PositiveIntegerField()
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "file_sha256"], name="one_import_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.file_name} ({self.imported_at:%Y-%m-%d})"

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


class Upload(models.Model):
    """A member file uploaded through the web, waiting for its mapping to be confirmed."""

    token = models.CharField(max_length=32, unique=True)
    path = models.CharField(max_length=1000)
    file_name = models.CharField(max_length=500)
    source_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"upload {self.file_name} for {self.source_name}"
