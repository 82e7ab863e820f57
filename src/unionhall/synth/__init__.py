"""Synthetic state generator: a fictional state's voter file, vote history, polling
places, absentee snapshots and affiliate member lists, with the ground truth kept apart.

Public surface::

    from unionhall.synth import SynthParams, MessRates, generate
    summary = generate(SynthParams(voters=3_000, members=600, seed=7), "out/")

See docs/synth.md for the files, the truth schema and every kind of mess.
"""

from unionhall.synth.params import MessRates, SynthParams, mess_rates_from_json
from unionhall.synth.pipeline import GENERATOR_VERSION, SynthSummary, generate

__all__ = [
    "GENERATOR_VERSION",
    "MessRates",
    "SynthParams",
    "SynthSummary",
    "generate",
    "mess_rates_from_json",
]
