"""Rendering the Schema model for engines: DDL per SQL dialect (`render_ddl`,
`ddl_statements`) and access-pattern queries (`query.py`)."""

from dbarch.render.ddl import DIALECTS, ddl_statements, render_ddl, renderer_for

__all__ = ["DIALECTS", "ddl_statements", "render_ddl", "renderer_for"]
