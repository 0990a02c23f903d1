"""DynamoDB adapter: a boto3 client on an endpoint, or on a moto server it starts itself.

URLs:
- `dynamodb://local`: start moto's DynamoDB in server mode (`ThreadedMotoServer`) on a free
  loopback port for the life of the adapter, and stop it on `close()`. This is how dbarch
  verifies DynamoDB designs by default: moto speaks the DynamoDB wire API (CreateTable, GSIs,
  Query, TTL) over HTTP, so the same calls would run on AWS.
- `dynamodb://HOST:PORT` or `dynamodb+http://HOST:PORT`: an emulator already listening there
  (moto server, DynamoDB Local); `dynamodb+https://…` for TLS.

Real AWS endpoints are not supported by this adapter: verification creates and deletes a
table, which is not something to do to a production account by default.
Everything the adapter creates is one table, deleted by `close()` unless asked to keep it.
"""

from __future__ import annotations

import logging
import socket
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from dbarch.errors import EngineError

REGION = "us-east-1"
# Emulators accept any credentials; real ones never come from here.
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "dbarch", "aws_secret_access_key": "dbarch"}
_BATCH = 25   # BatchWriteItem takes at most 25 puts per call


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DynamoDBEngine:
    """One DynamoDB endpoint (started here for `dynamodb://local`), one table at a time."""

    def __init__(self, url: str, *, keep: bool = False, timeout: float = 10.0) -> None:
        import boto3
        from botocore.config import Config

        self.url = url
        self.keep = keep
        self._server: Any = None
        self._tables: list[str] = []
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme != "dynamodb" and not scheme.startswith("dynamodb+"):
            raise EngineError(f"{url}: not a dynamodb:// URL")
        if parts.hostname in (None, "", "local") and not parts.port:
            self.endpoint = self._start_moto()
            self.kind = "moto"
        else:
            proto = scheme.split("+", 1)[1] if "+" in scheme else "http"
            self.endpoint = f"{proto}://{parts.hostname}:{parts.port or 8000}"
            self.kind = "endpoint"
        try:
            self.client = boto3.client(
                "dynamodb", endpoint_url=self.endpoint, region_name=REGION,
                config=Config(connect_timeout=timeout, read_timeout=timeout,
                              retries={"max_attempts": 2}),
                **_EMULATOR_CREDENTIALS)
            self.client.list_tables(Limit=1)
        except Exception as exc:
            self.close()
            raise EngineError(f"{url}: DynamoDB endpoint {self.endpoint} does not answer: "
                              f"{exc}") from exc

    def _start_moto(self) -> str:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise EngineError("dynamodb://local needs moto's server mode: "
                              "pip install 'moto[server,dynamodb]'") from exc
        # moto serves through werkzeug, which logs every request to stderr even with
        # verbose=False: keep verification output to what dbarch reports.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        return f"http://127.0.0.1:{port}"

    @property
    def version(self) -> str:
        """What answered: moto's version when it runs here, else the endpoint."""
        if self.kind == "moto":
            import moto

            return f"moto {moto.__version__} (DynamoDB API, server mode)"
        return f"DynamoDB API at {self.endpoint}"

    # ----- tables

    def create_table(self, definition: dict[str, Any], wait: float = 30.0) -> dict[str, Any]:
        """Create the table (a create-table input) and wait until it and its GSIs are ACTIVE."""
        try:
            self.client.create_table(**definition)
            self._tables.append(definition["TableName"])
            deadline = time.monotonic() + wait
            while True:
                desc: dict[str, Any] = self.client.describe_table(
                    TableName=definition["TableName"])["Table"]
                gsis = desc.get("GlobalSecondaryIndexes", [])
                if desc["TableStatus"] == "ACTIVE" and all(
                        g.get("IndexStatus", "ACTIVE") == "ACTIVE" for g in gsis):
                    return desc
                if time.monotonic() > deadline:
                    raise EngineError(f"table {definition['TableName']} not ACTIVE after "
                                      f"{wait:g} s")
                time.sleep(0.2)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"create-table {definition.get('TableName')}: {exc}") from exc

    def enable_ttl(self, table: str, attribute: str) -> str:
        """Turn on TTL on `attribute`; returns the status DynamoDB reports back."""
        try:
            self.client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})
            desc = self.client.describe_time_to_live(TableName=table)
            return str(desc["TimeToLiveDescription"].get("TimeToLiveStatus", ""))
        except Exception as exc:
            raise EngineError(f"update-time-to-live {table}: {exc}") from exc

    def put_items(self, table: str, items: list[dict[str, Any]]) -> int:
        """Write `items` (plain Python values) with BatchWriteItem; returns how many."""
        from boto3.dynamodb.types import TypeSerializer

        ser = TypeSerializer()
        try:
            for i in range(0, len(items), _BATCH):
                requests = [{"PutRequest": {"Item": {k: ser.serialize(v) for k, v in it.items()}}}
                            for it in items[i:i + _BATCH]]
                pending: dict[str, Any] = {table: requests}
                while pending:
                    out = self.client.batch_write_item(RequestItems=pending)
                    pending = out.get("UnprocessedItems") or {}
        except Exception as exc:
            raise EngineError(f"batch-write-item {table}: {exc}") from exc
        return len(items)

    def query(self, request: dict[str, Any], want: int | None = None) -> list[dict[str, Any]]:
        """Run one Query (values as plain Python), following pages until `want` items or the
        end; returns the items as plain Python values. There is no scan method, on purpose."""
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        ser, de = TypeSerializer(), TypeDeserializer()
        req = dict(request)
        if "ExpressionAttributeValues" in req:
            req["ExpressionAttributeValues"] = {
                k: ser.serialize(v) for k, v in req["ExpressionAttributeValues"].items()}
        items: list[dict[str, Any]] = []
        try:
            while True:
                out = self.client.query(**req)
                items += [{k: de.deserialize(v) for k, v in it.items()} for it in out["Items"]]
                last = out.get("LastEvaluatedKey")
                if not last or (want is not None and len(items) >= want):
                    return items
                req["ExclusiveStartKey"] = last
        except Exception as exc:
            raise EngineError(f"query {request.get('TableName')}: {exc}") from exc

    def delete_table(self, table: str) -> None:
        """Drop a table this adapter created."""
        try:
            self.client.delete_table(TableName=table)
        except Exception as exc:
            raise EngineError(f"delete-table {table}: {exc}") from exc
        if table in self._tables:
            self._tables.remove(table)

    # ----- life cycle

    def close(self) -> None:
        """Delete the tables created here (unless kept) and stop a server started here."""
        try:
            if not self.keep and getattr(self, "client", None) is not None:
                for table in list(self._tables):
                    self.delete_table(table)
        finally:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
