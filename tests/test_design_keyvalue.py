"""The Redis key-value design as facts: spec in, keys, structures, commands, memory out.

Pure logic: no server. tests/test_verify_redis.py runs these designs on the real Redis.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbarch import api
from dbarch.design.keyvalue import design_part
from dbarch.design.keyvalue_encodings import (
    hash_value_bytes,
    listpack_entry,
    set_value_bytes,
    size_class,
    string_value_bytes,
    zset_value_bytes,
)
from dbarch.design.keyvalue_records import key_name
from dbarch.design.parts import PartDesign
from dbarch.select.model import Decision, Paradigm
from dbarch.spec.load import load_spec_text
from dbarch.spec.model import Spec

ROOT = Path(__file__).resolve().parent.parent

GAME = """
system: game
entities:
  Player:
    volume: 50k
    growth: 100%/year
    attributes:
      handle: {type: string, max_length: 20, unique: true}
      region: {type: enum, values: [eu, us, ap]}
      score: int
      bio: {type: text, avg_size: 300}
  Event:
    volume: 1M
    append_only: true
    ttl: 7d
    attributes:
      kind: {type: enum, values: [login, match, purchase]}
relationships:
  - {from: Event, to: Player, kind: many-to-one, fanout: 20}
access_patterns:
  - {name: player_get, entity: Player, key: id, rate: 500/s}
  - {name: player_card, entity: Player, key: id, project: [handle, score], rate: 300/s}
  - {name: by_handle, entity: Player, where: {handle: eq}, rate: 50/s}
  - {name: leaderboard, entity: Player, where: {region: eq}, order_by: -score, limit: 10,
     rate: 100/s}
  - {name: score_band, entity: Player, where: {region: eq, score: range}, order_by: score,
     limit: 50, rate: 5/s}
  - {name: in_region, entity: Player, where: {region: eq}, rate: 1/s}
  - {name: add_score, kind: write, entity: Player, operation: update, rate: 200/s}
  - {name: player_events, entity: Event, where: {player: eq}, order_by: -created_at, limit: 20,
     rate: 40/s}
  - {name: log_event, kind: write, entity: Event, rate: 300/s}
  - {name: handle_search, entity: Player, where: {handle: prefix}, rate: 5/s}
  - {name: daily_players, kind: aggregate, entity: Event, time: created_at, window: 1d,
     measure: count(distinct player), rate: 1/min}
"""


def kv_decision(spec: Spec, entities: list[str], **extra: object) -> Decision:
    """A key-value part on Redis holding `entities` and serving every pattern on them."""
    patterns = [p.name for p in spec.access_patterns
                if p.entity in entities or any(e in entities for e in p.touches)]
    return Decision(part="kv", entities=entities, patterns=patterns,
                    paradigm=Paradigm.key_value, product="redis", product_name="Redis",
                    **extra)  # type: ignore[arg-type]


def game() -> PartDesign:
    """The game spec's Player and Event designed on Redis."""
    spec = load_spec_text(GAME)
    return design_part(spec, kv_decision(spec, ["Player", "Event"]))


def shop() -> PartDesign:
    """The shop example's sessions part, as `dbarch design` designs it."""
    (part,) = [p for p in api.plan(ROOT / "examples/shop.yaml").parts if p.paradigm == "key-value"]
    return part


def key(design: PartDesign, pattern: str) -> dict[str, object]:
    (row,) = [k for k in design.model["keys"] if k["pattern"] == pattern]
    return row


def plan(design: PartDesign, name: str) -> dict[str, object]:
    (row,) = [p for p in design.model["patterns"] if p["pattern"] == name]
    return row


# --- the memory model, as Redis 7.0 with jemalloc counts it (measured in test_verify_redis) --

@pytest.mark.parametrize(("request_bytes", "allocated"), [
    (1, 8), (8, 8), (9, 16), (24, 32), (100, 112), (128, 128), (129, 160), (2006, 2048),
    (2054, 2560), (12310, 14336),
])
def test_size_classes(request_bytes: int, allocated: int) -> None:
    assert size_class(request_bytes) == allocated


@pytest.mark.parametrize(("length", "integer", "bytes_"), [
    (1, False, 32),        # embstr: 16 B object + 3 B header + 1 B + NUL in one allocation
    (20, False, 48),
    (44, False, 64),       # the longest embstr
    (45, False, 80),       # raw: 16 B object + sds of 49 B in a 64 B class
    (2000, False, 2064),
    (6, True, 16),         # an integer lives in the object header
])
def test_string_values(length: int, integer: bool, bytes_: int) -> None:
    assert string_value_bytes(length, integer=integer) == bytes_


