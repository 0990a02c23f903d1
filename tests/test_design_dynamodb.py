"""The DynamoDB single-table designer: keys, indexes, shards, capacity and findings as facts.

Pure: no server. `CHAT` exercises every key shape (item collections, composite sort keys,
overloaded GSIs, an adjacency list, `in`, prefix and range conditions) and every finding; the
gaming example is the part `dbarch recommend` really places in DynamoDB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbarch import api
from dbarch.design.dynamodb import design_part
from dbarch.design.dynamodb_keys import encode, key_value
from dbarch.design.dynamodb_render import CLOUDFORMATION_FILE, TABLE_FILE
from dbarch.design.parts import PartDesign, design_parts
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision, Paradigm
from dbarch.spec.load import load_spec_text
from dbarch.spec.model import Spec

ROOT = Path(__file__).resolve().parent.parent

CHAT = """
system: chat
entities:
  Team:
    volume: 50k
    attributes:
      name: {type: string, max_length: 80}
      plan: {type: enum, values: [free, pro, enterprise]}
  Channel:
    volume: 2M
    attributes:
      name: {type: string, max_length: 80}
      topic: {type: string, required: false}
      kind: {type: enum, values: [public, private]}
  Message:
    volume: 500M
    growth: 50%/year
    attributes:
      body: {type: text, avg_size: 400}
      score: int
      sent_at: timestamp
  Member:
    volume: 5M
    attributes:
      handle: {type: string, max_length: 40}
  Attachment:
    volume: 1M
    attributes:
      data: {type: blob, avg_size: 600k}
relationships:
  - {from: Channel, to: Team, kind: many-to-one, owned: true, fanout: 40, max_fanout: 5000}
  - {from: Message, to: Channel, kind: many-to-one, owned: true, fanout: 250}
  - {from: Message, to: Member, kind: many-to-one, name: author}
  - {from: Member, to: Channel, kind: many-to-many, fanout: 20}
  - {from: Attachment, to: Message, kind: many-to-one}
access_patterns:
  - {name: team_get, entity: Team, key: id, rate: 100/s}
  - {name: channel_get, entity: Channel, key: id, rate: 500/s}
  - {name: team_channels, entity: Channel, where: {team: eq, kind: eq}, order_by: name, rate: 200/s}
  - {name: channels_by_prefix, entity: Channel, where: {team: eq, name: prefix}, limit: 10,
     rate: 50/s}
  - {name: channel_messages, entity: Message, where: {channel: eq}, order_by: -sent_at, limit: 50,
     rate: 2000/s}
  - {name: messages_between, entity: Message, where: {channel: eq, sent_at: range},
     order_by: sent_at, rate: 100/s}
  - {name: author_messages, entity: Message, where: {author: eq}, order_by: -sent_at, limit: 20,
     rate: 50/s, consistency: strong}
  - {name: top_messages, entity: Message, where: {channel: eq, score: range, sent_at: range},
     order_by: -score, limit: 10, rate: 5/s}
  - {name: plan_teams, entity: Team, where: {plan: in}, rate: 1/s}
  - {name: all_recent, entity: Message, where: {sent_at: range}, order_by: -sent_at, limit: 100,
     rate: 1/s}
  - {name: search_body, entity: Message, where: {body: text}, rate: 10/s}
  - {name: message_count, kind: aggregate, entity: Message, time: sent_at, window: 1h,
     measure: count, rate: 1/min}
  - {name: member_channels, kind: traversal, entity: Member, via: Channel, rate: 300/s}
  - {name: channel_members, kind: traversal, entity: Channel, via: Member, rate: 300/s}
  - {name: message_channel, kind: traversal, entity: Message, via: channel, hops: 2, rate: 10/s}
  - {name: post, kind: write, entity: Message, rate: 5000/s}
  - {name: create_team, kind: write, touches: [Team, Channel], transaction: true, rate: 1/s}
  - {name: attach, kind: write, entity: Attachment, rate: 1/s}
