"""CKV_STG_KMS_2: every at-rest encryption setting of every resource uses the stack's customer-managed key.

Python because which properties hold a key differs per type and some apply only when a
feature is on (Performance Insights, a managed master secret, Lambda environment
variables). Which types take a key at all is read from CloudFormation's own provider
schemas (``policies/lib/cfn_types.json``, generated from cfn-lint's copy), so a resource of a
type added later is never silently out of scope: a type with key properties but no
reviewed rule below is NOT EVALUATED until someone reviews it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_KMS_2",
    "name": "Every at-rest encryption setting uses the stack's customer-managed KMS key",
    "category": "ENCRYPTION",
    "severity": "HIGH",
    "rationale": (
        "The stack encrypts data at rest with one customer-managed key whose policy the team reviews and rotates "
        "(CKV_STG_KMS_1); crypto-shredding on teardown depends on it. A missing key property means the AWS "
        "managed default key (aws/rds, aws/logs, aws/sns...), whose policy nobody here controls; another key "
        "means data the stack's key policy does not govern. Feature-level settings count: Performance Insights, "
        "the RDS-managed master secret and Lambda environment variables hold data too. Every resource type "
        "whose CloudFormation schema takes a KMS key is judged; one without a reviewed rule here is not evaluated."
    ),
    "requirements": ["REQ-SEC-03", "REQ-CON-04", "REQ-TECH-05"],
    "remediation": (
        "Pass the stack's kms.Key (infra/domains/encryption.py) to every construct that stores data: "
        "storage_encryption_key, performance_insight_encryption_key, encryption_key, master_key, ... For a new "
        "resource type, add a reviewed rule to policies/checks/encryption/ckv_stg_kms_2_stack_key_everywhere.py."
    ),
    "resource_types": ["*"],
}

KEY_TYPES = lib.KEY_TYPES

Props = Mapping[str, Any]


@dataclass(frozen=True)
class KeyUse:
    """A key property and when the data it protects exists (``needed`` False/None: not needed/unknown)."""

    path: str
    needed: Callable[[Props], bool | None] = lambda props: True
    why: str = ""


@dataclass(frozen=True)
class NotAtRest:
    """A key property the schema lists that protects no data of this stack at rest, and why."""

    path: str
    why: str


def _on(flag: str) -> Callable[[Props], bool | None]:
    return lambda props: lib.truth(props.get(flag)) if flag in props else False


def _present(key: str) -> Callable[[Props], bool | None]:
    return lambda props: key in props


def _has_environment(props: Props) -> bool | None:
    environment = props.get("Environment", cfn.NO_VALUE)
    variables = environment.get("Variables", cfn.NO_VALUE) if isinstance(environment, Mapping) else environment
    if variables is cfn.NO_VALUE:
        return False
    return None if isinstance(variables, cfn.Unknown) else bool(variables)


def _not_cluster_member(props: Props) -> bool | None:
    return "DBClusterIdentifier" not in props


# Reviewed rules, per type. Every key property the schema lists for a reviewed type is either a
# KeyUse or a NotAtRest entry (tests/policies/test_key_rules.py keeps that true).
REVIEWED: Mapping[str, tuple[KeyUse | NotAtRest, ...]] = {
    "AWS::RDS::DBInstance": (
        KeyUse("KmsKeyId", _not_cluster_member, "storage (an instance of a cluster uses the cluster's key)"),
        KeyUse("PerformanceInsightsKMSKeyId", _on("EnablePerformanceInsights"), "Performance Insights"),
        KeyUse("MasterUserSecret.KmsKeyId", _on("ManageMasterUserPassword"), "the RDS-managed master secret"),
        KeyUse(
            "AutomaticBackupReplicationKmsKeyId", _present("AutomaticBackupReplicationRegion"), "replicated backups"
        ),
    ),
    "AWS::RDS::DBCluster": (
        KeyUse("KmsKeyId", why="storage"),
        KeyUse("PerformanceInsightsKmsKeyId", _on("PerformanceInsightsEnabled"), "Performance Insights"),
        KeyUse("MasterUserSecret.KmsKeyId", _on("ManageMasterUserPassword"), "the RDS-managed master secret"),
    ),
    "AWS::Logs::LogGroup": (KeyUse("KmsKeyId", why="log events"),),
    "AWS::SNS::Topic": (KeyUse("KmsMasterKeyId", why="messages"),),
    "AWS::SQS::Queue": (KeyUse("KmsMasterKeyId", why="messages"),),
    "AWS::SecretsManager::Secret": (
        KeyUse("KmsKeyId", why="the secret value"),
        KeyUse("ReplicaRegions.*.KmsKeyId", why="replicas of the secret"),
    ),
    "AWS::S3::Bucket": (
        KeyUse(
            "BucketEncryption.ServerSideEncryptionConfiguration.*.ServerSideEncryptionByDefault.KMSMasterKeyID",
            why="objects",
        ),
        KeyUse(
            "ReplicationConfiguration.Rules.*.Destination.EncryptionConfiguration.ReplicaKmsKeyID",
            _present("ReplicationConfiguration"),
            "replicated objects",
        ),
        KeyUse(
            "MetadataConfiguration.AnnotationTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            _present("MetadataConfiguration"),
            "metadata tables",
        ),
        KeyUse(
            "MetadataConfiguration.InventoryTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            _present("MetadataConfiguration"),
            "metadata tables",
        ),
        KeyUse(
            "MetadataConfiguration.JournalTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            _present("MetadataConfiguration"),
            "metadata tables",
        ),
    ),
    "AWS::DynamoDB::Table": (KeyUse("SSESpecification.KMSMasterKeyId", why="items"),),
    "AWS::Lambda::Function": (
        KeyUse("KmsKeyArn", _has_environment, "environment variables"),
        KeyUse("DurableConfig.KMSKeyArn", _present("DurableConfig"), "durable execution state"),
        NotAtRest("Code.SourceKMSKeyArn", "encrypts the deployment package in the asset bucket, not stack data"),
    ),
    "AWS::EC2::Volume": (KeyUse("KmsKeyId", why="the volume"),),
    "AWS::Kinesis::Stream": (KeyUse("StreamEncryption.KeyId", why="records"),),
    "AWS::EFS::FileSystem": (
        KeyUse("KmsKeyId", why="files"),
        KeyUse("ReplicationConfiguration.Destinations.*.KmsKeyId", _present("ReplicationConfiguration"), "replicas"),
    ),
    "AWS::Backup::BackupVault": (KeyUse("EncryptionKeyArn", why="recovery points"),),
    "AWS::DMS::ReplicationInstance": (KeyUse("KmsKeyId", why="replication storage"),),
    "AWS::CloudTrail::Trail": (KeyUse("KMSKeyId", why="log files"),),
    "AWS::ECR::Repository": (KeyUse("EncryptionConfiguration.KmsKey", why="images"),),
}
# Flags that must be on before any key matters (off = unencrypted, whatever the key says).
ENCRYPTION_FLAGS: Mapping[str, tuple[str, bool]] = {
    "AWS::RDS::DBInstance": ("StorageEncrypted", True),
    "AWS::RDS::DBCluster": ("StorageEncrypted", True),
    "AWS::EC2::Volume": ("Encrypted", True),
    "AWS::EFS::FileSystem": ("Encrypted", True),
    "AWS::DynamoDB::Table": ("SSESpecification.SSEEnabled", True),
    "AWS::SQS::Queue": ("SqsManagedSseEnabled", False),
}


def values_at(value: Any, path: list[str], where: str = "") -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a dotted path whose ``*`` segments range over list items."""
    if not path:
        yield where, value
        return
    head, rest = path[0], path[1:]
    if isinstance(value, cfn.Unknown):
        yield where, value
    elif head == "*":
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from values_at(item, rest, f"{where}.{index}" if where else str(index))
    elif isinstance(value, Mapping):
        yield from values_at(value.get(head, cfn.NO_VALUE), rest, f"{where}.{head}" if where else head)
    else:
        yield (f"{where}.{head}" if where else head), cfn.NO_VALUE


