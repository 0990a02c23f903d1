"""The index advisor behind `dbarch indexes`: workload → candidates → what-if → selection.

Pure logic lives here; the what-if costs come from `dbarch.engines.whatif` (HypoPG on a real
PostgreSQL), which this package reaches only through the `CostOracle` protocol.
"""
