"""`dbarch review`: findings on an existing schema, read from a live database or a DDL file.

The rules (dbarch/review/rules/, one a file) read the Schema model and, for a live database,
the catalog facts (`dbarch.review.facts.Facts`) that dbarch/engines/review_facts.py fetched;
nothing here opens a connection.
"""
