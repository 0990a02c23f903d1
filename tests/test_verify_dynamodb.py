"""DynamoDB designs verified on moto's DynamoDB server (a real HTTP server speaking the DynamoDB
API, started here): tables and GSIs created from the design's JSON, sample items written, every
read run as Queries and checked; broken designs must fail."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dbarch import api
from dbarch.design.dynamodb import design_part
from dbarch.design.parts import PartDesign
from dbarch.engines.dynamodb import DynamoDBEngine
from dbarch.errors import EngineError
from dbarch.spec.load import load_spec_text
from dbarch.verify.dynamodb import verify_part
from dbarch.verify.parts import verify_parts
from tests.test_design_dynamodb import CHAT, whole_part

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's DynamoDB server on a free loopback port, for the whole module."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"dynamodb://127.0.0.1:{port}"
    finally:
        server.stop()


def _tables(url: str) -> list[str]:
    port = url.rsplit(":", 1)[1]
    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}",
                          region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    return list(client.list_tables()["TableNames"])


@pytest.fixture(scope="module")
def gaming() -> PartDesign:
    design = api.plan(ROOT / "examples" / "gaming.yaml")
    (part,) = [p for p in design.parts if p.product == "dynamodb"]
    return part


@pytest.fixture(scope="module")
def chat() -> PartDesign:
    spec = load_spec_text(CHAT)
    return design_part(spec, whole_part(spec))


def test_gaming_verifies(moto_url: str, gaming: PartDesign) -> None:
    before = _tables(moto_url)
    check = verify_part(gaming, moto_url)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
    names = [c.name for c in check.checks]
    assert names[:3] == ["create table", "TTL", "sample items"]
    assert set(names[3:]) == {"match_state", "open_matches", "presence_of"}
    lobby = next(c for c in check.checks if c.name == "open_matches")
    assert lobby.detail.startswith("40 Queries on GSI1")   # every write shard read and merged
    assert "in order" in lobby.detail
    assert _tables(moto_url) == before                      # the table is gone again


def test_every_designed_read_verifies(moto_url: str, chat: PartDesign) -> None:
    check = verify_part(chat, moto_url)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
    served = {p["name"] for p in chat.model["patterns"] if p["served"]}
    assert {c.name for c in check.checks} >= served
    # Patterns the design refused (a Scan, text search, an aggregate) are not run, and said.
    assert "all_recent" in check.note and "search_body" in check.note
    assert "all_recent" not in {c.name for c in check.checks}
    # Several items per Query, so a wrong key condition or order would show.
    counts = {c.name: int(c.detail.split("→ ")[1].split(" ")[0]) for c in check.checks[3:]}
    assert counts["channel_messages"] > 1 and counts["author_messages"] > 1
    assert counts["member_channels"] > 1 and counts["channel_members"] > 1


def test_design_verifies_the_part_with_no_flag(tmp_path: Path) -> None:
    # Like an embedded engine: `dbarch design` starts moto itself, and --engine URLs (here only
    # SQLite's) go to the relational verification untouched.
    _, report, written = api.design(ROOT / "examples" / "gaming.yaml", tmp_path, ["sqlite://"])
    assert report is not None and report.ok
    (part,) = report.parts
    assert part.ran and part.ok and part.url == "dynamodb://local"
    doc = (tmp_path / "ARCHITECTURE.md").read_text()
    assert "Verified on moto" in doc and "| open_matches | ok |" in doc
    assert (tmp_path / "schema" / "dynamodb.table.json") in written
    again = api.verify(tmp_path, ["sqlite://"])   # reloaded from design.json
    assert again.ok and again.parts[0].ok


def test_a_given_endpoint_is_used(moto_url: str, gaming: PartDesign) -> None:
    (check,) = verify_parts([gaming], ["sqlite://", moto_url])
    assert check.ok and check.url == moto_url


def test_local_url_starts_and_stops_its_own_server(gaming: PartDesign) -> None:
    engine = DynamoDBEngine("dynamodb://local")
    endpoint = engine.endpoint
    assert engine.version.startswith("moto ")
    engine.close()
    port = int(endpoint.rsplit(":", 1)[1])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0   # nothing listens any more
    check = verify_part(gaming, "dynamodb://local")
    assert check.ok and check.engine.startswith("moto ")


def test_unreachable_endpoint_is_an_error(gaming: PartDesign) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check = verify_part(gaming, f"dynamodb://127.0.0.1:{port}")
    assert not check.ok and check.error and "does not answer" in check.error
    with pytest.raises(EngineError):
        DynamoDBEngine(f"dynamodb://127.0.0.1:{port}", timeout=1)


def test_the_adapter_cannot_scan() -> None:
    assert not hasattr(DynamoDBEngine, "scan")


def _broken(part: PartDesign, name: str, **change: object) -> PartDesign:
    model = copy.deepcopy(part.model)
    next(p for p in model["patterns"] if p["name"] == name).update(change)
    return part.model_copy(update={"model": model})


@pytest.mark.parametrize(("name", "change"), [
    ("channel_messages", {"forward": True}),      # oldest first instead of newest
    ("author_messages", {"index": "GSI2", "pk_attr": "GSI2PK", "sk_attr": "GSI2SK"}),
    ("team_channels", {"sk_eq": 0}),              # drops the kind from the sort key prefix
    ("channel_members", {"index": None, "pk_attr": "PK", "sk_attr": "SK"}),
])
def test_a_broken_design_fails(moto_url: str, chat: PartDesign, name: str,
                               change: dict[str, object]) -> None:
    check = verify_part(_broken(chat, name, **change), moto_url)
    failed = {c.name for c in check.checks if not c.ok}
    assert failed == {name}, check.checks
