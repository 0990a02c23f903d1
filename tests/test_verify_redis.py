"""The key-value part verified on the real Redis 7 at 127.0.0.1:6379: keys written as designed,
every access pattern run and compared, TTLs, MEMORY USAGE against the estimate, and nothing
left behind. No mock: each test talks to the server."""

from __future__ import annotations

import pytest
import redis

from dbarch.design.parts import PartDesign
from dbarch.engines.redis import LOCAL_URL, RedisEngine, answers
from dbarch.errors import EngineError
from dbarch.verify.keyvalue import verify_part
from dbarch.verify.parts import PartCheck, verify_parts
from tests.test_design_keyvalue import game, shop


def leftovers(check: PartCheck) -> list[bytes]:
    """Keys still under the run's prefix (named in the note)."""
    prefix = check.note.split("prefix ", 1)[1].split(" ", 1)[0]
    return list(redis.Redis.from_url(LOCAL_URL).scan_iter(match=prefix + "*"))


def by_name(check: PartCheck) -> dict[str, object]:
    return {c.name: c for c in check.checks}


def test_shop_sessions_verify_on_redis() -> None:
    check = verify_part(shop(), LOCAL_URL)
    assert check.ran and check.error is None, check.error
    assert check.engine.startswith("redis 7.")
    assert check.ok, [c for c in check.checks if not c.ok]
    names = by_name(check)
    assert {"write Session", "pattern session_get", "pattern session_touch",
            "ttl shop:session:{id}", "memory shop:session:{id}"} <= set(names)
    memory = names["memory shop:session:{id}"]
    # Both numbers are reported; the model follows the allocator, so they agree exactly here
    assert "MEMORY USAGE 2648 B, estimated 2648 B" in memory.detail  # type: ignore[attr-defined]
    assert "TTL reset to" in names["pattern session_touch"].detail  # type: ignore[attr-defined]
    assert leftovers(check) == []


def test_every_structure_verifies_on_redis() -> None:
    check = verify_part(game(), LOCAL_URL)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
    names = by_name(check)
    for pattern in ("player_get", "player_card", "by_handle", "leaderboard", "score_band",
                    "in_region", "player_events", "daily_players", "add_score", "log_event"):
        assert f"pattern {pattern}" in names, pattern
    # handle_search is a finding, not a check: it is named in the note
    assert "pattern handle_search" not in names and "handle_search not run" in check.note
    for kind in ("listpack", "intset", "stream", "int"):
        assert any(f"encoding {kind} " in c.detail for c in check.checks), kind
    # the large encodings are measured at the design's size too
    full = [c for c in check.checks if c.name.endswith("at 2,000 members")]
    assert {c.detail.rsplit("encoding ", 1)[1].split(" ")[0] for c in full} == {"skiplist",
                                                                                "hashtable"}
    assert leftovers(check) == []


def test_a_wrong_design_fails_its_check() -> None:
    design = shop()
    model = design.model
    model["keys"][0]["ttl"] = 60  # the record is written with 24h: the TTL check must fail
    check = verify_part(PartDesign.model_validate(design.model_dump()), LOCAL_URL)
    assert not check.ok
    (failed,) = [c for c in check.checks if not c.ok]
    assert failed.name == "ttl shop:session:{id}" and "designed 60 s" in failed.detail


def test_an_unreachable_server_is_an_error_not_a_pass() -> None:
    check = verify_part(shop(), "redis://127.0.0.1:1/0")
    assert not check.ran and not check.ok
    assert "cannot connect to Redis" in (check.error or "")
    assert not answers("redis://127.0.0.1:1/0", timeout=1)
    assert answers(LOCAL_URL)


def test_verify_parts_picks_the_redis_url() -> None:
    (check,) = verify_parts([shop()], ["sqlite://", LOCAL_URL])
    assert check.ran and check.ok and check.url == LOCAL_URL
    (skipped,) = verify_parts([shop()], ["sqlite://"])
    assert not skipped.ran and "redis://" in skipped.note


def test_the_adapter_deletes_its_keys_even_after_an_error() -> None:
    engine = RedisEngine.connect(LOCAL_URL)
    prefix = engine.prefix
    assert prefix.startswith("dbarch_verify_")
    engine.command("SET", engine.key("a"), "1")
    with pytest.raises(EngineError, match="WRONGTYPE"), engine:
        engine.command("LPUSH", engine.key("a"), "x")
    client = redis.Redis.from_url(LOCAL_URL)
    assert list(client.scan_iter(match=prefix + "*")) == []
