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

from ..atomic import atomic_directory, atomic_files, json_text
from ..errors import InputError
from ..progress import format_seconds, timed
from ..stage_io import Input, Output, OutputDir
from . import figures as fig
from .context import build_context
from .inputs import Inputs, label, load_inputs, order_methods
from .letter_params import ReportParams
from .limits import check_limits, count_letter
from .provenance import Provenance, collect
from .tables import SCHEME_LEGEND, scheme_points

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


# output option -> template; the three documents share the context and the figures
DOCUMENTS = {"out": "letter.html.j2", "supplement": "supplementary.html.j2",
             "cover": "cover_letter.html.j2"}
PDF_VARIANT = "pdf/a-3b"  # archival PDF that may carry the metrics as attachments


def render_html(context: dict[str, Any], template_dir: Path,
                template_name: str = "letter.html.j2") -> str:
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
        template = environment.get_template(template_name)
    except jinja2.TemplateNotFound as error:
        raise InputError(f"{Path(template_dir) / str(error)}: template not found") from error
    return template.render(**context)


def attachments(inputs: Inputs, provenance: Provenance) -> list[tuple[str, bytes, str]]:
    """(name, bytes, description) embedded in every PDF, each once: every input file the
    documents read (metrics, the tables behind the figures and curves, the splits, the
    operating characteristics), the params the results depend on and the provenance, so a
    referee can check every number against its source."""
    attached, seen = [], set()
    for shown, path in inputs.files:
        if shown not in seen:
            seen.add(shown)
            attached.append((shown, path.read_bytes(),
                             "input the printed numbers and figures were read from"))
    attached.append(("params.yaml", f"{provenance.params_yaml}\n".encode(),
                     "the parameters of the run (without compute, which changes no result)"))
    attached.append(("provenance.json", json_text(provenance_record(provenance)).encode(),
                     "commit, working-tree state, input checksums, versions and commands"))
    return attached


def provenance_record(provenance: Provenance) -> dict[str, Any]:
    """The provenance as data (the appendix prints the same)."""
    return {"commit": provenance.commit, "uncommitted_changes": provenance.dirty,
            "sources_sha256": provenance.sources,
            "rendered": provenance.iso_date, "date_source": provenance.date_source,
            "data_source": dict(provenance.data_source), "inputs_sha256": dict(provenance.inputs),
            "python": provenance.python, "versions": dict(provenance.versions),
            "commands": provenance.commands}


