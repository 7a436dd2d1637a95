"""The paper's claims and its own split: the published values quoted as the authors' and
critics' (``PUBLISHED``, the only literal numbers of the letter), and what this package
finds on that split (train/test gap, the reference metric's composition, intervals that
respect its groups, the per-slip-model permutation tests)."""

from __future__ import annotations

from typing import Any

from ..groups import GROUP_KINDS
from . import formatting as fmt
from .inputs import Inputs, prose
from .method_table import FOCUS
from .operating import bootstrap_coverage

# Published values quoted as the authors' claims (STUDY.md); never results of this package.
PUBLISHED = {
    "paper": "DeVries, Viégas, Wattenberg & Meade (2018), Nature 560, 632\u2013634",
    "paper_short": "DeVries et al. (2018)",
    "network_auc": 0.849,
    "coulomb_auc": 0.583,
    "critique": "Shah & Innig (2019)",
    "critique_network_train_auc": 0.759,
    "critique_samples": 16000,
    "critique_grouped_auc": 0.77,
    # Mignan & Broccardo (2019): logistic regression with two parameters, paper's split
    "one_neuron_auc": 0.85,
    "critique_url": "https://github.com/rajshah4/aftershocks_issues",
}


def claim_findings(inputs: Inputs) -> dict[str, Any]:
    paper = inputs.auc["paper"]
    focus = paper.get(FOCUS) or paper[next(m for m in inputs.methods if paper[m].get("fitted"))]
    test, train = focus["pooled"]["mean"], focus["train_pooled"]["mean"]
    selected = paper.get("coulomb_test_selected", {}).get("pooled", {}).get("mean")
    coulomb = paper.get("coulomb", {}).get("pooled", {}).get("mean")
    return {
        "network_test": fmt.auc(test),
        "network_train": fmt.auc(train),
        "test_above_train": test > train,
        "gap": fmt.diff(test - train),
        "coulomb_selected": fmt.auc(selected),
        "coulomb": fmt.auc(coulomb),
        "has_selected": selected is not None,
        "has_coulomb": coulomb is not None,
    }


def composition_findings(inputs: Inputs, reference: dict[str, Any]) -> dict[str, Any] | None:
    """The reference metric's AUC on the paper's test and training cells: an untrained
    metric cannot overfit, so test above train there is the test set's composition."""
    entry = inputs.auc["paper"].get(reference["method"]) or {}
    test = (entry.get("pooled") or {}).get("mean")
    train = (entry.get("train_pooled") or {}).get("mean")
    if test is None or train is None:
        return None
    return {"prose": prose(reference["method"]), "test": fmt.auc(test), "train": fmt.auc(train),
            "test_above_train": test > train}


def paper_split_findings(inputs: Inputs, reference: dict[str, Any]) -> dict[str, Any]:
    split = inputs.stats["paper_split"]
    boot = split["bootstrap"].get(FOCUS)
    naive = split["delong"].get(FOCUS)
    versus = (split.get("bootstrap_vs_reference") or {}).get(FOCUS)
    found: dict[str, Any] = {"available": boot is not None and naive is not None}
    if boot and naive:
        inflation = (boot["se"] / naive["se"]) if naive.get("se") and boot.get("se") else None
        found |= {
            "auc": fmt.auc(boot.get("estimate")),
            "boot_ci": fmt.interval(boot.get("ci")),
            "boot_se": fmt.fixed(boot.get("se"), 4),
            "replicates": fmt.integer(boot.get("replicates")),
            "naive_se": fmt.fixed(naive.get("se"), 4),
            "inflation": fmt.ratio(inflation),
            "wider": inflation is not None and inflation > 1,
        }
    by_sequence = (split.get("bootstrap_by_sequence") or {}).get(FOCUS)
    if by_sequence:
        unit = str(by_sequence.get("unit") or GROUP_KINDS["sequence"])
        coverage = bootstrap_coverage(inputs, by_sequence.get("clusters"))
        found["by_sequence"] = {**coverage,
                                "ci": fmt.interval(by_sequence.get("ci")),
                                "kind": unit.removesuffix(" (cluster bootstrap)"),
                                "se": fmt.fixed(by_sequence.get("se"), 4),
                                "few": not coverage["inference"],
                                "same": bool(boot) and by_sequence.get("ci") == boot.get("ci")}
    if boot:
        found |= bootstrap_coverage(inputs, boot.get("clusters"))
    if versus:
        low, high = versus.get("ci") or (None, None)
        found["versus"] = {
            **bootstrap_coverage(inputs, versus.get("clusters")),
            "estimate": fmt.diff(versus.get("estimate")),
            "ci": fmt.interval(versus.get("ci")),
            "reference": prose(str(versus.get("reference", reference["method"]))),
            "excludes_zero": low is not None and high is not None and (low > 0 or high < 0),
            "positive": low is not None and low > 0,
        }
    return found


def permutation_findings(inputs: Inputs) -> dict[str, Any]:
    perm = inputs.stats["permutation"]
    significant, total = perm.get("significant"), perm.get("slip_models")
    return {
        "alpha": fmt.fixed(perm.get("alpha"), 2),
        "method": prose(str(perm.get("method", FOCUS))),
        "permutations": fmt.integer(perm.get("permutations")),
        "significant": fmt.integer(significant),
        "total": fmt.integer(total),
        "all": significant is not None and significant == total,
    }
