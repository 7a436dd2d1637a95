"""The sections of params.yaml the letter stage reads, each checked once: ``letter`` (who
signs and when, the journal, the contact paragraph, the plateau tolerance of the learning
curves and the journal's limits), with ``data``, ``split`` and the learning-curve methods,
which the documents describe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..methods.params import LearningCurveParams
from ..params import DataParams, SplitParams, as_float, as_int, require, section
from .limits import LIMIT_NAMES

LETTER_KEYS = {"authors", "date", "plateau_tolerance", "journal", "author_contact", "limits"}
AUTHORS_SHAPE = ("a list of {name, affiliation}, e.g. [{name: Jane Doe, affiliation: "
                 "Elsewhere University}]")
DEFAULT_JOURNAL = "Nature"


@dataclass(frozen=True)
class Author:
    name: str
    affiliation: str


@dataclass(frozen=True)
class LetterParams:
    """``letter.*``: ``authors`` empty means unsigned (the letter says "The authors");
    ``date`` None means the render date."""

    authors: tuple[Author, ...]
    date: str | None
    plateau_tolerance: float
    journal: str
    author_contact: str
    limits: dict[str, int]

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LetterParams:
        letter = section(params, "letter", LETTER_KEYS)
        return cls(
            authors=parse_authors(letter.get("authors")),
            date=str(letter["date"]) if letter.get("date") else None,
            plateau_tolerance=as_float(require(letter, "letter", "plateau_tolerance"),
                                       "letter.plateau_tolerance", 0.0, 1.0, low_open=True),
            journal=str(letter.get("journal") or DEFAULT_JOURNAL),
            author_contact=str(letter.get("author_contact") or ""),
            limits=parse_limits(letter),
        )


@dataclass(frozen=True)
class ReportParams:
    """Every section the documents read, parsed and checked once by the letter stage."""

    letter: LetterParams
    data: DataParams
    split: SplitParams
    curve_methods: tuple[str, ...]

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ReportParams:
        return cls(letter=LetterParams.from_params(params),
                   data=DataParams.from_params(params), split=SplitParams.from_params(params),
                   curve_methods=tuple(LearningCurveParams.from_params(params).methods))


def parse_authors(listed: Any) -> tuple[Author, ...]:
    """``letter.authors`` as a list of {name, affiliation} (a bare string would be signed
    letter by letter); None or an empty list: unsigned."""
    listed = listed or []
    if not isinstance(listed, list):
        raise InputError(f"params: 'letter.authors' must be {AUTHORS_SHAPE}, got {listed!r}")
    authors = []
    for author in listed:
        if not (isinstance(author, dict) and isinstance(author.get("name"), str)
                and author["name"].strip()):
            raise InputError(f"params: each entry of 'letter.authors' must be "
                             f"{{name, affiliation}} with a name ({AUTHORS_SHAPE}), got "
                             f"{author!r}")
        authors.append(Author(author["name"], str(author.get("affiliation") or "")))
    return tuple(authors)


def parse_limits(letter: dict[str, Any]) -> dict[str, int]:
    """``letter.limits`` (``letter`` is the params' letter section) as positive integers,
    naming the param that is missing, unknown or not one."""
    limits = section(letter, "limits", set(LIMIT_NAMES), dotted="letter.limits")
    return {key: as_int(require(limits, "letter.limits", key), f"letter.limits.{key}", 1)
            for key in LIMIT_NAMES}
