"""Database selection: which paradigm and product serve each part of a spec's workload."""

from dbarch.select.recommend import recommend

__all__ = ["recommend"]
