"""The templates' context: every finding, formatted number and decision the wording of the
letter, supplement and cover letter follows, assembled in one dictionary.

Verdicts (significantly higher or lower, equivalent within the smallest effect of interest,
undecided) are decided by the statistics stage (``metrics/stats.json``); the findings
modules only look them up and put them into words.
"""

from __future__ import annotations

from typing import Any

from ..names import VERDICTS
from . import formatting as fmt
from .baseline_findings import control_findings, reference_findings, untrained_vs_coulomb
from .citations import REFERENCES, Citations
from .curve_findings import curve_findings
from .health_findings import health_findings
from .inputs import Inputs, dig, prose
from .leakage_findings import audit_findings, decomposition_findings, matched_leakage_findings
from .letter_params import LetterParams, ReportParams
from .method_table import FOCUS
from .operating import operating_findings
from .paper_findings import (
    PUBLISHED,
    claim_findings,
    composition_findings,
    paper_split_findings,
    permutation_findings,
)
from .provenance import Provenance
from .run_description import (
    DEMO_MARK,
    data_findings,
    demo_description,
    method_settings_rows,
    split_settings,
)
from .sampled_cells import curve_cells
from .tables import (
    SCHEME_LABELS,
    auc_table,
    main_table,
    scheme_points,
    significance_table,
    variants_table,
)


def signatures(letter: LetterParams, date_text: str) -> dict[str, Any]:
    """The letter's signatures and date (the render date unless ``letter.date`` is set)."""
    authors = [{"name": a.name, "affiliation": a.affiliation} for a in letter.authors]
    return {
        "authors": authors or [{"name": "The authors", "affiliation": ""}],
        "placeholder": not authors,
        "date": letter.date or date_text,
    }


def network_findings(baseline: dict[str, Any], matched: dict[str, Any],
                     curves: list[dict[str, Any]]) -> dict[str, Any]:
    """The network's own rows (None where it was not evaluated): the letter leads with it
    and never lets another method's result speak for it."""
    return {"baseline": baseline["by_method"].get(FOCUS),
            "leakage": next((r for r in matched["rows"] if r["method"] == FOCUS), None),
            "curve": next((c for c in curves if c["method"] == FOCUS), None)}


def build_context(
    inputs: Inputs, params: dict[str, Any], figures: dict[str, dict[str, Any]],
    provenance: Provenance, settings: ReportParams | None = None,
) -> dict[str, Any]:
    """All the template needs: formatted numbers and the decisions the wording follows
    (``settings``: the sections of ``params`` the documents read, parsed here when not
    given)."""
    alpha = dig(inputs.stats, ["alpha"], "metrics/stats.json")
    settings = settings or ReportParams.from_params(params)
    letter, data = settings.letter, settings.data
    tolerance = letter.plateau_tolerance
    points = scheme_points(inputs)
    reference = reference_findings(inputs)
    grouped_reference = points["grouped"].get(reference["method"])
    reference["grouped_mean"] = grouped_reference["mean"] if grouped_reference else None
    reference["grouped_auc"] = fmt.auc(reference["grouped_mean"])
    paper_reference = points["paper"].get(reference["method"])
    reference["paper_auc"] = fmt.auc(paper_reference["mean"] if paper_reference else None)
    baseline = significance_table(inputs.stats["tables"]["vs_best_stress_metric"],
                                  "metrics/stats.json")
    fitted = {m for m in inputs.methods if inputs.auc["paper"][m].get("fitted")}
    for verdict_name in VERDICTS:
        baseline[f"fitted_{verdict_name}"] = [prose(m) for m in baseline[verdict_name]
                                              if m in fitted]
    drop = significance_table(inputs.stats["tables"]["leaky_minus_grouped"],
                              "metrics/stats.json")
    vs_coulomb = untrained_vs_coulomb(inputs)
    drop_rows = {"by_method": dict(drop["by_method"])}
    drop["untrained_higher"] = [prose(m) for m in drop["higher"] if m not in fitted]
    for verdict_name in VERDICTS:
        drop[verdict_name] = [prose(m) for m in drop[verdict_name]]
    curves = curve_findings(inputs, tolerance, reference)
    signed = signatures(letter, fmt.long_date(provenance.run_date))
    seeds = max((len(p["per_seed"]) for p in points["grouped"].values()), default=0)
    auc_rows = auc_table(inputs, points)
    matched = matched_leakage_findings(inputs)
    return {
        "title": "Deep learning of aftershock patterns: leakage, learning curves and baselines",
        "mark": DEMO_MARK,
        "demo": demo_description(inputs.features),
        "published": {**PUBLISHED,
                      "network_auc": fmt.auc(PUBLISHED["network_auc"]),
                      "coulomb_auc": fmt.auc(PUBLISHED["coulomb_auc"]),
                      "critique_network_train_auc": fmt.auc(
                          PUBLISHED["critique_network_train_auc"]),
                      "critique_samples": fmt.integer(PUBLISHED["critique_samples"]),
                      "critique_grouped_auc": fmt.fixed(PUBLISHED["critique_grouped_auc"], 2)},
        "alpha": fmt.fixed(alpha, 2),
        "margin": fmt.fixed(dig(inputs.stats, ["smallest_effect"], "metrics/stats.json")),
        "tolerance": fmt.fixed(tolerance, 3),
        "seeds": seeds,
        "schemes": SCHEME_LABELS,
        "data": data_findings(inputs.features, data.source),
        "claim": claim_findings(inputs),
        "audit": audit_findings(inputs),
        "auc_rows": auc_rows,
        "main_rows": main_table(inputs, auc_rows, baseline, matched, reference),
        "composition": composition_findings(inputs, reference),
        "split": split_settings(settings.split),
        "method_settings": method_settings_rows(params, inputs.methods),
        # the cover letter's journal and the paragraph on contact with the original authors
        "cover": {"journal": letter.journal, "author_contact": letter.author_contact},
        "drive_folder": data.drive_folder,
        "cite": Citations(REFERENCES),
        "controls": control_findings(inputs),
        "network": network_findings(baseline, matched, curves),
        "health": health_findings(inputs),
        "operating": operating_findings(inputs),
        "drop_rows": drop_rows,
        "variant_rows": variants_table(inputs),
        "has_test_selected": "coulomb_test_selected" in inputs.methods,
        "reference": reference,
        "drop": drop,
        "vs_coulomb": vs_coulomb,
        "decomposition": decomposition_findings(inputs),
        "matched": matched,
        "curves": curves,
        "curve_cells": curve_cells(inputs),
        # tested: every curve is equivalent to its full fit from a tenth of the rows or less
        "curves_small": bool(curves) and all(
            c["equivalent_from_value"] is not None and c["equivalent_from_value"] <= 0.1
            for c in curves),
        "capped_curves": [c["prose"] for c in curves if c["capped"]],
        "curves_any_beats_reference": any(c["beats_reference"] for c in curves),
        "baseline": baseline,
        "paper_split": paper_split_findings(inputs, reference),
        "permutation": permutation_findings(inputs),
        "figures": figures,
        "roles_complete": inputs.roles_complete,
        "signatures": signed,
        "provenance": provenance,
        "iso_date": provenance.iso_date,
    }