def render_pdf(html: str, base_dir: Path) -> Any:
    """Lay out the HTML (WeasyPrint); the rendered document knows its pages."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=f"{Path(base_dir).resolve().as_uri()}/").render()


def write_pdf(rendered: Any, out_pdf: Path, attached: list[tuple[str, bytes, str]],
              moment: Any) -> None:
    """Write a rendered document as PDF/A-3b with its attachments, tagged, to a temporary
    file (``out_pdf`` is an ``atomic_files`` temporary)."""
    import io

    from weasyprint import Attachment

    files = [Attachment(file_obj=io.BytesIO(data), name=name, description=description,
                        created=moment, modified=moment, relationship="Source")
             for name, data, description in attached]
    rendered.write_pdf(out_pdf, pdf_variant=PDF_VARIANT, attachments=files, pdf_tags=True,
                       finisher=attach_once)


def attach_once(_document: Any, pdf: Any) -> None:
    """List each attachment once in the catalogue's /AF array. WeasyPrint 70's PDF/A-3
    step adds every embedded file twice (from the name tree and from the file
    specifications); this runs after it, before the file is written."""
    if "AF" not in pdf.catalog:
        return
    import pydyf

    pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))  # references, in order


MIN_PAGE_FILL = 0.5  # no page but a document's last is left under half full
STRANDABLE_TAGS = frozenset({"h1", "h2", "h3"})  # what must not end up alone on a page
STRANDABLE_CLASSES = frozenset({"signatures", "salutation"})


def page_problems(rendered: Any, document: str) -> list[str]:
    """Pages whose only content is headings or a signature (separated from their text)."""
    problems = []
    for number, page in enumerate(rendered.pages, start=1):
        words, stranded_words, images = _page_content(page._page_box)
        if words and words == stranded_words and not images:
            problems.append(f"{document} page {number} holds only a heading or signature")
    return problems


def pages_under(rendered: Any, share: float) -> list[int]:
    """Page numbers, the last page excepted, whose content ends above ``share`` of the page
    (a page left mostly empty by a forced break or a figure that did not fit)."""
    return [number for number, page in enumerate(rendered.pages[:-1], start=1)
            if page_fill(page._page_box) < share]


def page_fill(page_box: Any) -> float:
    """Share of a laid-out page's content height down to its lowest line or image (margin
    boxes left out): 1.0 for a full page. WeasyPrint has no public API for this either."""
    lowest = top = page_box.content_box_y()
    stack = [child for child in page_box.children if type(child).__name__ != "MarginBox"]
    while stack:
        node = stack.pop()
        if isinstance(getattr(node, "text", None), str) or type(node).__name__ in (
                "InlineReplacedBox", "BlockReplacedBox"):
            lowest = max(lowest, node.position_y + node.margin_height())
        stack.extend(getattr(node, "children", None) or [])
    return (lowest - top) / page_box.height if page_box.height else 1.0


def _page_content(page_box: Any) -> tuple[int, int, int]:
    """Words, words inside headings or signatures, and images in a laid-out page's content
    (margin boxes, i.e. page numbers and the demonstration mark, left out). WeasyPrint has
    no public API for a page's content, so this walks its box tree."""
    words = stranded = images = 0
    stack = [(child, False) for child in page_box.children
             if type(child).__name__ != "MarginBox"]
    while stack:
        node, inside = stack.pop()
        element = getattr(node, "element", None)
        classes = set(((element.get("class") if element is not None else None) or "").split())
        inside = inside or getattr(node, "element_tag", None) in STRANDABLE_TAGS or bool(
            classes & STRANDABLE_CLASSES)
        if type(node).__name__ in ("InlineReplacedBox", "BlockReplacedBox"):
            images += 1
        text = getattr(node, "text", None)
        if isinstance(text, str):
            count = len(text.split())
            words += count
            stranded += count if inside else 0
        stack.extend((child, inside) for child in getattr(node, "children", None) or [])
    return words, stranded, images


