"""The letter's figures, drawn with matplotlib's Agg renderer into PNG files.

Deterministic bytes: no pyplot state, a fixed style and DPI, no timestamp or software
string in the PNG metadata, and any jitter drawn from a fixed seed. Each function takes
plain data and writes one file atomically; it returns the figure's width in inches so the
letter can print it at its natural size (figure text then matches the page's 7-8 pt).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, NullFormatter

from ..atomic import atomic_file
from ..names import event_of
from .method_table import METHOD_TABLE

DPI = 200
TEXT_WIDTH_IN = 6.7  # A4 minus the letter's margins, a little to spare

STYLE = {
    # names and labels are data, never TeX: a slip model called "$\\foo$" is drawn as typed
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.1,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.color": "#dddddd",
    "legend.frameon": False,
    "svg.hashsalt": "aftershock-replication",
    "path.simplify": True,
    "savefig.dpi": DPI,
}

SCHEME_COLORS = {"paper": "#3b6ea8", "leaky": "#d9822b", "grouped": "#3a923a"}
ROLE_COLORS = {"train": "#b9c9dc", "test": "#e8873a"}

FALLBACK_COLORS = ("#1f77b4", "#aec7e8", "#98df8a", "#ff9896", "#c5b0d5")


@dataclass(frozen=True)
class MethodStyle:
    """How a method is drawn: untrained metrics dashed, fitted methods solid."""

    color: str
    dashed: bool
    width: float


def method_styles(methods: Sequence[str], fitted: Mapping[str, bool]) -> dict[str, MethodStyle]:
    styles = {}
    spare = iter(FALLBACK_COLORS * 4)
    for method in methods:
        color = METHOD_TABLE[method].colour if method in METHOD_TABLE else next(spare)
        width = 1.6 if method == "neural_network" else 1.0
        styles[method] = MethodStyle(color, not fitted.get(method, False), width)
    return styles


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(figure: Figure, path: Path) -> float:
    """Write ``figure`` as PNG atomically; return its width in inches."""
    with atomic_file(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})
    return float(figure.get_figwidth())


def roc_curves(
    curves: Mapping[str, pd.DataFrame], panels: Sequence[tuple[str, str]],
    labels: Mapping[str, str], styles: Mapping[str, MethodStyle], path: Path,
) -> float:
    """ROC curves of every method, one panel per (split value, panel title)."""
    with mpl.rc_context(STYLE):
        figure = _figure(TEXT_WIDTH_IN, 3.6)
        axes = figure.subplots(1, len(panels), sharey=True)
        axes = np.atleast_1d(axes)
        for ax, (split, title) in zip(axes, panels, strict=True):
            ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.6, ls=":")
            for method, table in curves.items():
                part = table[table["split"] == split].sort_values(["fpr", "tpr"])
                if part.empty:
                    continue
                style = styles[method]
                ax.plot(part["fpr"], part["tpr"], color=style.color, lw=style.width,
                        ls="--" if style.dashed else "-", label=labels[method])
            ax.set_title(title)
            ax.set_xlabel("false positive rate")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
        axes[0].set_ylabel("true positive rate")
        handles, names = axes[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside lower center", ncol=3, handlelength=2.2)
        return save(figure, path)


@dataclass(frozen=True)
class SchemePoint:
    """One method under one scheme: the per-seed AUCs, their mean and an interval."""

    per_seed: tuple[float, ...]
    mean: float
    interval: tuple[float, float] | None


def auc_by_scheme(
    points: Mapping[str, Mapping[str, SchemePoint]], methods: Sequence[str],
    scheme_labels: Mapping[str, str], labels: Mapping[str, str], path: Path,
) -> float:
    """Pooled test AUC per method and scheme: seed dots, mean and 95 % interval."""
    schemes = list(scheme_labels)
    offsets = np.linspace(-0.25, 0.25, len(schemes))
    with mpl.rc_context(STYLE):
        figure = _figure(TEXT_WIDTH_IN, 0.3 * len(methods) + 0.8)
        ax = figure.subplots()
        for row, method in enumerate(methods):
            for offset, scheme in zip(offsets, schemes, strict=True):
                point = points.get(scheme, {}).get(method)
                if point is None:
                    continue
                y = row + offset
                color = SCHEME_COLORS.get(scheme, "#555555")
                if point.interval is not None:
                    ax.plot(point.interval, [y, y], color=color, lw=1.4, solid_capstyle="butt")
                if len(point.per_seed) > 1:
                    ax.scatter(point.per_seed, [y] * len(point.per_seed), s=9,
                               facecolors="white", edgecolors=color, linewidths=0.7, zorder=3)
                ax.scatter([point.mean], [y], s=22, color=color, marker="D", zorder=4,
                           edgecolors="white", linewidths=0.4)
        ax.set_yticks(range(len(methods)), [labels[m] for m in methods])
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.set_xlabel("pooled test AUC")
        ax.grid(axis="y", visible=False)
        handles = [Line2D([], [], color=SCHEME_COLORS.get(s, "#555555"), marker="D", lw=1.4,
                          markersize=4, label=scheme_labels[s]) for s in schemes]
        handles.append(Line2D([], [], color="#555555", marker="o", markerfacecolor="white",
                              lw=0, markersize=3.5, label="one seed"))
        figure.legend(handles=handles, loc="outside upper center", ncol=len(handles))
        return save(figure, path)


def train_vs_test(
    train: Mapping[str, float], test: Mapping[str, float], methods: Sequence[str],
    labels: Mapping[str, str], path: Path,
) -> float:
    """Training-cell AUC against test-cell AUC of each method on the paper's split."""
    shown = [m for m in methods if m in train and m in test]
    with mpl.rc_context(STYLE):
        figure = _figure(4.6, 0.2 * len(shown) + 0.8)
        ax = figure.subplots()
        for row, method in enumerate(shown):
            ax.plot([train[method], test[method]], [row, row], color="#999999", lw=0.8,
                    zorder=1)
            ax.scatter([train[method]], [row], s=22, color=ROLE_COLORS["train"],
                       edgecolors="#4a6a8a", linewidths=0.6, zorder=2)
            ax.scatter([test[method]], [row], s=22, color=ROLE_COLORS["test"],
                       edgecolors="#8a4a1a", linewidths=0.6, zorder=3)
        ax.set_yticks(range(len(shown)), [labels[m] for m in shown])
        ax.set_ylim(len(shown) - 0.5, -0.5)
        ax.set_xlabel("pooled AUC on the paper's split")
        ax.grid(axis="y", visible=False)
        handles = [
            Line2D([], [], marker="o", lw=0, color=ROLE_COLORS["train"],
                   markeredgecolor="#4a6a8a", label="training cells"),
            Line2D([], [], marker="o", lw=0, color=ROLE_COLORS["test"],
                   markeredgecolor="#8a4a1a", label="test cells"),
        ]
        figure.legend(handles=handles, loc="outside upper center", ncol=2)
        return save(figure, path)


