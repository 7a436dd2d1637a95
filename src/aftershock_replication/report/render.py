"""Rendering: figures, the HTML from the Jinja2 template, and the PDF (WeasyPrint)."""

from __future__ import annotations

import base64
import logging
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_file
from ..errors import InputError
from ..params import LearningCurveParams
from . import figures as fig
from .findings import SCHEME_LEGEND, build_context, scheme_points
from .inputs import Inputs, label, load_inputs, order_methods
from .provenance import collect

log = logging.getLogger(__name__)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _bounds(interval: Any) -> tuple[float, float] | None:
    if interval is None or len(interval) != 2 or not all(_finite(v) for v in interval):
        return None
    return float(interval[0]), float(interval[1])


def make_figures(inputs: Inputs, figures_dir: Path) -> dict[str, dict[str, Any]]:
    """Write every figure into ``figures_dir``; name -> {file, width_in}."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    labels = {m: label(m) for m in inputs.methods}
    fitted = {m: bool(inputs.auc["paper"][m].get("fitted")) for m in inputs.methods}
    styles = fig.method_styles(inputs.methods, fitted)
    points = scheme_points(inputs)
    written: dict[str, dict[str, Any]] = {}

    def done(name: str, width: float) -> None:
        # Embedded as a data URI: WeasyPrint names image objects by a hash of their URL, so
        # a file URL would make the PDF bytes depend on where the figures were written.
        data = base64.b64encode((figures_dir / f"{name}.png").read_bytes()).decode("ascii")
        written[name] = {"file": f"{name}.png", "src": f"data:image/png;base64,{data}",
                         "width_in": f"{width:.2f}"}

    name = "fig1_paper_split_groups"
    done(name, fig.paper_split_groups(inputs.roles, figures_dir / f"{name}.png"))
    name = "fig2_train_vs_test"
    paper = inputs.auc["paper"]
    done(name, fig.train_vs_test(
        {m: paper[m]["train_pooled"]["mean"] for m in inputs.methods
         if paper[m].get("train_pooled", {}).get("mean") is not None},
        {m: paper[m]["pooled"]["mean"] for m in inputs.methods},
        inputs.methods, labels, figures_dir / f"{name}.png"))
    name = "fig3_auc_by_scheme"
    scheme_data = {
        scheme: {m: fig.SchemePoint(tuple(v for v in p["per_seed"] if _finite(v)),
                                    float(p["mean"]), _bounds(p["ci"]))
                 for m, p in by_method.items() if _finite(p["mean"])}
        for scheme, by_method in points.items()}
    done(name, fig.auc_by_scheme(scheme_data, inputs.methods, SCHEME_LEGEND, labels,
                                 figures_dir / f"{name}.png"))
    name = "fig4_roc"
    panels = [("paper paper", "paper's split"), ("grouped 0", "one grouped split (seed 0)")]
    done(name, fig.roc_curves(inputs.roc, panels, labels, styles, figures_dir / f"{name}.png"))
    name = "fig5_per_earthquake_auc"
    done(name, fig.per_event_auc(inputs.per_slip_model, inputs.methods, labels,
                                 figures_dir / f"{name}.png"))
    reference = str(inputs.stats["reference_metric"]["most_common"])
    ref_point = points["grouped"].get(reference)
    name = "fig6_learning_curves"
    if inputs.curves and ref_point is not None and _finite(ref_point["mean"]):
        done(name, fig.learning_curves(
            inputs.curves, labels, styles,
            (label(reference), float(ref_point["mean"]), _bounds(ref_point["ci"])),
            figures_dir / f"{name}.png"))
    name = "figS1_leakage_per_earthquake"
    per_event = leakage_per_event(inputs.leakage)
    if per_event:
        done(name, fig.leakage_per_earthquake(per_event, list(per_event),
                                              {m: label(m) for m in per_event},
                                              figures_dir / f"{name}.png"))
    return written


def leakage_per_event(summary: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per method: every measured partition's per-earthquake leakage effects and whether
    each earthquake was exposed (methods without any measured partition left out)."""
    out = {}
    for method in order_methods(summary["methods"]):
        values, exposed = [], []
        for partitions in summary["methods"][method]["partitions"].values():
            for record in partitions.values():
                if not record.get("measured"):
                    continue
                near = set(record["exposed_events"])
                for event, effect in record["effect"]["per_event"].items():
                    values.append(np.nan if effect is None else float(effect))
                    exposed.append(event in near)
        if values:
            out[method] = (np.asarray(values), np.asarray(exposed, dtype=bool))
    return out


