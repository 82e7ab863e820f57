"""What analysts make, kept in the app database: targeting models (with their cards),
field experiments (their design) and polls (their file and weighting).

The person-level parts live in the warehouse (`analytics.schema`): scores, imputed
values, experiment assignments, poll responses and weights. Each object belongs to a
committee; who may see a person's score or assignment is the gateway's business, as for
every person-level table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from unionhall.access.models import Committee


class ScoreModel(models.Model):
    """A trained targeting model: what it predicts, how well (its card), and the score
    slot its scores fill (a list filter reads the slot, e.g. ``turnout``)."""

    class Kind(models.TextChoices):
        TURNOUT = "turnout", "Turnout (will this person vote?)"
        SUPPORT = "support", "Support (survey answer, e.g. supports the union's candidate)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Training"
        TRAINED = "trained", "Trained, not scoring"
        ACTIVE = "active", "Scoring its slot"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    slot = models.SlugField(max_length=40, help_text="Score slot the list builder filters on (one active model each)")
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="score_models")
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="score_models")
    trained_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    target = models.JSONField(default=dict, help_text="What is predicted: election date, or question=response")
    card = models.JSONField(default=dict, help_text="Model card: data, features, evaluation, limits")
    scored = models.PositiveIntegerField(default=0, help_text="Persons scored into the slot")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-trained_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slot})"


class Experiment(models.Model):
    """A randomized field experiment on a saved list: arms, blocks, clusters, seed
    (`analytics.assign`); its assignment is in the warehouse table ``experiment_unit``."""

    class Status(models.TextChoices):
        DESIGNED = "designed", "Designed (assigned)"
        RUNNING = "running", "In the field"
        ANALYZED = "analyzed", "Analyzed"

    name = models.CharField(max_length=200)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="experiments")
    saved_list = models.ForeignKey("field.SavedList", on_delete=models.PROTECT, related_name="experiments")
    list_version = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="experiments")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DESIGNED)
    design = models.JSONField(default=dict, help_text="arms, shares, block and cluster columns, seed, power")
    results = models.JSONField(default=dict, help_text="The latest analysis (ITT, CACE, standard errors)")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Poll(models.Model):
    """An imported poll: its responses in the warehouse (``poll_response``), its weights
    raked to voter-file or member-file margins (``poll_weight``)."""

    name = models.CharField(max_length=200)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="polls")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="polls")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=300)
    respondents = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, help_text="Questions, weighting margins and its report")

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name