def share_label(value: float, _position: int | None = None) -> str:
    """A share of training rows as a plain-text percentage: 0.01 -> "1%", 0.001 -> "0.1%"."""
    return f"{value * 100:g}%"


def learning_curves(
    curves: Mapping[str, pd.DataFrame], labels: Mapping[str, str],
    styles: Mapping[str, MethodStyle], reference: tuple[str, float, tuple[float, float] | None],
    path: Path,
) -> float:
    """Grouped-test AUC against the share of the main evaluation's training rows, one panel
    per method, one line per seed."""
    methods = list(curves)
    reference_label, reference_mean, reference_interval = reference
    with mpl.rc_context(STYLE):
        figure = _figure(TEXT_WIDTH_IN, 2.5)
        axes = np.atleast_1d(figure.subplots(1, max(1, len(methods)), sharey=True))
        for ax, method in zip(axes, methods, strict=False):
            table = curves[method]
            color = styles[method].color
            if reference_interval is not None:
                ax.axhspan(*reference_interval, color="#cccccc", alpha=0.45, lw=0)
            ax.axhline(reference_mean, color="#111111", lw=0.9, ls="--")
            for _, part in table.groupby("seed", sort=True):
                part = part.sort_values("train_share")
                ax.plot(part["train_share"], part["test_auc"], color=color, lw=0.8, alpha=0.75,
                        marker="o", markersize=2.5)
            ax.set_xscale("log")
            # the log axis's default labels are TeX ("$10^{-2}$"), which text.parse_math
            # (off: names are data) would print as typed: plain percentages instead
            ax.xaxis.set_major_formatter(FuncFormatter(share_label))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(labels[method])
            ax.set_xlabel("share of training rows")
        axes[0].set_ylabel("grouped test AUC")
        handles = [Line2D([], [], color="#555555", marker="o", markersize=2.5, lw=0.8,
                          label="one grouped partition (seed)"),
                   Line2D([], [], color="#111111", ls="--", lw=0.9,
                          label=f"{reference_label}, mean over seeds (band: 95% interval)")]
        figure.legend(handles=handles, loc="outside upper center", ncol=2)
        return save(figure, path)