"""


def whole_part(spec: Spec, entities: list[str] | None = None) -> Decision:
    """A Decision placing `entities` (default: all) and their patterns in DynamoDB."""
    names = entities or list(spec.entities)
    patterns = [p.name for p in spec.access_patterns
                if p.entity in names or any(e in names for e in p.touches)]
    return Decision(part="chat", entities=names, patterns=patterns,
                    paradigm=Paradigm.key_value, product="dynamodb",
                    product_name="Amazon DynamoDB")


@pytest.fixture(scope="module")
def chat() -> tuple[Spec, PartDesign]:
    spec = load_spec_text(CHAT)
    return spec, design_part(spec, whole_part(spec))


@pytest.fixture(scope="module")
def gaming() -> PartDesign:
    design = api.plan(ROOT / "examples" / "gaming.yaml")
    (part,) = [p for p in design.parts if p.product == "dynamodb"]
    return part


def pattern(part: PartDesign, name: str) -> dict[str, Any]:
    return next(p for p in part.model["patterns"] if p["name"] == name)


def keys(part: PartDesign, entity: str, attr: str) -> str:
    tpl = part.model["entities"][entity]["keys"][attr]
    return "#".join([tpl["prefix"], *(f"<{f}>" for f in tpl["fields"])])


def messages(part: PartDesign, severity: str) -> dict[str | None, str]:
    return {f.pattern: f.message for f in part.findings if f.severity == severity}


# ----- the example that recommend places in DynamoDB


def test_gaming_places_matches_and_presence_in_dynamodb(gaming: PartDesign) -> None:
    assert gaming.paradigm == "key-value"
    assert sorted(gaming.model["entities"]) == ["Match", "Presence"]
    assert set(gaming.artifacts) == {TABLE_FILE, CLOUDFORMATION_FILE}
    assert "Single-table design" in gaming.section


def test_product_entry_wins_over_the_paradigm() -> None:
    # Redis and DynamoDB are both key-value: the DynamoDB part gets the DynamoDB designer.
    spec = load_spec_text(CHAT)
    decisions = api.recommend(spec).model_copy(update={"parts": [whole_part(spec)]})
    (part,) = design_parts(spec, decisions)
    assert part.product == "dynamodb" and TABLE_FILE in part.artifacts


@pytest.mark.parametrize(("entity", "attr", "expected"), [
    ("Match", "PK", "MATCH#<id>"),
    ("Match", "SK", "MATCH"),
    ("Match", "GSI1PK", "MATCH#<mode>#<region>#<status>"),   # composite: 27 values alone
    ("Match", "GSI1SK", "MATCH#<created_at>#<id>"),
    ("Presence", "PK", "PRESENCE#<player>"),                 # keyed by its one-to-one lookup
])
def test_gaming_keys(gaming: PartDesign, entity: str, attr: str, expected: str) -> None:
    assert keys(gaming, entity, attr) == expected


def test_gaming_lobby_index_is_write_sharded(gaming: PartDesign) -> None:
    # match_update 8,000/s x 4 WCU (a 3.85 KiB item) lands on GSI1 too; an enum key may take
    # every write on one value: 32,000 WCU / (1,000 x 0.8 headroom) = 40 shards.
    tpl = gaming.model["entities"]["Match"]["keys"]["GSI1PK"]
    assert tpl["shards"] == 40
    heat = next(h for h in gaming.model["heat"] if h["index"] == "GSI1")
    assert heat["hot_wcu"] == pytest.approx(32_000)
    lobby = pattern(gaming, "open_matches")
    assert lobby["queries"] == 40 and lobby["index"] == "GSI1"
    assert "#S<n> (each of 40 shards)" in gaming.section


def test_gaming_lookups_are_get_items(gaming: PartDesign) -> None:
    for name in ("match_state", "presence_of"):
        p = pattern(gaming, name)
        assert (p["api"], p["index"]) == ("GetItem", None), name
        assert p["rcu"] == 0.5, name   # eventual, under 4 KB


def test_gaming_billing_and_ttl(gaming: PartDesign) -> None:
    cap = gaming.model["capacity"]
    # 8k + 12k steady writes/s: provisioned at 70% is far cheaper than on-demand.
    assert cap["billing_mode"] == "PROVISIONED"
    assert cap["provisioned_usd"] < cap["on_demand_usd"]
    table = json.loads(gaming.artifacts[TABLE_FILE])
    assert table["BillingMode"] == "PROVISIONED"
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] \
        == cap["per_index"]["GSI1"]["wcu"]
    cfn = json.loads(gaming.artifacts[CLOUDFORMATION_FILE])
    (resource,) = cfn["Resources"].values()
    assert resource["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at", "Enabled": True}


# ----- key shapes


@pytest.mark.parametrize(("entity", "attr", "expected"), [
    # An owned child lives in its owner's item collection, sorted by its busiest read.
    ("Channel", "PK", "TEAM#<team>"),
    ("Channel", "SK", "CHANNEL#<kind>#<name>#<id>"),   # composite sort key: eq, then order
    ("Message", "PK", "CHANNEL#<channel>"),
    ("Message", "SK", "MESSAGE#<sent_at>#<id>"),
    ("Message", "GSI1PK", "MESSAGE#<author>"),
    ("Message", "GSI2SK", "MESSAGE#<score>#<id>"),
    # The adjacency list: edges under the member, inverted through GSI1 for the channel.
    ("MemberChannel", "PK", "MEMBER#<member>"),
    ("MemberChannel", "SK", "CHANNEL#<channel>"),
    ("MemberChannel", "GSI1PK", "CHANNEL#<channel>"),
    ("MemberChannel", "GSI1SK", "MEMBER#<member>"),
])
def test_chat_keys(chat: tuple[Spec, PartDesign], entity: str, attr: str, expected: str) -> None:
    assert keys(chat[1], entity, attr) == expected


@pytest.mark.parametrize(("name", "index", "api_call"), [
    ("team_get", None, "GetItem"),
    ("channel_get", "GSI1", "Query"),            # a child by its own id needs an index
    ("team_channels", None, "Query"),
    ("channels_by_prefix", "GSI2", "Query"),
    ("channel_messages", None, "Query"),
    ("messages_between", None, "Query"),
    ("author_messages", "GSI1", "Query"),
    ("top_messages", "GSI2", "Query"),
    ("plan_teams", "GSI1", "Query"),
    ("member_channels", None, "Query"),
    ("channel_members", "GSI1", "Query"),
    ("message_channel", "GSI1", "Query"),        # the traversal reads the channel by id
])
def test_chat_patterns(chat: tuple[Spec, PartDesign], name: str, index: str | None,
                       api_call: str) -> None:
    p = pattern(chat[1], name)
    assert (p["served"], p["index"], p["api"]) == (True, index, api_call)


def test_overloading_keeps_the_index_count_at_the_busiest_entity(
        chat: tuple[Spec, PartDesign]) -> None:
    # Six item types, five GSI-served shapes, but no type needs more than two indexes.
    assert chat[1].model["gsis"] == ["GSI1", "GSI2"]
    table = json.loads(chat[1].artifacts[TABLE_FILE])
    assert [a["AttributeName"] for a in table["AttributeDefinitions"]] == [
        "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]


def test_condition_text(chat: tuple[Spec, PartDesign]) -> None:
    section = chat[1].section
    assert "`PK = TEAM#<team> AND begins_with(SK, CHANNEL#<kind>#)`" in section
    assert ("`PK = CHANNEL#<channel> AND SK BETWEEN MESSAGE#<sent_at from> AND "
            "MESSAGE#<sent_at to>`") in section
    assert "GetItem `PK = TEAM#<id> AND SK = TEAM`" in section


# ----- findings: what DynamoDB cannot do as asked


@pytest.mark.parametrize(("severity", "name", "words"), [
    ("error", "all_recent", "would need a Scan"),
    ("error", "search_body", "no full-text search"),
    ("error", "create_team", "up to 5001 items in one transaction"),
    ("warning", "message_count", "no GROUP BY"),
    ("warning", "author_messages", "only eventually consistent"),
    ("warning", "top_messages", "FilterExpression"),
    ("warning", "message_channel", "2 hops"),
    ("info", "plan_teams", "1 MB per page"),
])
def test_chat_findings(chat: tuple[Spec, PartDesign], severity: str, name: str,
                       words: str) -> None:
    assert words in messages(chat[1], severity)[name]


def test_no_pattern_is_silently_a_scan(chat: tuple[Spec, PartDesign]) -> None:
    spec, part = chat
    flagged = {f.pattern for f in part.findings if f.severity == "error"}
    for p in part.model["patterns"]:
        assert p["served"] or p["name"] in flagged or p["reason"] == "aggregate", p["name"]
        if p["served"]:
            assert p["pk_fields"], p["name"]   # a Query always names a partition key
    assert {p["name"] for p in part.model["patterns"]} == {
        p.name for p in spec.access_patterns if p.kind.value != "write"}


def test_item_size_over_400_kb(chat: tuple[Spec, PartDesign]) -> None:
    spec, part = chat
    (msg,) = [f.message for f in part.findings
              if f.severity == "error" and "Attachment item" in f.message]
    assert "409,600-byte item limit" in msg and "S3" in msg
    # The estimate starts from the capacity model's record size, plus names and keys.
    for name in ("Team", "Message", "Attachment"):
        assert part.model["entities"][name]["item_bytes"] > entity_size(spec, name).row_bytes


def test_cross_database_transaction() -> None:
    spec = load_spec_text(CHAT)
    part = design_part(spec, whole_part(spec, ["Channel", "Message"]))
    assert "no transaction spans two databases" in messages(part, "error")["create_team"]


def test_quiet_workload_is_on_demand() -> None:
    spec = load_spec_text("""
