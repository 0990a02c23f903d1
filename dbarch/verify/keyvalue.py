"""Verify a key-value part on a real Redis server.

Sample records are written as the design says (record key, split field keys, index keys, with
their TTLs), under a key prefix unique to the run; every served access pattern is run with
its commands and must return exactly the records Python finds in the samples; each write
pattern is replayed and read back; the TTLs are checked; and MEMORY USAGE of every key kind is
compared with the design's memory model for the same key. The prefix is deleted at the end.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dbarch.design.keyvalue_encodings import (
    hash_value_bytes,
    hll_value_bytes,
    key_overhead,
    kv_data,
    listpack_entry,
    set_value_bytes,
    stream_value_bytes,
    string_value_bytes,
    zset_value_bytes,
)
from dbarch.design.keyvalue_records import (
    Field_,
    key_name,
    record_json,
    sample_id,
    sample_record,
    window_of,
)
from dbarch.design.parts import PartDesign
from dbarch.errors import EngineError
from dbarch.verify.parts import Check, PartCheck

SCHEMES: tuple[str, ...] = ("redis",)


def _seq(rid: str) -> int:
    """A stream entry's sequence number from the record id, so two records of one millisecond
    get distinct entry ids."""
    return int(re.sub(r"\D", "", rid)[-9:] or 0)


def _score(value: str) -> float:
    return float(value)


class _Run:
    def __init__(self, part: PartDesign, engine: Any) -> None:
        self.part = part
        self.model = part.model
        self.engine = engine
        self.data = kv_data()
        self.checks: list[Check] = []
        self.records: dict[str, dict[str, dict[str, str]]] = {}
        self.n = int(self.data["verify_records"])

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name=name, ok=ok, detail=detail))

    # -- writing ---------------------------------------------------------------------------
    def _keys_of(self, entity: str) -> list[dict[str, Any]]:
        return [k for k in self.model["keys"] if k["entity"] == entity]

    def _window(self, record: dict[str, str], window: float | None) -> str:
        return window_of(record, window)

    def write_commands(self, rec: dict[str, Any], rid: str, record: dict[str, str]
                       ) -> list[list[Any]]:
        """The commands the design runs to store one record and its index entries."""
        key = self.engine.key(key_name(rec["key"], {"id": rid}))
        ttl = rec["ttl"]
        cmds: list[list[Any]] = []
        if rec["structure"] == "string":
            cmds.append(["SET", key, record_json(record), *(["EX", ttl] if ttl else [])])
        elif rec["structure"] == "hash":
            flat = [x for k, v in record.items() if k not in rec["split"] for x in (k, v)]
            cmds.append(["HSET", key, *flat])
            cmds += [["SET", f"{key}:{s}", record[s], *(["EX", ttl] if ttl else [])]
                     for s in rec["split"]]
            if ttl:
                cmds.append(["EXPIRE", key, ttl])
        for k in self._keys_of(rec["entity"]):
            if k["role"] in ("record", "field"):
                continue
            values = {f: record[f] for f in k["fields"]}
            values["window"] = self._window(record, self._pattern_window(k))
            ix = self.engine.key(key_name(k["pattern"], values))
            if k["role"] == "lookup":
                cmds.append(["SET", ix, rid, *(["EX", ttl] if ttl else [])])
            elif k["role"] == "set":
                cmds.append(["SADD", ix, rid])
            elif k["role"] == "zset":
                cmds.append(["ZADD", ix, record[k["score"]], rid])
            elif k["role"] == "stream":
                flat = [x for f, v in {"id": rid, **record}.items() for x in (f, v)]
                cmds.append(["XADD", ix, f"{record['created_at']}-{_seq(rid)}", *flat])
            elif k["role"] == "hll":
                cmds.append(["PFADD", ix, record.get(self._counted(k), rid)])
            if ttl and k["role"] in ("set", "zset", "hll", "stream"):
                cmds.append(["EXPIRE", ix, ttl])
        return cmds

    def _plan_of(self, k: dict[str, Any]) -> dict[str, Any] | None:
        return next((p for p in self.model["patterns"] if p.get("index") == k["pattern"]), None)

    def _pattern_window(self, k: dict[str, Any]) -> float | None:
        plan = self._plan_of(k)
        return plan.get("window") if plan else None

    def _counted(self, k: dict[str, Any]) -> str:
        plan = self._plan_of(k)
        return str(plan.get("counted")) if plan else "id"

    def write_samples(self) -> None:
        for rec in self.model["entities"]:
            fields = [Field_(**f) for f in rec["fields"]]
            rows = {sample_id(i, rec["id_chars"]): sample_record(fields, i) for i in range(self.n)}
            for rid, row in rows.items():
                self.engine.pipeline(self.write_commands(rec, rid, row), transaction=True)
            self.records[rec["entity"]] = rows
            written = len(self.engine.keys_under_prefix())
            self.check(f"write {rec['entity']}", True,
                       f"{len(rows)} records written as designed ({written} keys under the "
                       "run's prefix so far)")

    # -- reading ---------------------------------------------------------------------------
    def fetch(self, rec: dict[str, Any], rid: str, project: list[str] | None = None
              ) -> dict[str, str] | None:
        """A record through the design's read command (GET, HGETALL or HMGET)."""
        key = self.engine.key(key_name(rec["key"], {"id": rid}))
        if rec["structure"] == "string":
            raw = self.engine.command("GET", key)
            if raw is None:
                return None
            value: dict[str, str] = json.loads(raw)
            return {k: value[k] for k in project} if project else value
        if project:
            got = self.engine.command("HMGET", key, *project)
            if all(v is None for v in got):
                return None
            return {k: v.decode() for k, v in zip(project, got, strict=True) if v is not None}
        got = self.engine.command("HGETALL", key)
        if not got:
            return None
        out = {k.decode(): v.decode() for k, v in got.items()}
        for s in rec["split"]:
            v = self.engine.command("GET", f"{key}:{s}")
            if v is not None:
                out[s] = v.decode()
        return out

    def expected(self, rec: dict[str, Any], rid: str, project: list[str] | None
                 ) -> dict[str, str]:
        row = self.records[rec["entity"]][rid]
        return {k: row[k] for k in project} if project else row

    def run_read(self, plan: dict[str, Any]) -> None:
        rec = next(r for r in self.model["entities"] if r["entity"] == plan["entity"])
        rows = self.records[rec["entity"]]
        ids = list(rows)
        op = plan["op"]
        name = f"pattern {plan['pattern']}"
        project = plan.get("project") or None
        if op in ("get", "mget"):
            picks = ids[:: max(1, len(ids) // 4)][:4]
            bad = [r for r in picks if self.fetch(rec, r, project) != self.expected(rec, r,
                                                                                      project)]
            missing = self.fetch(rec, sample_id(self.n + 7, rec["id_chars"]), project)
            self.check(name, not bad and missing is None,
                       f"{' / '.join(plan['commands'])}: {len(picks) - len(bad)} of {len(picks)} "
                       "records came back equal to what was written; an unknown id returns nil"
                       + (f"; wrong: {bad}" if bad else ""))
            return
        probe = rows[ids[1]]
        values = {f: probe[f] for f in plan.get("fields", [])}
        match = [r for r, row in rows.items() if all(row[f] == v for f, v in values.items())]
        ix = self.engine.key(key_name(plan["index"], {**values, "window": self._window(
            probe, plan.get("window"))}))
        if op == "lookup":
            got_id = self.engine.command("GET", ix)
            got = [got_id.decode()] if got_id else []
        elif op == "members":
            got = sorted(m.decode() for m in self.engine.command("SMEMBERS", ix))
            match = sorted(match)
        elif op == "zrange":
            score = plan["score"]
            desc = plan["desc"]
            ordered = sorted(match, key=lambda r: (_score(rows[r][score]), r), reverse=desc)
            args: list[Any] = ["ZRANGE", ix]
            if plan.get("range"):
                scores = sorted(_score(rows[r][score]) for r in match)
                lo, hi = scores[len(scores) // 4], scores[(3 * len(scores)) // 4]
                ordered = [r for r in ordered if lo <= _score(rows[r][score]) <= hi]
                args += ([hi, lo] if desc else [lo, hi]) + ["BYSCORE"]
                args += ["REV"] if desc else []
                if plan.get("limit"):
                    args += ["LIMIT", 0, plan["limit"]]
            else:
                args += [0, (plan.get("limit") or 0) - 1] + (["REV"] if desc else [])
            match = ordered[: plan["limit"]] if plan.get("limit") else ordered
            got = [m.decode() for m in self.engine.command(*args)]
        elif op == "stream":
            ordered = sorted(match, key=lambda r: (int(rows[r]["created_at"]), _seq(r)),
                             reverse=plan["desc"])
            match = ordered[: plan["limit"]] if plan.get("limit") else ordered
            cmd = ["XREVRANGE", ix, "+", "-"] if plan["desc"] else ["XRANGE", ix, "-", "+"]
            if plan.get("limit"):
                cmd += ["COUNT", plan["limit"]]
            entries = [{k.decode(): v.decode() for k, v in fields.items()}
                       for _, fields in self.engine.command(*cmd)]
            got = [e.pop("id") for e in entries]
            same = got == match and all(e == rows[r] for e, r in zip(entries, got, strict=True))
            self.check(name, same, f"{' / '.join(plan['commands'])} with "
                                   f"{', '.join(f'{k}={v}' for k, v in values.items())}: "
                                   f"{len(got)} entries, expected {len(match)}, newest first"
                                   + ("" if same else f"; got {got[:5]}, expected {match[:5]}"))
            return
        elif op == "pfcount":
            window = self._window(probe, plan.get("window"))
            counted = plan.get("counted") or "id"
            exact = len({rows[r].get(counted, r) for r in match
                         if self._window(rows[r], plan.get("window")) == window})
            got_n = int(self.engine.command("PFCOUNT", ix))
            err = abs(got_n - exact) / max(exact, 1)
            tol = 3 * self.data["hyperloglog"]["std_error"]
            self.check(name, err <= tol, f"PFCOUNT {plan['index']}: {got_n}, exact {exact} "
                                         f"(error {err:.2%}, allowed {tol:.2%}: 3 standard errors)")
            return
        else:
            return
        fetched = [self.fetch(rec, r, project) for r in got]
        same = got == match and all(f == self.expected(rec, r, project)
                                    for f, r in zip(fetched, got, strict=True))
        shown = ", ".join(f"{k}={v}" for k, v in values.items()) or "all"
        self.check(name, same, f"{' / '.join(plan['commands'])} with {shown}: "
                               f"{len(got)} records, expected {len(match)}"
                               + ("" if same else f"; got {got[:5]}, expected {match[:5]}"))

    def run_write(self, plan: dict[str, Any]) -> None:
        name = f"pattern {plan['pattern']}"
        if not plan["entities"]:
            return
        details = []
        ok = True
        for entity in plan["entities"]:
            rec = next(r for r in self.model["entities"] if r["entity"] == entity)
            rows = self.records[entity]
            rid = next(iter(rows))
            if plan["operation"] == "delete":
                cmds = [["DEL", self.engine.key(key_name(rec["key"], {"id": rid}))]]
                self.engine.pipeline(cmds, transaction=True)
                gone = self.fetch(rec, rid) is None
                ok &= gone
                details.append(f"{entity} {rid} deleted: {'gone' if gone else 'still there'}")
                rows.pop(rid)
                continue
            if plan["operation"] == "insert":
                ok &= self._insert(rec, details)
                continue
            row = dict(rows[rid])
            row["updated_at"] = str(int(row["updated_at"]) + 1000)
            changed = next((f["name"] for f in rec["fields"] if f["type"] in ("json", "text",
                            "string", "map")), None)
            if changed:
                row[changed] = row[changed][:-1] + ("x" if row[changed][-1] != "x" else "y")
            self.engine.pipeline(self.write_commands(rec, rid, row), transaction=True)
            rows[rid] = row
            back = self.fetch(rec, rid)
            ttl = rec["ttl"]
            left = self.engine.command("TTL", self.engine.key(key_name(rec["key"], {"id": rid})))
            fine = back == row and (not ttl or ttl - 5 <= left <= ttl)
            ok &= fine
            details.append(f"{entity} {rid} rewritten and read back "
                           f"{'equal' if back == row else 'DIFFERENT'}"
                           + (f", TTL reset to {left} s of {ttl}" if ttl else ""))
        self.check(name, ok, f"{' / '.join(plan['commands'])}: " + "; ".join(details))

    def _insert(self, rec: dict[str, Any], details: list[str]) -> bool:
        """Insert a new record and find it where the reads look: its record key, or first in
        its stream."""
        rows = self.records[rec["entity"]]
        i = self.n + len(rows) + 1
        rid = sample_id(i, rec["id_chars"])
        row = sample_record([Field_(**f) for f in rec["fields"]], i)
        self.engine.pipeline(self.write_commands(rec, rid, row), transaction=True)
        rows[rid] = row
        if rec["structure"] != "stream":
            back = self.fetch(rec, rid) == row
        else:
            k = next(k for k in self._keys_of(rec["entity"]) if k["role"] == "stream")
            key = self.engine.key(key_name(k["pattern"], {f: row[f] for f in k["fields"]}))
            top = self.engine.command("XREVRANGE", key, "+", "-", "COUNT", 1)
            back = bool(top) and top[0][1].get(b"id") == rid.encode()
        details.append(f"{rec['entity']} {rid} inserted and read back "
                       f"{'equal' if back else 'DIFFERENT'}")
        return back

    # -- TTLs and memory -------------------------------------------------------------------
    def sample_key(self, k: dict[str, Any]) -> tuple[str, dict[str, str], str] | None:
        rec = next(r for r in self.model["entities"] if r["entity"] == k["entity"])
        rows = self.records[k["entity"]]
        if not rows:
            return None
        rid = list(rows)[-1]
        row = rows[rid]
        values = {"id": rid, **{f: row[f] for f in k.get("fields", [])},
                  "window": self._window(row, k.get("window"))}
        del rec
        return self.engine.key(key_name(k["pattern"], values)), row, rid

    def check_ttls(self) -> None:
        for k in self.model["keys"]:
            found = self.sample_key(k)
            if found is None:
                continue
            key = found[0]
            left = int(self.engine.command("TTL", key))
            if k["ttl"]:
                ok = 0 < left <= k["ttl"]
                detail = f"TTL {left} s (designed {k['ttl']} s)"
            else:
                ok = left == -1
                detail = "no TTL, as designed" if ok else f"TTL {left}, designed none"
            self.check(f"ttl {k['pattern']}", ok, detail)

    def estimate(self, k: dict[str, Any], key: str, row: dict[str, str], rid: str
                 ) -> tuple[int, str]:
        """The memory model's bytes for this very key, from its actual contents."""
        data = self.data
        role = k["role"]
        rec = next(r for r in self.model["entities"] if r["entity"] == k["entity"])
        if role == "record" and k["type"] == "string":
            value = string_value_bytes(len(record_json(row).encode()), data)
            enc = "embstr" if len(record_json(row)) <= data["encodings"]["embstr_max"] else "raw"
            return key_overhead(len(key), data) + value, enc
        if role == "record":
            v, enc = hash_value_bytes([(f, x) for f, x in row.items() if f not in rec["split"]],
                                      data)
            return key_overhead(len(key), data) + v, enc
        if role == "field":
            name = k["pattern"].rsplit(":", 1)[1]
            enc = "embstr" if len(row[name]) <= data["encodings"]["embstr_max"] else "raw"
            return key_overhead(len(key), data) + string_value_bytes(len(row[name]), data), enc
        if role == "lookup":
            integer = rid.isdigit() and len(rid) < 19
            value = string_value_bytes(len(rid), data, integer=integer)
            return key_overhead(len(key), data) + value, "int" if integer else "embstr"
        count = self.engine.command({"set": "SCARD", "zset": "ZCARD", "stream": "XLEN",
                                     "hll": "STRLEN"}[role], key)
        if role == "set":
            v, enc = set_value_bytes(int(count), len(rid), rid.isdigit(), data)
        elif role == "zset":
            v, enc = zset_value_bytes(int(count), rid, row[k["score"]], data)
        elif role == "stream":
            entry = sum(listpack_entry(f) + listpack_entry(x)
                        for f, x in {"id": rid, **row}.items())
            v, enc = stream_value_bytes(int(count), entry, data)
        else:
            v, enc = hll_value_bytes(data)
            if int(count) < data["hyperloglog"]["dense_bytes"]:
                v, enc = string_value_bytes(int(count), data), "raw"
        return key_overhead(len(key), data) + v, enc

    def check_memory(self) -> None:
        tol = self.data["verify_tolerance"]
        for k in self.model["keys"]:
            found = self.sample_key(k)
            if found is None:
                continue
            key, row, rid = found
            measured = self.engine.memory_usage(key)
            est, enc = self.estimate(k, key, row, rid)
            actual_enc = self.engine.encoding(key)
            allowed = (tol["approximate"] if actual_enc in tol["approximate_encodings"]
                       else tol["exact"])
            miss = abs(measured - est) / max(measured, 1)
            self.check(f"memory {k['pattern']}", miss <= allowed,
                       f"MEMORY USAGE {measured} B, estimated {est} B for the same key "
                       f"({miss:.1%} off, allowed {allowed:.0%}); encoding {actual_enc} "
                       f"(model: {enc}); the design's estimate is {k['bytes_per_key']} B a key"
                       + (f" of ~{k['members_per_key']} members" if k.get("members_per_key", 1) > 1
                          else "") + " (names without the run's prefix)")

    def check_full_size(self) -> None:
        """A set or sorted set at the design's size (up to `verify_full_size_members`), so the
        hashtable and skiplist models are measured too, not only the samples' small keys."""
        data = self.data
        cap = int(data["verify_full_size_members"])
        tol = data["verify_tolerance"]
        for k in self.model["keys"]:
            members = min(int(k.get("members_per_key", 1)), cap)
            if k["role"] not in ("set", "zset") or members <= len(self.records[k["entity"]]):
                continue
            rec = next(r for r in self.model["entities"] if r["entity"] == k["entity"])
            ids = [sample_id(i, rec["id_chars"]) for i in range(members)]
            key = self.engine.key(k["example"] + ":full")
            score = sample_record([Field_(**f) for f in rec["fields"]], 0).get(k["score"] or "",
                                                                                "1")
            if k["role"] == "zset":
                self.engine.command("ZADD", key, *[x for r in ids for x in (score, r)])
                est, enc = zset_value_bytes(members, ids[0], score, data)
            else:
                self.engine.command("SADD", key, *ids)
                est, enc = set_value_bytes(members, len(ids[0]), ids[0].isdigit(), data)
            est += key_overhead(len(key), data)
            measured = self.engine.memory_usage(key)
            actual = self.engine.encoding(key)
            allowed = (tol["approximate"] if actual in tol["approximate_encodings"]
                       else tol["exact"])
            miss = abs(measured - est) / max(measured, 1)
            self.check(f"memory {k['pattern']} at {members:,} members",
                       miss <= allowed and actual == enc,
                       f"MEMORY USAGE {measured} B, estimated {est} B ({miss:.1%} off, allowed "
                       f"{allowed:.0%}); encoding {actual} (model: {enc})")

    def check_encodings(self) -> str:
        """Server thresholds that differ from the data file's defaults, said in the note."""
        enc = self.model["encodings"]
        wanted = {"hash-max-listpack-entries": enc["hash"]["entries"],
                  "hash-max-listpack-value": enc["hash"]["value"],
                  "zset-max-listpack-entries": enc["zset"]["entries"],
                  "zset-max-listpack-value": enc["zset"]["value"],
                  "set-max-intset-entries": enc["set_intset_entries"]}
        diffs = []
        for name, value in wanted.items():
            got = self.engine.config(name)
            if got is not None and int(got) != int(value):
                diffs.append(f"{name} {got} (design assumes the default {value})")
        return ("server settings differ from Redis's defaults: " + ", ".join(diffs)) if diffs \
            else ""


def verify_part(part: PartDesign, url: str | None) -> PartCheck:
    """Write the designed keys on the Redis at `url`, run every access pattern, check TTLs and
    MEMORY USAGE against the estimate; every key written is deleted at the end."""
    from dbarch.engines.redis import connect

    result = PartCheck(part=part.part, paradigm=part.paradigm, url=None, ran=False)
    if url is None:
        result.note = "not verified: give a Redis URL (redis://…) with --engine"
        return result
    try:
        engine = connect(url)
    except EngineError as exc:
        result.error = str(exc)
        result.note = "Redis did not answer"
        return result
    result.url = engine.safe_url
    result.ran = True
    try:
        result.engine = engine.version()
        run = _Run(part, engine)
        notes = [f"keys written under the prefix {engine.prefix} and deleted afterwards"]
        if diff := run.check_encodings():
            notes.append(diff)
        run.write_samples()
        for plan in part.model["patterns"]:
            if plan["kind"] == "write":
                continue
            if plan.get("op") == "unserved":
                notes.append(f"{plan['pattern']} not run: {plan['why']} (see the findings)")
                continue
            run.run_read(plan)
        run.check_ttls()
        run.check_memory()
        run.check_full_size()
        for plan in part.model["patterns"]:
            if plan["kind"] == "write":
                run.run_write(plan)
        result.checks = run.checks
        result.note = "; ".join(notes)
    except EngineError as exc:
        result.error = str(exc)
    finally:
        try:
            engine.close()
        except EngineError as exc:
            result.error = result.error or f"keys under {engine.prefix} may be left: {exc}"
    return result