@pytest.mark.parametrize(("text", "bytes_"), [
    ("7", 2), ("100000", 5), ("x" * 10, 12), ("x" * 64, 67), ("-5", 3),
])
def test_listpack_entries(text: str, bytes_: int) -> None:
    assert listpack_entry(text) == bytes_


def test_encodings_switch_at_the_thresholds() -> None:
    assert hash_value_bytes([("a", "x" * 64)])[1] == "listpack"
    assert hash_value_bytes([("a", "x" * 65)])[1] == "hashtable"
    assert hash_value_bytes([(f"f{i}", "1") for i in range(129)])[1] == "hashtable"
    assert zset_value_bytes(128, "100000", "1")[1] == "listpack"
    assert zset_value_bytes(129, "100000", "1")[1] == "skiplist"
    assert set_value_bytes(512, 6, True)[1] == "intset"
    assert set_value_bytes(513, 6, True)[1] == "hashtable"
    assert set_value_bytes(3, 6, False)[1] == "hashtable"


def test_key_names_keep_braces_as_cluster_hash_tags() -> None:
    assert key_name("shop:session:{id}", {"id": "42"}) == "shop:session:{42}"
    assert key_name("g:p:by_region:{region}", {"region": "eu"}) == "g:p:by_region:{eu}"


# --- the shop's sessions -------------------------------------------------------------------

def test_shop_sessions_are_json_strings_with_the_spec_ttl() -> None:
    design = shop()
    row = key(design, "shop:session:{id}")
    assert (row["type"], row["encoding"], row["ttl"], row["role"]) == ("string", "raw", 86400,
                                                                       "record")
    assert row["example"] == "shop:session:{100000}"
    # 2,153 B of JSON → sds 2,159 B in the 2,560 B class + 16 B object; key 24 + 32
    assert row["bytes_per_key"] == 2632
    assert (row["keys_now"], row["keys_horizon"]) == (200_000, 200_000)
    assert plan(design, "session_get")["commands"] == ["GET shop:session:{id}"]
    assert plan(design, "session_touch")["commands"] == ["SET shop:session:{id} <json> EX 86400"]
    assert design.model["eviction"]["policy"] == "volatile-ttl"
    # sessions exist only in Redis and the RPO is 1 min: AOF, not 5-minute RDB snapshots
    assert design.model["persistence"]["mode"] == "appendonly yes, appendfsync everysec"
    assert design.findings == []


def test_shop_section_gives_the_numbers_behind_each_choice() -> None:
    section = shop().section
    for fact in ("data (2000 B) exceeds hash-max-listpack-value (64 B)", "TTL 1d",
                 "2.57 KiB", "200k → 200k", "615 MiB", "48 GiB", "75% of a 64 GiB node",
                 "maxmemory-policy volatile-ttl", "session_touch (400/s) rewrites",
                 "`GET shop:session:{id}`", "only the text between them is hashed"):
        assert fact in section, fact


def test_shop_artifacts_are_the_key_table_and_its_data() -> None:
    design = shop()
    assert set(design.artifacts) == {"schema/redis.md", "schema/redis.json"}
    assert json.loads(design.artifacts["schema/redis.json"]) == json.loads(
        json.dumps(design.model))
    table = design.artifacts["schema/redis.md"]
    assert "| `shop:session:{id}` | string (raw) | 1d |" in table
    assert "maxmemory-policy volatile-ttl" in table


def test_the_design_goes_through_design_json_and_back(tmp_path: Path) -> None:
    api.design(ROOT / "examples/shop.yaml", tmp_path, [])
    assert (tmp_path / "schema/redis.md").is_file()
    reloaded = api.load_design(tmp_path)
    (part,) = [p for p in reloaded.parts if p.paradigm == "key-value"]
    assert part.model == shop().model
    assert "Redis key design" in (tmp_path / "ARCHITECTURE.md").read_text()


# --- a structure per use -------------------------------------------------------------------

def test_a_record_read_by_field_is_a_hash_with_long_fields_beside_it() -> None:
    design = game()
    record = key(design, "game:player:{id}")
    assert (record["type"], record["encoding"]) == ("hash", "listpack")
    assert key(design, "game:player:{id}:bio")["encoding"] == "raw"
    assert plan(design, "player_card")["commands"] == ["HMGET game:player:{id} handle score"]


