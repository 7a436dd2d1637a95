"""The matters-arising letter: metrics files -> figures, HTML (Jinja2) and a PDF (WeasyPrint).

Public entry point: :func:`render_letter`.
"""

from .letter import DEMO_MARK, render_letter

__all__ = ["DEMO_MARK", "render_letter"]
