"""One line per metric for the report's table: what a high number means, and the paper.

The registry (:data:`pydisent.metrics.METRICS`) stays the one list of names; this table only adds the
reader-facing sentence and the citation. A metric missing here is shown with its registry summary.
"""

from __future__ import annotations

INFO: dict[str, tuple[str, str]] = {
    "beta_vae": ("accuracy of a linear classifier predicting which factor a pair of batches shares, from the "
                 "mean absolute code differences", "Higgins et al., ICLR 2017"),
    "factor_vae": ("accuracy of a majority-vote classifier predicting the fixed factor from the code dimension "
                   "of least normalised variance", "Kim & Mnih, ICML 2018"),
    "mig": ("mutual information gap: for each factor, the gap between the two most informative code dimensions, "
            "normalised by the factor entropy", "Chen et al., NeurIPS 2018"),
    "dci": ("disentanglement / completeness of the feature importances of per-factor gradient-boosted trees, and "
            "their accuracy (informativeness)", "Eastwood & Williams, ICLR 2018"),
    "modularity_explicitness": ("modularity: each code dimension informs about one factor; explicitness: factors "
                                "are linearly decodable", "Ridgeway & Mozer, NeurIPS 2018"),
    "sap": ("separated attribute predictability: gap between the two code dimensions that best predict each "
            "factor with a 1-D linear classifier", "Kumar et al., ICLR 2018"),
    "irs": ("interventional robustness: how little the code of a factor moves when the other factors change",
            "Suter et al., ICML 2019"),
    "unsupervised": ("total correlation and mutual information of the code dimensions, from a Gaussian fit and "
                     "histograms (lower = more independent)", "Locatello et al., ICML 2019"),
    "downstream": ("accuracy of predicting the factors from few labelled codes (sample efficiency)",
                   "Locatello et al., ICML 2019"),
    "sparsity": ("normalised Hoyer sparsity of the standardised posterior means", "Mathieu et al., ICML 2019"),
    "prior_divergence": ("divergence of the aggregate posterior from the prior (KL on minibatches, per-dimension "
                         "MMD)", "Mathieu et al., ICML 2019"),
    "flatness": ("factor traversals lie on straight lines in the code (width over length; 1 = straight)",
                 "Michlo, James & Klein, arXiv 2202.13341 (msc-research)"),
    "distances": ("rank/linear correlation of ground-truth distances with latent and data distances; the paper's "
                  "ground-truth correlation", "Michlo, James & Klein, arXiv 2202.13341 (msc-research)"),
    "linearity": ("variance of a factor traversal concentrated on one principal direction (linear ratio) and on "
                  "one code axis (axis ratio)", "Michlo, James & Klein, arXiv 2202.13341 (msc-research)"),
    "factored_components": ("distances and linearity on the same traversals",
                            "Michlo, James & Klein, arXiv 2202.13341 (msc-research)"),
    "topological_disentanglement": ("conditional submanifolds of the generator grouped by the Wasserstein "
                                    "distance of their relative-living-time histograms (higher = the latent "
                                    "dimensions split into topologically distinct groups)",
                                    "Zhou et al., ICLR 2021"),
    "geometry_score": ("difference of the mean relative-living-time histograms of two sample sets (lower = "
                       "closer topology)", "Khrulkov & Oseledets, ICML 2018"),
}


def describe(name: str) -> tuple[str, str]:
    """``(meaning, paper)`` of a metric; the registry summary and no paper for one not listed here."""
    if name in INFO:
        return INFO[name]
    try:
        from pydisent.metrics import METRICS

        return (METRICS[name].summary if name in METRICS else name), ""
    except ImportError:
        return name, ""


def headline(name: str, keys) -> list[str]:
    """The keys a summary table shows for ``name`` (the registry's headline keys), else all keys."""
    try:
        from pydisent.metrics import METRICS

        head = METRICS[name].headline if name in METRICS else ()
    except ImportError:
        head = ()
    keys = list(keys)
    shown = [k for k in head if k in keys]
    return shown or keys