DATABASE_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")


@dataclass(frozen=True)
class StackKeys:
    """What "the stack's key" means in one template: with one key, that key; with several, the one
    the database is encrypted with (a second key elsewhere is data its key policy does not govern)."""

    count: int  # KMS keys the template defines
    database: frozenset[str]  # logical ids of the keys its databases use

    @classmethod
    def of(cls, ctx: lib.Context) -> StackKeys:
        keys = ctx.of_type(*KEY_TYPES)
        if len(keys) < 2:
            return cls(count=len(keys), database=frozenset())
        used = {lib.stack_key_id(ctx, ctx.value(db, "KmsKeyId")) for db in ctx.of_type(*DATABASE_TYPES)}
        return cls(count=len(keys), database=frozenset(k for k in used if k is not None))

    def judge(self, key: cfn.Symbol, where: str) -> lib.Verdict:
        """A customer-managed key of the stack: with several in the template, it must be the database's."""
        if self.count < 2 or key.origin != "this":
            return lib.passed()
        if len(self.database) != 1:
            return lib.not_evaluated(
                f"{where}: the template defines {self.count} KMS keys and no single one encrypts the database, "
                "so which is the stack's key cannot be told"
            )
        (stack_key,) = self.database
        if key.name != stack_key:
            return lib.failed(f"{where} uses key {key.name}, not the stack's key {stack_key} (the database's)")
        return lib.passed()


