"""Protocols and the machinery that runs them.

- :mod:`synthgain.experiments.klgap`: the KL Gap of Gan & Liu (2025, Section 4.4), its
  estimators and :func:`~synthgain.experiments.klgap.run_settings`, the batched
  per-setting computation;
- :mod:`synthgain.experiments.figure4`: the Appendix-B protocol (sweeps of K, J and L),
  its summaries and the statistical tests of the paper's three claims.

Submodules are imported on use, so that importing one part does not load the others.
"""
