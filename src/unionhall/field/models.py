"""App-database side of the field program: saved lists and folders, survey questions,
activist codes, result codes, scripts, turf cuts and turfs, contact results as they are
entered, vendor result uploads.

Person-level data stays in the warehouse (`field/schema.py`): a saved list's persons,
turf membership and contact history live there; these rows hold definitions, names,
assignments and counts. Every model that holds field work belongs to a committee: the
people who may see and use it are those with roles in that committee.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from unionhall.access.models import Committee


class Folder(models.Model):
    """A folder of saved lists, per committee."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="list_folders")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["committee", "name"], name="one_folder_name")]

    def __str__(self) -> str:
        return self.name


class SavedList(models.Model):
    """A universe: the definition (filters) that makes it, and the version of the
    snapshot of person ids (warehouse `list_person`) it was last refreshed to."""

    name = models.CharField(max_length=200)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="saved_lists")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="lists")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="saved_lists")
    shared = models.BooleanField(default=True, help_text="Visible to the committee's organizers and data team")
    definition = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    households = models.PositiveIntegerField(default=0)
    doors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-refreshed_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    """A question asked at the door or on the phone, with its responses."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="survey_questions")
    code = models.SlugField(max_length=40, help_text="Short name, e.g. support-prop-1")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["committee", "code"], name="one_question_code")]

    def __str__(self) -> str:
        return self.code


class SurveyResponse(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="responses")
    code = models.CharField(max_length=10, help_text="What is marked on the sheet, e.g. 1 or Y")
    label = models.CharField(max_length=100)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["question", "code"], name="one_response_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ActivistCode(models.Model):
    """A tag for people who did or will do something (signed the petition, will
    volunteer, member of the bargaining committee...)."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="activist_codes")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["committee", "name"], name="one_activist_code")]

    def __str__(self) -> str:
        return self.name


class ResultCode(models.Model):
    """What happened at a door or on a call. Shared by every committee (a data migration
    creates the usual ones), so reports compare across the movement."""

    class Channel(models.TextChoices):
        DOOR = "door", "Doors"
        PHONE = "phone", "Phones"
        BOTH = "both", "Doors and phones"

    code = models.CharField(max_length=4, unique=True, help_text="What is marked on the sheet, e.g. NH")
    label = models.CharField(max_length=60)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.BOTH)
    contact = models.BooleanField(default=False, help_text="A conversation happened")
    final = models.BooleanField(default=False, help_text="Do not try this person again (moved, deceased...)")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Script(models.Model):
    """What the canvasser says and asks: an introduction, questions in order, activist
    codes to mark, a closing."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="scripts")
    name = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    closing = models.TextField(blank=True)
    activist_codes = models.ManyToManyField(ActivistCode, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["committee", "name"], name="one_script_name")]

    def __str__(self) -> str:
        return self.name


class ScriptQuestion(models.Model):
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="script_questions")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.PROTECT)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["script", "question"], name="question_once_per_script")]

    def __str__(self) -> str:
        return f"{self.script} #{self.order}: {self.question}"


class TurfCut(models.Model):
    """One cutting of a saved list (at one version) into turfs."""

    saved_list = models.ForeignKey(SavedList, on_delete=models.CASCADE, related_name="cuts")
    list_version = models.PositiveIntegerField()
    target_doors = models.PositiveIntegerField()
    tolerance = models.FloatField(default=0.15)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)
    doors = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.saved_list} cut {self.pk}"


class Turf(models.Model):
    """One canvasser's packet: doors in walk order (warehouse `turf_person`)."""

    cut = models.ForeignKey(TurfCut, on_delete=models.CASCADE, related_name="turfs")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    doors = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    canvasser = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="turfs")
    script = models.ForeignKey(Script, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["cut", "number"]
        constraints = [models.UniqueConstraint(fields=["cut", "number"], name="one_turf_number")]

    def __str__(self) -> str:
        return self.name

    @property
    def committee(self) -> Committee:
        return self.cut.saved_list.committee


class ContactResult(models.Model):
    """A result as it was entered (canvass page, phone page, keyed-in sheet): the
    outbox of the warehouse's contact history, which `contact_history_sync` fills.
    `client_id` is the idempotency key: a result sent twice is stored once."""

    class Channel(models.TextChoices):
        DOOR = "door", "Door"
        PHONE = "phone", "Phone"

    class Source(models.TextChoices):
        CANVASS = "canvass", "Canvass page"
        PHONE = "phone", "Phone page"
        SHEET = "sheet", "Keyed in from a walk sheet"

    client_id = models.CharField(max_length=64, unique=True)
    person_id = models.BigIntegerField(db_index=True)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    result_code = models.ForeignKey(ResultCode, on_delete=models.PROTECT)
    responses = models.JSONField(default=dict, blank=True, help_text="question code -> response code")
    activist_codes = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)
    canvasser = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    turf = models.ForeignKey(Turf, null=True, blank=True, on_delete=models.SET_NULL)
    saved_list = models.ForeignKey(SavedList, null=True, blank=True, on_delete=models.SET_NULL)
    script = models.ForeignKey(Script, null=True, blank=True, on_delete=models.SET_NULL)
    contacted_at = models.DateTimeField()
    entered_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-contacted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.result_code.code} {self.contacted_at:%Y-%m-%d %H:%M}"


class ContactUpload(models.Model):
    """A vendor's result file: the import history of contact results."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="contact_uploads")
    vendor = models.CharField(max_length=200)
    channel = models.CharField(max_length=5, default="phone")
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    mapping_json = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)
    rows_read = models.PositiveIntegerField(default=0)
    rows_posted = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0, help_text="Including rows already posted before")
    rows_already_posted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.vendor}: {self.file_name}"

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_posted + self.rows_quarantined
