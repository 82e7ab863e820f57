"""Committees (two trees), role grants, data agreements, approved users, usage log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Committee(models.Model):
    """A body that holds data access: federation side (national → state federation → CLC)
    or union side (affiliate → local)."""

    class Kind(models.TextChoices):
        NATIONAL = "national", "National"
        STATE_FEDERATION = "state_federation", "State federation"
        CLC = "clc", "Central labor council"
        AFFILIATE = "affiliate", "Affiliate"
        LOCAL = "local", "Local"

    FEDERATION_SIDE = (Kind.NATIONAL, Kind.STATE_FEDERATION, Kind.CLC)
    UNION_SIDE = (Kind.AFFILIATE, Kind.LOCAL)

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    state = models.CharField(max_length=2, blank=True, help_text="State of a state federation or CLC")
    counties = models.JSONField(default=list, blank=True, help_text="Counties of a CLC (names, upper case)")
    source_slug = models.SlugField(
        max_length=200, blank=True, help_text="The member-list source of an affiliate (its import name)"
    )
    local_number = models.CharField(max_length=20, blank=True, help_text="Number of a local")

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def affiliate(self) -> Committee | None:
        """The affiliate a union-side committee belongs to."""
        if self.kind == self.Kind.AFFILIATE:
            return self
        if self.kind == self.Kind.LOCAL and self.parent is not None:
            return self.parent
        return None


class DataAgreement(models.Model):
    """An affiliate shares its members with a federation-side committee (and, if
    `covers_descendants`, with the committees below it), limited to some fields."""

    FIELD_GROUPS = ("name", "address", "phone", "email", "dob")

    affiliate = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="agreements_given")
    grantee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="agreements_received")
    fields = models.JSONField(default=list, help_text="Field groups shared: name, address, phone, email, dob")
    covers_descendants = models.BooleanField(default=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.affiliate} → {self.grantee} ({', '.join(self.fields)})"


class RoleGrant(models.Model):
    """A role a user holds in a committee; a user can hold several."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "Administrator"
        DATA_MANAGER = "data_manager", "Data manager"
        ORGANIZER = "organizer", "Organizer"
        CANVASSER = "canvasser", "Canvasser"
        ANALYST = "analyst", "Analyst"
        VENDOR = "vendor", "Vendor"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "committee", "role"], name="one_grant")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.committee}"


class AgreementText(models.Model):
    """A version of the Affiliate Member Data Agreement users must accept."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"agreement v{self.version}"


class AgreementAcceptance(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acceptances")
    agreement = models.ForeignKey(AgreementText, on_delete=models.CASCADE)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "agreement"], name="accept_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted v{self.agreement.version}"


class ApprovedUser(models.Model):
    """The approved-users record of an account: sponsor, expiry, deactivation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval")
    sponsor = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.SET_NULL)
    expires_on = models.DateField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"approval of {self.user}"


class UsageEvent(models.Model):
    """One entry of the usage log: who did what, when, for which committee, how many persons."""

    class Action(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        SEARCH = "search", "Search"
        PERSON_VIEW = "person_view", "Person view"
        LIST_CREATE = "list_create", "List created"
        EXPORT = "export", "Export"
        API = "api", "API read"
        IDENTITY_REVIEW = "identity_review", "Identity review queue"
        IDENTITY_PAIR_VIEW = "identity_pair_view", "Identity pair view"
        QUARANTINE_VIEW = "quarantine_view", "Quarantine view"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)
    committee = models.ForeignKey(Committee, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    persons = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


class AuditEvent(models.Model):
    """The audit trail of governance changes: who issued, granted or approved what, and
    when. Written by the service that makes the change, in the same transaction."""

    class Action(models.TextChoices):
        TOKEN_ISSUE = "token_issue", "API token issued"
        TOKEN_SHOW = "token_show", "API token shown again"
        EXPORT_REQUEST = "export_request", "Export requested"
        EXPORT_APPROVE = "export_approve", "Export approved"
        EXPORT_REJECT = "export_reject", "Export rejected"
        EXPORT_CANCEL = "export_cancel", "Export request cancelled"
        EXPORT_READY = "export_ready", "Export written"
        EXPORT_FAILED = "export_failed", "Export failed"
        EXPORT_DOWNLOAD = "export_download", "Export downloaded"
        EXPORT_REFUSED = "export_refused", "Export download refused"
        EXPORT_TRACE = "export_trace", "Leaked file traced"
        WAREHOUSE_COPY = "warehouse_copy", "Whole warehouse copied to another engine"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="audit_actions")
    actor_name = models.CharField(max_length=200, help_text="The user, or the command line and account")
    action = models.CharField(max_length=30, choices=Action.choices, db_index=True)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="audit_subject_of", help_text="The user the change is about")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"
