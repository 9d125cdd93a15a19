"""Factored components (msc-research / disent ``metric_factored_components``): the ground-truth
correlation (:mod:`pydisent.metrics._ground_truth_correlation`) and the linearity / axis-alignment ratios
(:mod:`pydisent.metrics._linearity`) computed on the same factor traversals, as disent does."""

from __future__ import annotations

from pydisent._validation import check_positive_int
from pydisent.metrics._ground_truth_correlation import distances_streamed, ground_truth_correlation, sample_all
from pydisent.metrics._linearity import linearity, linearity_from_codes
from pydisent.metrics._registry import register
from pydisent.metrics._traversals import check_backend, check_repeats


def factored_components(traversals, traversal_observations=None, *, global_codes=None, global_observations=None,
                        global_factors=None, num_samples: int = 64, rng=0, backend: str = "auto",
                        factor_names=None) -> dict:
    """Both :func:`pydisent.metrics._ground_truth_correlation.ground_truth_correlation` and
    :func:`pydisent.metrics._linearity.linearity` on the same traversal codes; keys of both.
    ``backend`` selects the kernels' backend (paired distances and batched PCA)."""
    out = ground_truth_correlation(traversals, traversal_observations, global_codes=global_codes,
                                   global_observations=global_observations, global_factors=global_factors,
                                   num_samples=num_samples, rng=rng, backend=backend, factor_names=factor_names)
    out.update(linearity(traversals, backend=backend, factor_names=factor_names))
    return dict(sorted(out.items()))


@register("factored_components", factored_components, default=False,
          headline=("distances.rcorr_ground_latent.l1.factor", "linearity.linear_ratio.var",
                    "linearity.axis_ratio.var"))
def evaluate_factored_components(source, encoder, rng, *, num_samples: int = 64, global_subset_size: int = 32,
                                 repeats: int = 1024, backend: str = "auto") -> dict:
    """Factored components (msc-research): ground-truth correlation plus linearity/axis alignment on shared traversals.

    Defaults as disent: ``repeats=1024`` (fast: 128), ``num_samples=64``, ``global_subset_size=32``.
    """
    repeats = check_repeats(repeats)
    check_backend(backend)
    num_samples = check_positive_int(num_samples, "num_samples")
    global_subset_size = check_positive_int(global_subset_size, "global_subset_size")
    active, trav, glob = sample_all(source, rng, repeats, global_subset_size)
    out, codes = distances_streamed(source, encoder, rng, active, trav, glob, num_samples, backend, keep_codes=True)
    out.update(linearity_from_codes(codes, [source.factor_space.names[f] for f in active], backend))
    return dict(sorted(out.items()))