def box_and_dots(ax: Any, values: np.ndarray, y: float, color: str,
                 rng: np.random.Generator) -> None:
    """A horizontal box (quartiles, 5th-95th percentile whiskers) at height ``y`` with the
    values as jittered dots over it."""
    ax.boxplot([values], positions=[y], orientation="horizontal", widths=0.26,
               showfliers=False, whis=(5, 95), patch_artist=True,
               boxprops={"facecolor": "white", "edgecolor": color, "lw": 0.7},
               medianprops={"color": color, "lw": 1.2},
               whiskerprops={"color": color, "lw": 0.7},
               capprops={"color": color, "lw": 0.7})
    jitter = rng.uniform(-0.09, 0.09, size=len(values))
    ax.scatter(values, y + jitter, s=4, color=color, alpha=0.55, lw=0, zorder=3)


def per_event_auc(
    tables: Mapping[str, pd.DataFrame], methods: Sequence[str], labels: Mapping[str, str],
    path: Path,
) -> float:
    """Distribution of per-earthquake AUCs (over the earthquake's pooled test cells, as the
    event-weighted AUC averages them).

    ``tables`` hold per-slip-model rows (slip_model, event, event_auc, scheme, partition);
    one dot per earthquake and partition, for the paper's split and the grouped partitions.
    """
    schemes = [("paper", "paper split"), ("grouped", "grouped partitions (all seeds)")]
    rng = np.random.default_rng(20180830)
    offsets = (-0.18, 0.18)
    with mpl.rc_context(STYLE):
        figure = _figure(TEXT_WIDTH_IN, 0.32 * len(methods) + 0.8)
        ax = figure.subplots()
        for row, method in enumerate(methods):
            table = tables[method]
            for offset, (scheme, _) in zip(offsets, schemes, strict=True):
                part = table[(table["scheme"] == scheme) & table["event_auc"].notna()]
                if part.empty:
                    continue
                events = part.groupby(["partition", "event"], sort=True)["event_auc"].first()
                box_and_dots(ax, events.to_numpy(dtype=float), row + offset,
                             SCHEME_COLORS[scheme], rng)
        ax.axvline(0.5, color="#bbbbbb", lw=0.6, ls=":")
        ax.set_yticks(range(len(methods)), [labels[m] for m in methods])
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.set_xlabel("test AUC of one earthquake (its slip models' test cells pooled)")
        ax.grid(axis="y", visible=False)
        handles = [Patch(facecolor="white", edgecolor=SCHEME_COLORS[s], label=name)
                   for s, name in schemes]
        figure.legend(handles=handles, loc="outside upper center", ncol=2)
        return save(figure, path)


EXPOSURE_COLORS = {True: "#c0392b", False: "#7f8c8d"}


def leakage_per_earthquake(
    effects: Mapping[str, tuple[np.ndarray, np.ndarray]], methods: Sequence[str],
    labels: Mapping[str, str], path: Path,
) -> float:
    """Matched leakage effect per test earthquake: AUC(size control) - AUC(purged) of one
    earthquake's test cells, one dot per earthquake and partition, exposed (a neighbour in
    training) above unexposed. ``effects[method]`` = (effects, exposed flags)."""
    rng = np.random.default_rng(20180830)
    offsets = {True: -0.18, False: 0.18}
    with mpl.rc_context(STYLE):
        figure = _figure(TEXT_WIDTH_IN, 0.42 * len(methods) + 0.8)
        ax = figure.subplots()
        for row, method in enumerate(methods):
            values, exposed = effects[method]
            for flag, offset in offsets.items():
                part = values[(exposed == flag) & np.isfinite(values)]
                if part.size == 0:
                    continue
                box_and_dots(ax, part, row + offset, EXPOSURE_COLORS[flag], rng)
        ax.axvline(0.0, color="#999999", lw=0.6, ls=":")
        ax.set_yticks(range(len(methods)), [labels[m] for m in methods])
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.set_xlabel("AUC with neighbours in training minus AUC without "
                      "(size control minus purged), one test earthquake")
        ax.grid(axis="y", visible=False)
        handles = [Patch(facecolor="white", edgecolor=EXPOSURE_COLORS[flag], label=name)
                   for flag, name in ((True, "exposed: its group has training slip models"),
                                      (False, "unexposed"))]
        figure.legend(handles=handles, loc="outside upper center", ncol=2)
        return save(figure, path)