system: notes
entities:
  Note: {volume: 10k, attributes: {body: {type: text, avg_size: 2k}}}
access_patterns:
  - {name: note_get, entity: Note, key: id, rate: 2/s}
  - {name: note_put, kind: write, entity: Note, rate: 1/s}
""")
    part = design_part(spec, whole_part(spec))
    cap = part.model["capacity"]
    # A few dollars a month on demand: provisioned may be cheaper still, but not by enough to
    # pay for sizing it.
    assert cap["billing_mode"] == "PAY_PER_REQUEST"
    assert cap["small"] and cap["on_demand_usd"] < 200
    assert "so sizing and watching provisioned capacity would not pay" in part.section
    assert "ProvisionedThroughput" not in json.loads(part.artifacts[TABLE_FILE])
    assert part.model["gsis"] == [] and part.findings == []


# ----- key encoding: string order is value order


@pytest.mark.parametrize(("kind", "values"), [
    ("int", [-1000, -3, 0, 2, 10, 999_999]),
    ("money", ["-0.5", "0", "0.01", "9.99", "10.00", "1000.5"]),
    ("timestamp", ["2025-12-31T23:59:59.000000Z", "2026-01-01T00:00:00.000000Z",
                   "2026-01-01T00:00:00.000001Z"]),
    ("bool", [False, True]),
])
def test_encoding_sorts_like_the_values(kind: str, values: list[Any]) -> None:
    encoded = [encode(kind, v) for v in values]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(values)


def test_key_value_with_shards() -> None:
    tpl = {"prefix": "MATCH", "fields": ["mode", "region"], "shards": 4}
    fields = {"mode": "enum", "region": "enum"}
    value = key_value(tpl, fields, {"mode": "duel", "region": "eu"}, "match-0001")
    head, _, shard = value.rpartition("#S")
    assert head == "MATCH#duel#eu" and 0 <= int(shard) < 4
    # Stable across processes (crc32, not Python's salted hash).
    assert value == key_value(tpl, fields, {"mode": "duel", "region": "eu"}, "match-0001")
