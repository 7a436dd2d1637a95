"""The matters-arising letter: metrics files -> figures, HTML (Jinja2) and a PDF (WeasyPrint).

One module per job: ``inputs`` reads and checks the files, ``findings`` turns numbers and
the statistics stage's verdicts into the template's context, ``figures`` draws,
``render`` writes the HTML and the PDF; ``provenance`` records where it all came from.
Public entry point: :func:`render_letter`.
"""

from .findings import DEMO_MARK
from .render import render_letter

__all__ = ["DEMO_MARK", "render_letter"]
