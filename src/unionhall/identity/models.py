"""App-database side of identity: reviewers' decisions, which are also the audit trail.

Every decision is remembered and applied by every later matching run:

* ``accept`` / ``reject`` a scored pair from the review queue (keys as in
  ``identity_pair``: ``m|<source>|<member_key>`` or ``v|<ncid>``);
* ``split``: take one member record out of its person (it becomes its own person and is
  never linked automatically again);
* ``merge``: move every record of ``other_person_id`` into ``person_id``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Decision(models.Model):
    class Kind(models.TextChoices):
        ACCEPT = "accept", "Accepted match"
        REJECT = "reject", "Rejected match"
        SPLIT = "split", "Split a record out of a person"
        MERGE = "merge", "Merged two persons"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key_l = models.CharField(max_length=400, blank=True)
    key_r = models.CharField(max_length=400, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    other_person_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key_l} {self.key_r} {self.person_id or ''}".strip()
