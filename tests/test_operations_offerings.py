"""Section 7 names the backup, recovery and failover of the service the design runs on.

A managed service (Amazon RDS, Cloud SQL, ElastiCache) has no shell, archive_command or
pg_hba.conf, so the self-hosted tooling (Patroni, pgBackRest, orchestrator, Sentinel) must not
be prescribed for it, and its failover time must be the service's.
"""

from __future__ import annotations

import pytest

from dbarch.design.operations import operations_plan, product_ops
from dbarch.design.scaling import capacity_model
from dbarch.select.model import Decisions
from tests.test_report_fixtures import shop_decisions, shop_schema, shop_spec

SELF_HOSTED_TOOLS = ("Patroni", "pgBackRest", "archive_mode", "orchestrator", "XtraBackup",
                     "Sentinel", "appendonly yes", "pg_hba.conf")

# (product, offering, words its HA and recovery must name, failover seconds)
OFFERINGS = [
    ("postgresql", "Amazon RDS for PostgreSQL", ("Multi-AZ", "LatestRestorableTime"), 120),
    ("postgresql", "Amazon Aurora PostgreSQL", ("Aurora Replica", "restore-db-cluster"), 30),
    ("postgresql", "Cloud SQL for PostgreSQL", ("regional", "point-in-time recovery"), 60),
    ("postgresql", "Azure Database for PostgreSQL flexible server",
     ("zone-redundant", "point-in-time restore"), 120),
    ("mysql", "Amazon RDS for MySQL", ("Multi-AZ", "binary logs"), 120),
    ("mariadb", "Amazon RDS for MariaDB", ("Multi-AZ", "binary logs"), 120),
    ("mysql", "Cloud SQL for MySQL", ("regional", "binary logs"), 60),
    ("redis", "Amazon ElastiCache (Valkey or Redis OSS)", ("Multi-AZ", "snapshot"), 60),
]


@pytest.mark.parametrize(("product", "offering", "words", "failover"), OFFERINGS)
def test_a_managed_offering_replaces_the_self_hosted_tooling(
    product: str, offering: str, words: tuple[str, ...], failover: int
) -> None:
    ops = product_ops(product, offering)
    text = " ".join([ops["backup"], ops["pitr"], ops["ha"], *ops["security"].values()])
    assert [t for t in SELF_HOSTED_TOOLS if t in text] == []
    assert [w for w in words if w not in text] == []
    assert ops["failover_seconds"] == failover
    # Keys the offering does not name stay the product's.
    assert ops["monitoring"] == product_ops(product)["monitoring"]
    assert ops["security"]["column"] == product_ops(product)["security"]["column"]


# (offering of core, offering of sessions, tool core's HA names, tool sessions' HA names)
PLANS = [
    ("", "", "Patroni", "Sentinel"),
    ("Amazon RDS for PostgreSQL", "Amazon ElastiCache (Valkey or Redis OSS)",
     "Multi-AZ DB instance", "Multi-AZ with automatic failover"),
]


@pytest.mark.parametrize(("core_offering", "sessions_offering", "core_ha", "sessions_ha"), PLANS)
def test_the_operations_plan_follows_each_part_s_offering(
    core_offering: str, sessions_offering: str, core_ha: str, sessions_ha: str
) -> None:
    base = shop_decisions()
    offering = {"core": core_offering, "sessions": sessions_offering}
    decisions = Decisions(system=base.system, parts=[
        d.model_copy(update={"offering": offering.get(d.part, "")}) for d in base.parts])
    model = capacity_model(shop_spec(), decisions, shop_schema())
    plan = operations_plan(shop_spec(), decisions, model, shop_schema())
    ha = {b.part: b.ha for b in plan.backups}
    assert core_ha in ha["core"] and sessions_ha in ha["sessions"]


AWS_ONLY = ("CloudWatch", "SSE-KMS", "aws:", "IAM policies", "CloudTrail", "Object Lock")

# (offering, words its backup, monitoring and security must name)
OBJECT_STORES = [
    ("Google Cloud Storage (S3-compatible XML API)", ("Object Versioning", "Cloud Monitoring",
                                                      "CMEK", "signed URLs")),
    ("Azure Blob Storage", ("versioning", "Azure Monitor", "Key Vault", "SAS")),
]


@pytest.mark.parametrize(("offering", "words"), OBJECT_STORES)
def test_an_object_store_off_aws_names_its_own_cloud_s_tools(
    offering: str, words: tuple[str, ...]
) -> None:
    ops = product_ops("s3", offering)
    text = " ".join([ops["backup"], ops["pitr"], ops["ha"], *ops["security"].values(),
                     *ops["maintenance"],
                     *(f"{m['metric']} {m['alert']}" for m in ops["monitoring"])])
    assert [t for t in AWS_ONLY if t in text] == []
    assert [w for w in words if w not in text] == []
    # Amazon S3 itself keeps the AWS wording.
    assert "CloudWatch" in product_ops("s3", "Amazon S3")["monitoring"][0]["metric"]


def test_the_shop_document_does_not_rely_on_an_aof_elasticache_lacks() -> None:
    from datetime import date
    from pathlib import Path

    from dbarch import api
    from dbarch.report import write_documents

    design = api.plan(Path(__file__).parent.parent / "examples" / "shop.yaml")
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    text = docs["ARCHITECTURE.md"]
    assert "ElastiCache offers no AOF" in text   # section 7, sessions backup
    # Section 2's trade-off may not then count on AOF fsync for the sessions part.
    assert "replication and AOF fsync are asynchronous" not in text
    assert "appendonly yes" not in text


# (core offering, RPO in the spec, whether section 7 flags the point-in-time gap)
PITR_GAPS = [
    ("Amazon RDS for PostgreSQL", "1min", True),    # RDS restores to within 5 min
    ("Amazon RDS for PostgreSQL", "5min", False),
    ("Amazon RDS for PostgreSQL", "1h", False),
    ("", "1min", False),                            # self-hosted: archive_timeout = 60s
]


@pytest.mark.parametrize(("offering", "rpo", "flagged"), PITR_GAPS)
def test_a_point_in_time_restore_slower_than_the_rpo_is_flagged(
    offering: str, rpo: str, flagged: bool
) -> None:
    from datetime import date

    from dbarch.report import write_documents
    from dbarch.spec.model import Spec
    from tests.test_report_fixtures import SHOP

    spec = Spec.model_validate({**SHOP, "scale": {**SHOP.get("scale", {}), "rpo": rpo,
                                                  "availability": 99.95}})
    base = shop_decisions()
    decisions = Decisions(system=base.system, parts=[
        d.model_copy(update={"offering": offering if d.part == "core" else ""})
        for d in base.parts])
    docs = write_documents(spec, decisions, shop_schema(), None, {"postgresql": "SELECT 1;\n"},
                           today=date(2026, 11, 25))
    note = "core: a point-in-time restore can lose up to 5min of commits, **over** the RPO"
    assert (note in docs["ARCHITECTURE.md"]) == flagged
