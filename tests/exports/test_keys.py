"""Export keys: distinct within an export, different between exports, never a seed's
key equal to a person's (a bug once made every seed share a key with a real person
in exports of more than ~65,000 persons)."""

from __future__ import annotations

import re

import numpy as np

from unionhall.exports.seeds import seed_keys
from unionhall.exports.watermark import KEY_PATTERN, export_keys


def test_seed_keys_are_never_person_keys_of_the_same_export() -> None:
    ids = np.arange(0, 300_000, dtype=np.int64)
    for mark_seed in (1, 0x5EED, 2**40 + 12345, 2**62 - 1):
        persons = set(export_keys(ids, mark_seed).tolist())
        seeds = seed_keys(160, mark_seed)
        assert len(persons) == len(ids)
        assert len(set(seeds)) == 160
        assert not persons & set(seeds), f"seed keys collide with person keys for seed {mark_seed}"


def test_keys_look_alike_and_differ_between_exports() -> None:
    ids = np.arange(1, 1001, dtype=np.int64)
    a, b = export_keys(ids, 11), export_keys(ids, 12)
    assert all(re.fullmatch(KEY_PATTERN, k) for k in [*a, *b, *seed_keys(5, 11)])
    assert (a == export_keys(ids, 11)).all()  # the same export draws the same keys again
    assert (a != b).mean() > 0.999