def paper_split_groups(roles: pd.DataFrame, path: Path) -> float:
    """Map-free diagram of the paper's split: one strip per region-year sequence, one square
    per slip model (grouped by earthquake), coloured by side; straddling groups framed.

    ``roles`` has columns slip_model, event, sequence, role ("train" or "test").
    """
    square, inner_gap, event_gap, row_height = 0.085, 0.018, 0.06, 0.125
    label_width, column_gap = 0.78, 0.22
    sequences = []
    for name, part in roles.sort_values("slip_model").groupby("sequence", sort=True):
        events = [list(zip(p["slip_model"], p["role"], strict=True))
                  for _, p in part.groupby("event", sort=True)]
        width = sum(len(e) * (square + inner_gap) - inner_gap for e in events)
        width += event_gap * (len(events) - 1)
        sides = set(part["role"])
        straddling_events = {e for e, p in part.groupby("event") if p["role"].nunique() > 1}
        sequences.append((name, events, width, len(sides) > 1, straddling_events))
    strip = max((s[2] for s in sequences), default=square)
    column_width = label_width + strip + column_gap
    columns = max(1, min(4, int(TEXT_WIDTH_IN // column_width)))
    rows = max(1, math.ceil(len(sequences) / columns))
    # balance the columns: no more columns than needed for that many rows
    columns = max(1, math.ceil(len(sequences) / rows))
    width = min(TEXT_WIDTH_IN, max(3.0, columns * column_width))
    legend_height = 0.42
    height = legend_height + rows * row_height + 0.08
    with mpl.rc_context(STYLE):
        figure = Figure(figsize=(width, height), dpi=DPI)
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        for index, (name, events, strip_width, straddles, split_events) in enumerate(sequences):
            column, row = divmod(index, rows)
            x0 = column * column_width
            y = legend_height + row * row_height
            ax.text(x0 + label_width - 0.05, y + square / 2, name, ha="right", va="center",
                    family="DejaVu Sans Mono", fontsize=5.6,
                    color="#b00020" if straddles else "#333333",
                    fontweight="bold" if straddles else "normal")
            x = x0 + label_width
            for event in events:
                event_x = x
                for _, role in event:
                    ax.add_patch(Rectangle((x, y), square, square, facecolor=ROLE_COLORS[role],
                                           edgecolor="none"))
                    x += square + inner_gap
                event_width = x - inner_gap - event_x
                if event_of(event[0][0]) in split_events:
                    ax.add_patch(Rectangle((event_x - 0.01, y - 0.01), event_width + 0.02,
                                           square + 0.02, fill=False, edgecolor="#111111",
                                           lw=1.0))
                x += event_gap - inner_gap
            if straddles:
                ax.add_patch(Rectangle((x0 + label_width - 0.025, y - 0.022),
                                       strip_width + 0.05, square + 0.044, fill=False,
                                       edgecolor="#b00020", lw=0.9))
        handles = [
            Patch(facecolor=ROLE_COLORS["train"], label="slip model in training"),
            Patch(facecolor=ROLE_COLORS["test"], label="slip model in test"),
            Patch(facecolor="white", edgecolor="#b00020", label="sequence on both sides"),
            Patch(facecolor="white", edgecolor="#111111", label="earthquake on both sides"),
        ]
        ax.legend(handles=handles, loc="upper center", ncol=4, fontsize=6.5,
                  bbox_to_anchor=(0.5, 1.0), handlelength=1.2, borderaxespad=0.2)
        return save(figure, path)