def judge_key(ctx: lib.Context, value: Any, where: str, why: str, *, stack_keys: StackKeys) -> lib.Verdict:
    if value is cfn.NO_VALUE:
        return lib.failed(f"{where} is not set: {why} use the AWS managed default key, not the stack's key")
    key = lib.named_key(ctx, value)
    if isinstance(key, cfn.Unknown):
        return lib.unknown_in(value, where) or lib.not_evaluated(f"{where} is not determined by the template")
    if key is None:
        return lib.failed(f"{where} is {lib.describe(value)}, not the stack's customer-managed key ({why})")
    return stack_keys.judge(key, where)


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    kind = ctx.type_of(logical_id)
    schema_paths = list(lib.type_facts(kind).get("key_properties", []))
    reviewed = REVIEWED.get(kind)
    if reviewed is None:
        if not schema_paths:
            return lib.not_applicable(f"{kind} takes no KMS key (CloudFormation schema)")
        return lib.not_evaluated(
            f"{kind} takes a KMS key ({', '.join(schema_paths)}) and no reviewed rule says which setting must "
            "use the stack's key"
        )
    props = ctx.props(logical_id)
    if isinstance(props, cfn.Unknown):
        return lib.not_evaluated(props.reason)
    if not ctx.of_type(*KEY_TYPES) and not any(lib.points_at(v, *KEY_TYPES) for v in props.values()):
        return lib.failed("the stack defines no customer-managed KMS key for this resource to use")
    return lib.worst([*_flag_verdicts(kind, props), *_key_verdicts(ctx, reviewed, props, StackKeys.of(ctx))])


def _flag_verdicts(kind: str, props: Props) -> list[lib.Verdict]:
    """The type's encryption switch, which must be on before any key matters."""
    flag = ENCRYPTION_FLAGS.get(kind)
    if flag is None:
        return []
    name, wanted = flag
    found = next(iter(values_at(props, name.split("."))))[1]
    state = False if found is cfn.NO_VALUE else lib.truth(found)
    if state is None:
        return [lib.unknown_in(found, name) or lib.not_evaluated(f"{name} is {lib.describe(found)}")]
    if state != wanted:
        return [lib.failed(f"{name} is {lib.describe(found)}: data at rest is not encrypted with a KMS key")]
    return []


def _key_verdicts(
    ctx: lib.Context, reviewed: tuple[KeyUse | NotAtRest, ...], props: Props, stack_keys: StackKeys
) -> list[lib.Verdict]:
    verdicts = []
    for use in (u for u in reviewed if isinstance(u, KeyUse)):
        needed = use.needed(props)
        if needed is None:
            verdicts.append(lib.not_evaluated(f"whether {use.why} exist is not determined by the template"))
        elif needed:
            verdicts += [
                judge_key(ctx, v, where, use.why, stack_keys=stack_keys)
                for where, v in values_at(props, use.path.split("."))
            ]
    return verdicts


check = lib.make_check(METADATA, rule)