def upfirst(text: str) -> str:
    """Capitalise the first letter only ("the neural network" -> "The neural network")."""
    return text[:1].upper() + text[1:]


def render_html(context: dict[str, Any], template_dir: Path) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # no trim_blocks: the newline after a block tag is the space between two sentences
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["upfirst"] = upfirst
    try:
        template = environment.get_template("letter.html.j2")
    except jinja2.TemplateNotFound as error:
        raise InputError(f"{Path(template_dir) / 'letter.html.j2'}: template not found") from error
    return template.render(**context)


def write_pdf(html: str, out_pdf: Path, base_dir: Path) -> int:
    """HTML -> PDF at ``out_pdf`` (atomically); returns the number of pages."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=f"{Path(base_dir).resolve().as_uri()}/")
    rendered = document.render()
    with atomic_file(out_pdf) as temporary:
        rendered.write_pdf(temporary)
    return len(rendered.pages)


def render_letter(
    *, metrics_dir: Path, plots_dir: Path, results_dir: Path, params: dict[str, Any],
    out_pdf: Path, figures_dir: Path, template_dir: Path, commands: list[str],
    splits_path: Path | None = None, html_out: Path | None = None,
) -> dict[str, Any]:
    """Render the letter PDF (and its figures) from the metrics, plots and results files.

    ``splits_path`` (optional, data/splits.json) names every slip model of the paper's split
    for the group diagram; without it the diagram shows the slip models named in the other
    inputs. ``html_out`` optionally keeps the HTML. Returns pages, figures and seconds.
    """
    start = time.perf_counter()
    curve_methods = LearningCurveParams.from_params(params).methods
    inputs = load_inputs(Path(metrics_dir), Path(plots_dir), Path(results_dir), splits_path,
                         curve_methods)
    provenance = collect(inputs=inputs.files, params=params, features=inputs.features,
                         commands=commands)
    figures = make_figures(inputs, Path(figures_dir))
    context = build_context(inputs, params, figures, provenance)
    html = render_html(context, Path(template_dir))
    if html_out is not None:
        with atomic_file(html_out) as temporary:
            temporary.write_text(html)
    pages = write_pdf(html, Path(out_pdf), Path(figures_dir))
    seconds = time.perf_counter() - start
    log.info("letter: %d pages, %d figures -> %s (%.1f s)", pages, len(figures), out_pdf,
             seconds)
    return {"pdf": str(out_pdf), "pages": pages,
            "figures": sorted(str(Path(figures_dir) / f["file"]) for f in figures.values()),
            "seconds": round(seconds, 2), "demo": context["demo"] is not None}


def letter_stage(
    params: dict[str, Any], metrics: Path, plots: Path, results: Path, splits: Path,
    templates: Path, figures: Path, out: Path,
) -> None:
    """Render the rebuttal letter from the metrics files.

    inputs:  metrics (features.json, auc.json, leakage_audit.json, stats.json,
             leakage.json, learning_curve/), plots (roc/, learning_curve/), results
             (per_slip_model/), splits, templates (letter.html.j2, style.css).
    outputs: out (the PDF), figures (the PNG figures).
    params:  the whole params.yaml (printed in the provenance appendix); letter.* for the
             signatures, date and wording thresholds. Set SOURCE_DATE_EPOCH for
             reproducible bytes (dvc.yaml uses the last commit's time).
    """
    summary = render_letter(
        metrics_dir=Path(metrics), plots_dir=Path(plots), results_dir=Path(results),
        params=params, out_pdf=Path(out), figures_dir=Path(figures),
        template_dir=Path(templates), splits_path=Path(splits),
        commands=["dvc repro", shlex.join(["replicate", *sys.argv[1:]])],
    )
    log.info("wrote %s: %d pages, %d figures%s", out, summary["pages"],
             len(summary["figures"]), " (DEMO DATA)" if summary["demo"] else "")
