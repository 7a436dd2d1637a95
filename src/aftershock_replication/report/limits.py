"""The journal's limits on a rendered letter: words of the main text, display items, references.

The counts are read from the letter's HTML, where the template marks what each limit covers:
``class="counted"`` on the sections whose words count (summary paragraph and body; text in
figures, tables and superscript citations inside them is not counted), ``class="display-item"``
on each figure or table of the letter, and the ``<li>`` items of ``section.references``. The
standard library's HTML parser suffices: the markup is our own template's, and no library
counts words by a journal's rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from ..errors import InputError

VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                           "meta", "source", "track", "wbr"})
NOT_COUNTED = frozenset({"figure", "table", "sup", "style", "script", "title"})
WORD = re.compile(r"\S*\w\S*")  # a run without spaces holding a letter or digit
LIMIT_NAMES = {"words": "words of main text", "display_items": "display items",
               "references": "references"}


@dataclass(frozen=True)
class LetterCounts:
    """What the limits are checked against."""

    words: int
    display_items: int
    references: int

    def as_dict(self) -> dict[str, int]:
        return {"words": self.words, "display_items": self.display_items,
                "references": self.references}


class _Counter(HTMLParser):
    """One pass over the HTML, keeping the open elements' tags and classes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.words = self.display_items = self.references = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if "display-item" in classes:
            self.display_items += 1
        if tag == "li" and any(t == "section" and "references" in c for t, c in self.stack):
            self.references += 1
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed inner tags
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        counted = any("counted" in classes for _, classes in self.stack)
        if counted and not any(tag in NOT_COUNTED for tag, _ in self.stack):
            self.words += len(WORD.findall(data))


def count_letter(html: str) -> LetterCounts:
    """Words of the counted sections, display items and references of a rendered letter."""
    counter = _Counter()
    counter.feed(html)
    counter.close()
    return LetterCounts(counter.words, counter.display_items, counter.references)


def check_limits(counts: LetterCounts, limits: dict[str, int], where: str) -> None:
    """Raise InputError naming every limit the letter exceeds (its count and the limit)."""
    exceeded = [f"{counts.as_dict()[key]} {LIMIT_NAMES[key]}, limit {limits[key]} "
                f"(letter.limits.{key})"
                for key in LIMIT_NAMES if counts.as_dict()[key] > limits[key]]
    if exceeded:
        raise InputError(f"{where}: the letter exceeds the journal's limits: "
                         f"{'; '.join(exceeded)}. Shorten the template or raise the limit in "
                         f"params.yaml; no document was written.")
