"""MongoDB adapter: create collections with validators and indexes in a scratch database,
insert documents, explain finds. Used only when the user gives a mongodb:// URL.

No MongoDB server can be installed where dbarch is developed and tested, so this path is
written against the driver's documented API (pymongo 4) but NOT exercised by dbarch's tests;
the document part is otherwise verified offline (validators as JSON Schema).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from dbarch.errors import EngineError

# Error code of a write refused by the collection's validator.
# https://www.mongodb.com/docs/manual/reference/error-codes/ (121 DocumentValidationFailure)
DOCUMENT_VALIDATION_FAILURE = 121


class MongoEngine:
    """A connection to one MongoDB server and a scratch database dropped on close."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        try:
            from pymongo import MongoClient
            from pymongo.errors import PyMongoError
        except ImportError as e:   # pragma: no cover - pymongo is a dependency
            raise EngineError(f"pymongo is needed for {url}: pip install pymongo") from e
        self._errors = PyMongoError
        self.url = url
        try:
            self.client: Any = MongoClient(url, serverSelectionTimeoutMS=int(timeout * 1000))
            self.version = str(self.client.server_info()["version"])
        except PyMongoError as e:
            raise EngineError(f"cannot connect to {url}: {e}") from e
        # A fresh database per run: verification never touches the user's collections.
        self.db = self.client[f"dbarch_verify_{secrets.token_hex(4)}"]

    def __enter__(self) -> MongoEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the scratch database and disconnect."""
        try:
            self.client.drop_database(self.db.name)
        finally:
            self.client.close()

    def create_collection(self, name: str, validator: dict[str, Any]) -> str | None:
        """Create `name` with `validator`; the server's error message, or None."""
        try:
            self.db.create_collection(name, validator=validator, validationLevel="strict",
                                      validationAction="error")
        except self._errors as e:
            return str(e)
        return None

    def create_index(self, collection: str, keys: list[list[Any]],
                     options: dict[str, Any]) -> str | None:
        """Create one index; the server's error message, or None."""
        try:
            self.db[collection].create_index([(k, v) for k, v in keys], **options)
        except self._errors as e:
            return str(e)
        return None

    def insert(self, collection: str, document: dict[str, Any]) -> tuple[int | None, str]:
        """Insert one document: (None, "") when stored, else (error code, message)."""
        try:
            self.db[collection].insert_one(dict(document))
        except self._errors as e:
            return int(getattr(e, "code", None) or -1), str(e)
        return None, ""

    def find(self, collection: str, flt: dict[str, Any], sort: list[list[Any]],
             limit: int | None) -> tuple[int, list[str], list[str]]:
        """Run a find: (documents returned, index names and stages in the winning plan)."""
        cursor = self.db[collection].find(flt)
        if sort:
            cursor = cursor.sort([(k, v) for k, v in sort])
        if limit:
            cursor = cursor.limit(limit)
        returned = len(list(cursor.clone()))
        plan = cursor.explain().get("queryPlanner", {}).get("winningPlan", {})
        indexes, stages = [], []
        for node in _walk(plan):
            if "stage" in node:
                stages.append(str(node["stage"]))
            if "indexName" in node:
                indexes.append(str(node["indexName"]))
        return returned, indexes, stages


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every stage of an explain plan (inputStage, inputStages, queryPlan)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
