"""A projection's diagram shows what it serves, not the primary's reads of the same entity.

catalog's search diagram drew product_by_slug, category_listing and eight other MySQL reads
as reads of OpenSearch, contradicting section 2 ("reads by id go to the primary store").
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from dbarch import api
from dbarch.report import write_documents
from dbarch.report.mermaid import mermaid_id
from dbarch.spec.model import PatternKind
from tests.test_report import parse_flowchart

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))
NODE = re.compile(r'^\s*p_(\w+)\(\["([^ ]+) · ', re.M)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_projection_diagrams_show_their_own_patterns_and_the_writes_that_feed_them(
    path: Path,
) -> None:
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    patterns = {p.name: p for p in design.spec.access_patterns}
    for d in design.decisions.parts:
        if not d.projection_of:
            continue
        text = docs[f"diagrams/{mermaid_id(d.part)}.mmd"]
        parse_flowchart(text)
        shown = {name for _, name in NODE.findall(text)}
        wrong = [n for n in shown if n not in d.patterns
                 and not (patterns[n].kind == PatternKind.write
                          and set(patterns[n].touches) & set(d.entities))]
        assert wrong == [], (d.part, wrong)
        assert set(d.patterns) <= shown


def test_catalog_search_diagram_reads_only_the_searches() -> None:
    path = next(p for p in EXAMPLES if p.stem == "catalog")
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    text = docs["diagrams/search.mmd"]
    reads = re.findall(r"p_(\w+) -->\|reads\|", text)
    assert sorted(reads) == ["search", "search_in_category", "search_reviews"]
    assert 'p_import_product -->|"writes, fed via core"| e_Product' in text
