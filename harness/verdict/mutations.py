"""The mutation catalog: one spec violation injected into a copy of the synthesized template.

``tests/harness/test_mutations.py`` gates every mutant (one checkov process for all of them)
and asserts each fails naming every one of its ``expected`` rule ids; the traceability matrix
lists the mutants under the requirements their policies enforce. A mutant is a pure
function of the template, located by resource type and shape, never by a hard-coded
logical id, so the suite follows the stack as it evolves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Template = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Mutation:
    name: str
    description: str
    expected: frozenset[str]  # the gate must fail naming every one of these rule ids
    apply: Callable[[Template], None]

    def mutate(self, template: Template) -> Template:
        mutated = copy.deepcopy(template)
        self.apply(mutated)
        return mutated


def resources_of(t: Template, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in sorted(t["Resources"].items()):
        if resource.get("Type") == resource_type:
            yield logical_id, resource


def _one(
    t: Template, resource_type: str, predicate: Callable[[dict[str, Any]], bool] = lambda r: True
) -> dict[str, Any]:
    matches = [r for _, r in resources_of(t, resource_type) if predicate(r)]
    if not matches:
        raise LookupError(f"the template has no {resource_type} to mutate")
    return matches[0]


def properties_of(
    t: Template, resource_type: str, predicate: Callable[[dict[str, Any]], bool] = lambda r: True
) -> dict[str, Any]:
    props: dict[str, Any] = _one(t, resource_type, predicate).setdefault("Properties", {})
    return props


def db_instance(t: Template) -> dict[str, Any]:
    return properties_of(t, "AWS::RDS::DBInstance")


def db_port(t: Template) -> int:
    return int(db_instance(t).get("Port", 5432))


def db_security_group(t: Template) -> dict[str, Any]:
    port = db_port(t)
    return properties_of(
        t,
        "AWS::EC2::SecurityGroup",
        lambda r: any(
            int(rule.get("FromPort", -1)) == port for rule in r.get("Properties", {}).get("SecurityGroupIngress", [])
        ),
    )


def with_values(**values: Any) -> Callable[[dict[str, Any]], None]:
    def apply(props: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is None:
                props.pop(key, None)
            else:
                props[key] = value

    return apply


def _on_db(**values: Any) -> Callable[[Template], None]:
    return lambda t: with_values(**values)(db_instance(t))


def _retain_key(t: Template) -> None:
    key = _one(t, "AWS::KMS::Key")
    key["DeletionPolicy"] = key["UpdateReplacePolicy"] = "Retain"


def _drop_tag(t: Template) -> None:
    props = db_instance(t)
    props["Tags"] = [tag for tag in props.get("Tags", []) if tag.get("Key") != "CostCenter"]


def _parameter(name: str, value: str) -> Callable[[Template], None]:
    return lambda t: properties_of(t, "AWS::RDS::DBParameterGroup")["Parameters"].__setitem__(name, value)


def _ingress_from(cidr: str) -> Callable[[Template], None]:
    def apply(t: Template) -> None:
        db_security_group(t)["SecurityGroupIngress"][0]["CidrIp"] = cidr

    return apply


def _is_metric(metric: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: r.get("Properties", {}).get("MetricName") == metric


def _cpu_threshold(t: Template) -> None:
    properties_of(t, "AWS::CloudWatch::Alarm", _is_metric("CPUUtilization"))["Threshold"] = 90


def remove_resource(t: Template, logical_id: str) -> None:
    """Delete a resource and replace every reference to it, so the template stays loadable."""
    del t["Resources"][logical_id]

    def scrub(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("Ref") == logical_id or (
                isinstance(node.get("Fn::GetAtt"), list) and node["Fn::GetAtt"][0] == logical_id
            ):
                return "removed"
            return {k: scrub(v) for k, v in node.items() if not (k == "DependsOn" and v == logical_id)}
        if isinstance(node, list):
            return [scrub(v) for v in node if v != logical_id]
        return node

    for key in ("Resources", "Outputs"):
        if key in t:
            t[key] = scrub(t[key])


def _remove_storage_alarm(t: Template) -> None:
    logical_id = next(lid for lid, r in resources_of(t, "AWS::CloudWatch::Alarm") if _is_metric("FreeStorageSpace")(r))
    remove_resource(t, logical_id)


def _unsuffixed_name(t: Template) -> None:
    db = db_instance(t)
    db["DBInstanceIdentifier"] = "-".join(str(db["DBInstanceIdentifier"]).split("-")[:2])


def _wildcard_iam(t: Template) -> None:
    policy = properties_of(t, "AWS::IAM::ManagedPolicy")
    policy["PolicyDocument"]["Statement"][0]["Action"] = "*"


def _remove_endpoint_output(t: Template) -> None:
    outputs = t.get("Outputs", {})
    for name in [n for n, o in outputs.items() if "Endpoint.Address" in str(o.get("Value"))]:
        del outputs[name]


def _plaintext_password(t: Template) -> None:
    with_values(ManageMasterUserPassword=None, MasterUserSecret=None, MasterUserPassword="Payments-Staging-2024!")(
        db_instance(t)
    )


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        name="encryption-off",
        description="storage encryption disabled",
        expected=frozenset({"CKV_AWS_16", "CKV_STG_RDS_13"}),
        apply=_on_db(StorageEncrypted=False, KmsKeyId=None),
    ),
    Mutation(
        name="single-az",
        description="Multi-AZ off",
        expected=frozenset({"CKV_AWS_157", "CKV_STG_RDS_6"}),
        apply=_on_db(MultiAZ=False),
    ),
    Mutation(
        name="deletion-protection-off",
        description="deletion protection off",
        expected=frozenset({"CKV_STG_RDS_1"}),
        apply=_on_db(DeletionProtection=False),
    ),
    Mutation(
        name="backups-6-days",
        description="backup retention below 7 days",
        expected=frozenset({"CKV_STG_RDS_2"}),
        apply=_on_db(BackupRetentionPeriod=6),
    ),
    Mutation(
        name="public",
        description="publicly accessible",
        expected=frozenset({"CKV_AWS_17", "CKV_STG_RDS_14"}),
        apply=_on_db(PubliclyAccessible=True),
    ),
    Mutation(
        name="ingress-anywhere",
        description="DB ingress from 0.0.0.0/0",
        expected=frozenset({"CKV_STG_NET_1"}),
        apply=_ingress_from("0.0.0.0/0"),
    ),
    Mutation(
        name="dev-cidr-ingress",
        description="DB ingress from the dev VPC 10.0.0.0/16",
        expected=frozenset({"CKV_STG_NET_1"}),
        apply=_ingress_from("10.0.0.0/16"),
    ),
    Mutation(
        name="retain-key", description="Retain on the KMS key", expected=frozenset({"CKV_STG_GEN_1"}), apply=_retain_key
    ),
    Mutation(
        name="tag-missing",
        description="CostCenter tag missing on the DB",
        expected=frozenset({"CKV_STG_TAG_1"}),
        apply=_drop_tag,
    ),
    Mutation(
        name="shared-buffers-unit",
        description='shared_buffers "256MB" (RDS counts 8 kB pages)',
        expected=frozenset({"CKV_STG_PG_2"}),
        apply=_parameter("shared_buffers", "256MB"),
    ),
    Mutation(
        name="max-connections",
        description="max_connections 100",
        expected=frozenset({"CKV_STG_PG_1"}),
        apply=_parameter("max_connections", "100"),
    ),
    Mutation(
        name="monitoring-off",
        description="enhanced monitoring off",
        expected=frozenset({"CKV_AWS_118", "CKV_STG_RDS_9"}),
        apply=_on_db(MonitoringInterval=0, MonitoringRoleArn=None),
    ),
    Mutation(
        name="maintenance-window",
        description="maintenance window Monday 03-05 UTC",
        expected=frozenset({"CKV_STG_RDS_3"}),
        apply=_on_db(PreferredMaintenanceWindow="mon:03:00-mon:05:00"),
    ),
    Mutation(
        name="minor-upgrades-off",
        description="automatic minor version upgrades off",
        expected=frozenset({"CKV_STG_RDS_8"}),
        apply=_on_db(AutoMinorVersionUpgrade=False),
    ),
    Mutation(
        name="wrong-class",
        description="instance class db.t3.large",
        expected=frozenset({"CKV_STG_RDS_5"}),
        apply=_on_db(DBInstanceClass="db.t3.large"),
    ),
    Mutation(
        name="managed-password-off",
        description="RDS-managed (rotated) master password off",
        # Not CKV_STG_SM_1: it judges the rotation of a secret, and this mutant has none left to judge.
        expected=frozenset({"CKV_STG_RDS_15"}),
        apply=_on_db(ManageMasterUserPassword=False, MasterUserSecret=None),
    ),
    Mutation(
        name="plaintext-password",
        description="plaintext MasterUserPassword",
        # Not CKV_STG_SM_1 (no secret left to rotate); the plaintext itself is CKV_STG_SEC_1's and cfn-lint's.
        expected=frozenset({"CKV_STG_RDS_15", "CKV_STG_SEC_1", "W2501"}),
        apply=_plaintext_password,
    ),
    Mutation(
        name="cpu-threshold",
        description="CPU alarm threshold 90 instead of 80",
        expected=frozenset({"CKV_STG_CW_1"}),
        apply=_cpu_threshold,
    ),
    Mutation(
        name="storage-alarm-removed",
        description="free-storage alarm removed",
        expected=frozenset({"CKV_STG_CW_2"}),
        apply=_remove_storage_alarm,
    ),
    Mutation(
        name="name-without-suffix",
        description="DB identifier without the environment suffix",
        expected=frozenset({"CKV_STG_NAME_1"}),
        apply=_unsuffixed_name,
    ),
    Mutation(
        name="wildcard-iam",
        description='IAM statement with Action "*"',
        # The statement keeps its scoped Resource: CKV_AWS_62/108-111 judge Resource "*", and checkov's
        # CloudFormation CKV_AWS_62/63 do not read AWS::IAM::ManagedPolicy at all.
        expected=frozenset({"CKV_AWS_107", "CKV_STG_IAM_1"}),
        apply=_wildcard_iam,
    ),
    Mutation(
        name="engine-13-7",
        description="PostgreSQL 13.7 (RDS no longer creates it)",
        expected=frozenset({"W3691", "CKV_STG_RDS_7"}),
        apply=_on_db(EngineVersion="13.7"),
    ),
    Mutation(
        name="endpoint-output-removed",
        description="database endpoint output removed",
        expected=frozenset({"CKV_STG_OUT_1"}),
        apply=_remove_endpoint_output,
    ),
)
