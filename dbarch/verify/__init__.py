"""Verification on real engines: the design's DDL applied, sample rows loaded, every read
access pattern explained.

`model` (the report) is pure and imported by the report writers; `sample`, `params` are pure;
`run.verify` is the entry point and the only module here that reaches `dbarch.engines`. This
package does not import `run` on import, so reading a report never loads a database driver.
"""
