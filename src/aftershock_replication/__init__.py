"""Replication package re-examining DeVries et al. (2018), Nature 560:632-634.

Every number of the rebuttal letter is regenerated from the original data layout by the
DVC pipeline in ``dvc.yaml``; each stage is one subcommand of the ``replicate`` CLI.
"""

__version__ = "0.1.0"