def render_documents(
    *, metrics_dir: Path, plots_dir: Path, results_dir: Path, params: dict[str, Any],
    outputs: dict[str, Path], figures_dir: Path, template_dir: Path, commands: list[str],
    splits_path: Path | None = None, operating_path: Path | None = None,
) -> dict[str, Any]:
    """Render the letter, its Supplementary Information and the cover letter (PDF/A-3b with
    the metrics attached) and the letter's counts (``outputs["report"]``), all or nothing.

    The letter's words, display items and references are checked against
    ``letter.limits`` before anything is written; a document with a stranded page (a
    heading or signature alone) is refused too. Returns the counts and page numbers.
    """
    start = time.perf_counter()
    settings = ReportParams.from_params(params)
    limits = settings.letter.limits
    inputs = load_inputs(Path(metrics_dir), Path(plots_dir), Path(results_dir), splits_path,
                         list(settings.curve_methods), operating_path)
    provenance = collect(inputs=inputs.files, params=params, features=inputs.features,
                         commands=commands, data=settings.data)
    # the figures are drawn into a temporary directory that replaces figures_dir only
    # after the documents are written: a refused or failed letter leaves every output as it
    # was, the old figures included
    with atomic_directory(figures_dir) as new_figures:
        with timed("drawing the figures"):
            figures = make_figures(inputs, new_figures)
        context = build_context(inputs, params, figures, provenance, settings)
        html = {option: render_html(context, Path(template_dir), template)
                for option, template in DOCUMENTS.items()}
        counts = count_letter(html["out"])
        check_limits(counts, limits, str(Path(template_dir) / DOCUMENTS["out"]))
        with timed("laying out the letter, supplement and cover letter"):
            # images are data URIs; the base URL is the final directory's, so the bytes
            # do not depend on the temporary's name
            rendered = {option: render_pdf(text, Path(figures_dir))
                        for option, text in html.items()}
        stranded = [problem for option, document in rendered.items()
                    for problem in page_problems(document, Path(outputs[option]).name)]
        if stranded:
            raise InputError(f"{Path(template_dir)}: {'; '.join(stranded)} (a heading, caption "
                             "or signature separated from its text); no document was written")
        pages = {Path(outputs[option]).name: len(document.pages)
                 for option, document in rendered.items()}
        underfilled = {name: pages_under(document, MIN_PAGE_FILL)
                       for name, document in zip(pages, rendered.values(), strict=True)}
        for name, numbers in underfilled.items():
            if numbers:
                log.warning("%s: page(s) %s less than %.0f %% full (not the last page)", name,
                            ", ".join(map(str, numbers)), 100 * MIN_PAGE_FILL)
        report = {"letter": {**counts.as_dict(), "limits": limits}, "pages": pages,
                  "pages_under_half_full": underfilled,
                  "pdf_variant": PDF_VARIANT, "demo": context["demo"] is not None,
                  "provenance": {"commit": provenance.commit,
                                 "uncommitted_changes": provenance.dirty}}
        attached = attachments(inputs, provenance)
        options = list(DOCUMENTS)
        with atomic_files(*(outputs[o] for o in options), outputs["report"]) as temporaries:
            for option, temporary in zip(options, temporaries, strict=False):
                write_pdf(rendered[option], temporary, attached, provenance.run_date)
            temporaries[-1].write_text(json_text(report))
    log.info("letter: %d words, %d display items, %d references; pages %s (%s)",
             counts.words, counts.display_items, counts.references,
             ", ".join(f"{name} {n}" for name, n in pages.items()),
             format_seconds(time.perf_counter() - start))
    return report


def letter_stage(
    params: dict[str, Any], metrics: Input, plots: Input, results: Input, splits: Input,
    operating: Input, templates: Input, figures: OutputDir, out: Output, supplement: Output,
    cover: Output, report: Output,
) -> None:
    """Render the Matters Arising, its Supplementary Information and the cover letter.

    inputs:  metrics (features.json, auc.json, leakage_audit.json, stats.json,
             leakage.json, learning_curve/), plots (roc/, learning_curve/), results
             (per_slip_model/), splits, operating (the verdicts' operating
             characteristics, a committed benchmark result), templates (letter.html.j2,
             supplementary.html.j2, cover_letter.html.j2, base.html.j2, macros.html.j2,
             style.css).
    outputs: out (the letter PDF), supplement and cover (PDFs), report (the letter's word,
             display-item and reference counts, page counts), figures (the PNG figures).
    params:  every section but compute (printed in the provenance appendix and attached);
             letter.* for the signatures, date, limits and wording thresholds. Set
             SOURCE_DATE_EPOCH for reproducible bytes (dvc.yaml uses the last commit's time).
    """
    summary = render_documents(
        metrics_dir=Path(metrics), plots_dir=Path(plots), results_dir=Path(results),
        params=params, figures_dir=Path(figures), template_dir=Path(templates),
        outputs={"out": Path(out), "supplement": Path(supplement), "cover": Path(cover),
                 "report": Path(report)},
        splits_path=Path(splits), operating_path=Path(operating),
        commands=["dvc repro", shlex.join(["replicate", *sys.argv[1:]])],
    )
    log.info("wrote %s, %s and %s%s", out, supplement, cover,
             " (DEMO DATA)" if summary["demo"] else "")
