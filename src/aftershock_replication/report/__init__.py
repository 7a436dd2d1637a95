"""The Matters Arising, its Supplementary Information and the cover letter: metrics files ->
figures, HTML (Jinja2) and PDF/A (WeasyPrint).

One module per job: ``inputs`` reads and checks the files, ``letter_params`` the letter's
settings, ``tables`` formats the statistics tables, the ``*_findings`` modules (leakage,
curves, paper, baselines, health), ``run_description`` and ``sampled_cells`` turn numbers
and the statistics stage's verdicts into words, ``context`` assembles them for the
templates, ``citations`` numbers the references, ``figures`` draws, ``limits`` counts what
the journal limits, ``render`` writes the HTML and the PDFs; ``provenance`` records where it
all came from. Public entry point: :func:`render_documents`.
"""

from .render import render_documents
from .run_description import DEMO_MARK

__all__ = ["DEMO_MARK", "render_documents"]
