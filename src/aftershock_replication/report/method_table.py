"""How each method is shown in the letter: its label, its name in running text, its colour,
and which method the letter leads with (``FOCUS``).

Presentation only, so it lives with the report rather than in the method registry
(``methods/__init__.py``): changing a label or a colour reruns only the ``letter`` stage.
Keyed by the registry's method names, in the registry's order; a test keeps the keys equal
to ``methods.ALL_METHODS``, so no method is registered without its presentation or shown
without being registered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Presentation:
    """How one method is shown."""

    label: str  # in tables and legends
    prose: str  # in running text
    colour: str  # in figures


METHOD_TABLE: dict[str, Presentation] = {
    "coulomb": Presentation("Coulomb stress change", "the Coulomb stress change", "#8c564b"),
    "coulomb_test_selected": Presentation(
        "Coulomb, sign picked on test labels†",
        "the Coulomb stress change with its sign picked on the test labels", "#c49c94"),
    "max_shear": Presentation("Maximum shear stress", "the maximum shear stress", "#7f7f7f"),
    "von_mises": Presentation("von Mises criterion", "the von Mises criterion", "#111111"),
    "sum_abs": Presentation("Sum of |σᵢⱼ|", "the sum of |σᵢⱼ|", "#a6a61a"),
    "one_neuron": Presentation("One neuron (logistic, 1 scalar)", "the one-neuron model",
                               "#17becf"),
    "logistic": Presentation("Logistic regression", "logistic regression", "#9467bd"),
    "random_forest": Presentation("Random forest", "the random forest", "#2ca02c"),
    "svm": Presentation("Support vector machine", "the support vector machine", "#ff7f0e"),
    "gam": Presentation("Generalised additive model", "the generalised additive model",
                        "#e377c2"),
    "neural_network": Presentation("Neural network", "the neural network", "#d62728"),
}

# the method the letter leads with (the paper's network): its rows come first, and no other
# method's result speaks for it
FOCUS = "neural_network"
