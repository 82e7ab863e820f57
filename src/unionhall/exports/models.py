"""Output requests and the vendors they go to.

An `ExportRequest` is asked for by one user and decided by another (never the
requester); once approved it runs as a job that writes the file, its seed records and
its watermark (`exports.services`). The file's persons are in the warehouse table
``export_person`` with their export keys; every step is in the audit log
(`access.AuditEvent`).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from unionhall.access.models import Committee

DEFAULT_DAYS = 14   # a download link lives this long unless the requester asks for less
MAX_DAYS = 90


def _mark_seed() -> int:
    return secrets.randbits(62)


class Vendor(models.Model):
    """A mail house, phone or canvass vendor: bound by the membership list security
    policy; its users (role `vendor`) download the exports approved for it and nothing
    else."""

    name = models.CharField(max_length=200, unique=True)
    committee = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="vendors", help_text="Who contracts the vendor (None: any committee)")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="vendors")
    contact_email = models.EmailField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExportRequest(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV (spreadsheets, most vendors)"
        XLSX = "xlsx", "Excel workbook (XLSX)"
        FIXED = "fixed", "Fixed-width text (mail houses), with its layout"
        VAN = "van", "VAN-style tab-delimited person file"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved, being written"
        READY = "ready", "Ready to download"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    saved_list = models.ForeignKey("field.SavedList", on_delete=models.PROTECT, related_name="export_requests")
    list_version = models.PositiveIntegerField()
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="export_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="export_requests")
    fields = models.JSONField(help_text="Person fields, in file order (the export key comes first)")
    format = models.CharField(max_length=5, choices=Format.choices, default=Format.CSV)
    purpose = models.TextField(help_text="What the file is for (the approver reads this)")
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="export_requests")
    expires_on = models.DateField(help_text="The download link stops working after this day")
    people = models.PositiveIntegerField(default=0, help_text="Persons in the list version, when asked")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="export_decisions")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)
    mark_seed = models.BigIntegerField(default=_mark_seed, help_text="Keys the export's ids and variations")
    file_name = models.CharField(max_length=200, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_bytes = models.BigIntegerField(default=0)
    persons = models.PositiveIntegerField(default=0, help_text="Real persons in the file")
    seeds = models.PositiveIntegerField(default=0, help_text="Seed records in the file")
    downloads = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.saved_list_id}"

    @property
    def expired(self) -> bool:
        return timezone.localdate() > self.expires_on

    @property
    def reference(self) -> str:
        """What people call it: on the file name, the audit log and the trace report."""
        return f"EX-{self.pk:05d}"

    @staticmethod
    def default_expiry() -> dt.date:
        return timezone.localdate() + dt.timedelta(days=DEFAULT_DAYS)