@pytest.mark.parametrize(("pattern", "type_", "first"), [
    ("by_handle", "string", "GET game:player:by_handle:{handle} → id"),
    ("leaderboard", "zset", "ZRANGE game:player:by_region_score:{region} 0 9 REV → ids"),
    ("score_band", "zset",
     "ZRANGE game:player:by_region_score:{region} <lo> <hi> BYSCORE LIMIT 0 50 → ids"),
    ("in_region", "set", "SMEMBERS game:player:by_region:{region} → ids"),
    ("player_events", "stream", "XREVRANGE game:event:stream_player:{player} + - COUNT 20"),
    ("daily_players", "string", "PFCOUNT game:event:uniq_player:{window}"),
])
def test_each_read_gets_its_structure(pattern: str, type_: str, first: str) -> None:
    design = game()
    p = plan(design, pattern)
    assert p["commands"][0] == first
    assert key(design, str(p["index"]))["type"] == type_


def test_index_sizes_follow_the_spec() -> None:
    design = game()
    board = key(design, "game:player:by_region_score:{region}")
    # 50k players over 3 regions: 16,667 a key, past the 128-member listpack: a skiplist
    assert (board["members_per_key"], board["encoding"], board["keys_now"]) == (16667,
                                                                                 "skiplist", 3)
    events = key(design, "game:event:stream_player:{player}")
    assert (events["members_per_key"], events["ttl"]) == (20, 7 * 86400)
    assert key(design, "game:event:uniq_player:{window}")["keys_now"] == 7  # 7 daily windows


def test_writes_list_the_keys_they_touch() -> None:
    design = game()
    log = plan(design, "log_event")
    assert log["commands"][0].startswith("XADD game:event:stream_player:{player} MINID ~")
    assert "PFADD game:event:uniq_player:{window} <member>" in log["commands"]
    score = plan(design, "add_score")
    assert "ZADD game:player:by_region_score:{region} <score> {id}" in score["commands"]
    assert score["atomic"] == "MULTI/EXEC"


# --- findings ------------------------------------------------------------------------------

def test_what_redis_cannot_serve_is_a_finding_not_a_design() -> None:
    design = game()
    messages = {f.pattern: f for f in design.findings}
    assert messages["handle_search"].severity == "error"
    assert "no text or prefix index" in messages["handle_search"].message
    assert plan(design, "handle_search")["op"] == "unserved"
    assert "big key" in messages["leaderboard"].message  # 16,667 members > 5,000


def test_a_dataset_over_the_memory_budget_is_an_error() -> None:
    spec = load_spec_text("""
system: big
deployment: {hosting: self-hosted}
entities:
  Blob: {volume: 40M, attributes: {body: {type: json, avg_size: 2k}}}
access_patterns:
  - {name: blob_get, entity: Blob, key: id, rate: 100/s}
""")
    design = design_part(spec, kv_decision(spec, ["Blob"]))
    memory = design.model["memory"]
    assert memory["budget"] == 32 * 2**30       # half of a 64 GiB node when self-hosted
    assert memory["horizon"] > memory["budget"]
    (finding,) = [f for f in design.findings if "memory budget" in f.message]
    assert finding.severity == "error"
    assert "Redis Cluster primaries" in finding.message
    assert design.model["eviction"]["policy"] == "noeviction"


def test_a_transaction_across_stores_is_a_finding() -> None:
    spec = load_spec_text("""
system: mixed
entities:
  Session: {volume: 10k, ttl: 1h, attributes: {data: json}}
  Audit: {volume: 1M, attributes: {what: string}}
access_patterns:
  - {name: session_get, entity: Session, key: id, rate: 100/s}
  - {name: login, kind: write, touches: [Session, Audit], transaction: true, rate: 5/s}
""")
    design = design_part(spec, kv_decision(spec, ["Session"]))
    (finding,) = design.findings
    assert finding.pattern == "login" and "no transaction spans both" in finding.message


def test_a_copy_of_primary_records_is_a_cache() -> None:
    spec = load_spec_text("""
system: cat
entities:
  Product: {volume: 80k, attributes: {name: string, price: money}}
access_patterns:
  - {name: product_get, entity: Product, key: id, rate: 900/s, consistency: eventual}
""")
    design = design_part(spec, kv_decision(spec, ["Product"], projection_of="core"))
    (record,) = design.model["entities"]
    assert record["strategy"] == "cache-aside"
    assert design.model["eviction"]["policy"] == "allkeys-lru"
    assert design.model["persistence"]["mode"] == "none"


def test_an_rpo_redis_cannot_meet_is_a_finding() -> None:
    spec = load_spec_text("""
system: bank
scale: {rpo: 0}
entities:
  Hold: {volume: 1k, attributes: {amount: money}}
access_patterns:
  - {name: hold_get, entity: Hold, key: id, rate: 10/s}
""")
    design = design_part(spec, kv_decision(spec, ["Hold"]))
    (finding,) = design.findings
    assert finding.severity == "error" and "appendfsync" not in finding.message
    assert "fsyncs once a second" in finding.message
