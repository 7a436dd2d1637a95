"""The documents' references and their numbering in the order a template cites them."""

from __future__ import annotations

from ..errors import InputError

# The letter's numbered references, in the order the letter first cites them; the
# template cites them by key (``refs.<key>``), so the numbers follow this order.
REFERENCES: tuple[tuple[str, str], ...] = (
    ("devries", "DeVries, P. M. R., Viégas, F., Wattenberg, M. & Meade, B. J. Deep learning of "
                "aftershock patterns following large earthquakes. <i>Nature</i> <b>560</b>, "
                "632\u2013634 (2018)."),
    ("shah", "Shah, R. & Innig, L. Correspondence to <i>Nature</i> on ref. 1 (2019; declined "
             "by the journal, made public by its authors with their notebooks at "
             "https://github.com/rajshah4/aftershocks_issues)."),
    ("kaufman", "Kaufman, S., Rosset, S., Perlich, C. & Stitelman, O. Leakage in data mining: "
                "formulation, detection, and avoidance. <i>ACM Trans. Knowl. Discov. Data</i> "
                "<b>6</b>, 15 (2012)."),
    ("roberts", "Roberts, D. R. et al. Cross-validation strategies for data with temporal, "
                "spatial, hierarchical, or phylogenetic structure. <i>Ecography</i> <b>40</b>, "
                "913\u2013929 (2017)."),
    ("prado", "López de Prado, M. <i>Advances in Financial Machine Learning</i> (Wiley, 2018)."),
    ("nadeau", "Nadeau, C. & Bengio, Y. Inference for the generalization error. <i>Mach. "
               "Learn.</i> <b>52</b>, 239\u2013281 (2003)."),
    ("holm", "Holm, S. A simple sequentially rejective multiple test procedure. <i>Scand. J. "
             "Stat.</i> <b>6</b>, 65\u201370 (1979)."),
    ("strassburger", "Strassburger, K. & Bretz, F. Compatible simultaneous lower confidence "
                     "bounds for the Holm procedure and other Bonferroni-based closed tests. "
                     "<i>Stat. Med.</i> <b>27</b>, 4914\u20134927 (2008)."),
    ("mignan", "Mignan, A. & Broccardo, M. One neuron versus deep learning in aftershock "
               "prediction. <i>Nature</i> <b>574</b>, E1\u2013E3 (2019)."),
    ("reply", "Meade, B. J. Reply to: One neuron versus deep learning in aftershock "
              "prediction. <i>Nature</i> <b>574</b>, E4\u2013E5 (2019)."),
    ("meade", "Meade, B. J., DeVries, P. M. R., Faller, J., Viégas, F. & Wattenberg, M. What is "
              "better than Coulomb failure stress? A ranking of scalar static stress triggering "
              "mechanisms from 10<sup>5</sup> mainshock-aftershock pairs. <i>Geophys. Res. "
              "Lett.</i> <b>44</b>, 11409\u201311416 (2017)."),
    ("breiman", "Breiman, L. Random forests. <i>Mach. Learn.</i> <b>45</b>, 5\u201332 (2001)."),
    ("field", "Field, C. A. & Welsh, A. H. Bootstrapping clustered data. <i>J. R. Stat. Soc. "
              "B</i> <b>69</b>, 369\u2013390 (2007)."),
    ("delong", "DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. Comparing the areas under "
               "two or more correlated receiver operating characteristic curves: a "
               "nonparametric approach. <i>Biometrics</i> <b>44</b>, 837\u2013845 (1988)."),
    ("sun", "Sun, X. & Xu, W. Fast implementation of DeLong\u2019s algorithm for comparing "
            "the areas under correlated receiver operating characteristic curves. <i>IEEE "
            "Signal Process. Lett.</i> <b>21</b>, 1389\u20131393 (2014)."),
    ("srcmod", "Mai, P. M. & Thingbaijam, K. K. S. SRCMOD: an online database of finite-fault "
               "rupture models. <i>Seismol. Res. Lett.</i> <b>85</b>, 1348\u20131357 (2014)."),
)


class Citations:
    """Numbers references in the order a template first cites them (``cite("key")``), so
    the list holds exactly the cited ones, numbered as cited."""

    def __init__(self, references: tuple[tuple[str, str], ...]) -> None:
        self.texts = dict(references)
        self.order: list[str] = []

    def __call__(self, key: str) -> int:
        if key not in self.texts:
            raise InputError(f"template cites an unknown reference '{key}'; known: "
                             f"{', '.join(self.texts)}")
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def listed(self) -> list[str]:
        """The cited references' texts, in citation order."""
        return [self.texts[key] for key in self.order]
