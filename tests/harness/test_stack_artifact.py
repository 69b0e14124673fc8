"""How `cdk deploy` deploys a stack (its artifact's properties in manifest.json) is reviewed content too.

harness/verdict/reviewed.py reads every property of the stack artifact against policies/registry/template.yaml
``stack_properties``: a key no one reviewed (stack tags, notification ARNs, parameters) or a reviewed key
holding another value than the one reviewed (termination protection on, another account's execution
role) is NOT EVALUATED under gate:unreviewed-key. In-process; the gate-level cases are in corpus_redteam.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR
from harness.catalog.registry import load_registry
from harness.model import Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.assets import AssetBook, Environment
from harness.reading.digests import DigestCache
from harness.verdict.reviewed import RULE_KEY, unreviewed_findings


def _synthesized_properties() -> dict[str, Any]:
    """What CDK's default synthesizer writes, as the snapshot manifest carries it (no synthesis needed)."""
    return {
        "templateFile": "StagingDatabase.template.json",
        "terminationProtection": False,
        "validateOnSynth": False,
        "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-deploy-role-"
        "${AWS::AccountId}-us-east-1",
        "cloudFormationExecutionRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-"
        "exec-role-${AWS::AccountId}-us-east-1",
        "stackTemplateAssetObjectUrl": "s3://cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1/abc.json",
        "requiresBootstrapStackVersion": 6,
        "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version",
        "additionalDependencies": ["StagingDatabase.assets"],
        "lookupRole": {"arn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-lookup-role"},
        "stackName": "stack-database-staging-main",
    }


def _findings(properties: dict[str, Any]) -> list[str]:
    root = Path("/nonexistent")
    assets = AssetBook(root=root, environment=Environment(region="us-east-1"), digests=DigestCache())
    stack = StackTemplate(assembly="a", root=root, path=root / "t.json", stack_id="S", region="us-east-1",
                          body={"Resources": {}}, construct_paths={}, assets=assets,
                          artifact_properties=properties)  # fmt: skip
    found = unreviewed_findings([CloudAssembly(label="a", root=root, stacks=(stack,))], registry=_registry())
    assert all(f.rule_id == RULE_KEY and f.status is Status.NOT_EVALUATED for f in found)
    return [f.message for f in found]


def _registry() -> Any:
    return load_registry(POLICIES_DIR)


def test_what_cdk_writes_is_reviewed() -> None:
    assert _findings(_synthesized_properties()) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"notificationArns": ["arn:aws:sns:us-east-1:111122223333:x"]}, "notificationArns"),
        ({"tags": {"Environment": "prod"}}, "tags"),
        ({"parameters": {"BootstrapVersion": "/x"}}, "parameters"),
        ({"terminationProtection": True}, "terminationProtection = true"),
        ({"cloudFormationExecutionRoleArn": "arn:aws:iam::111122223333:role/x"}, "cloudFormationExecutionRoleArn"),
        ({"stackName": "prod-db"}, "stackName"),
    ],
)
def test_an_unreviewed_property_or_value_is_not_evaluated(change: dict[str, Any], named: str) -> None:
    (message,) = _findings({**_synthesized_properties(), **change})
    assert "manifest.json" in message and named in message, message


def test_a_real_synthesis_is_reviewed(synthesized: Path) -> None:
    """What the app synthesizes today passes, and the list above is what it writes."""
    artifacts = json.loads((synthesized / "manifest.json").read_text(encoding="utf-8"))["artifacts"]
    (properties,) = [a["properties"] for a in artifacts.values() if a.get("type") == "aws:cloudformation:stack"]
    assert _findings(properties) == []
    assert set(properties) == set(_synthesized_properties())
