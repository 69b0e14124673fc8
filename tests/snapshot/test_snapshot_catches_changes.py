"""The snapshot tier can fail: a deliberate change fails the comparison with a readable diff,
and the normalization hides only what it claims to hide.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from infra.app_builder import cdk_json_context
from infra.config import ConfigError, StagingDatabaseConfig
from infra.stacks.staging_database import STACK_ID
from tests.snapshot.normalize import (
    ASSET_BUCKET_PLACEHOLDER,
    ASSET_HASH_PLACEHOLDER,
    SNAPSHOT_MATCHER,
    normalize_template,
)
from tests.snapshot.synth import snapshot_file, synth_stack_templates

ROOT = Path(__file__).resolve().parents[2]
STORED = snapshot_file(Path(__file__).with_name("test_templates.py"), f"test_stack_template[{STACK_ID}]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _valid_backup_window(window: str) -> bool:
    try:
        StagingDatabaseConfig.from_context({**cdk_json_context(), "backupWindow": window})
    except ConfigError:
        return False
    return True


# The deliberate change: another valid backup window than cdk.json's (06:00-07:00 today).
DEFAULT_WINDOW = cdk_json_context()["backupWindow"]
CHANGED_WINDOW = next(
    w for w in ("06:00-07:00", "04:00-04:30", "23:00-23:30") if w != DEFAULT_WINDOW and _valid_backup_window(w)
)


def serialize(template: dict[str, Any]) -> str:
    """What the snapshot fixture writes and compares (test_pytest_... proves it is identical)."""
    return str(JSONSnapshotExtension().serialize(normalize_template(template), matcher=SNAPSHOT_MATCHER))


@pytest.fixture(scope="module")
def backup_window_changed() -> dict[str, Any]:
    return synth_stack_templates({"backupWindow": CHANGED_WINDOW})[STACK_ID]


# These tests compare against a snapshot of the *current* default template, not the file in
# __snapshots__/: they prove the mechanism, so they stay green while a reviewer is accepting
# a change with --snapshot-update (test_templates.py is what compares with the stored files).


def test_backup_window_change_fails_with_a_readable_diff(
    backup_window_changed: dict[str, Any], stack_templates: dict[str, dict[str, Any]]
) -> None:
    extension = JSONSnapshotExtension()
    snapshot, received = serialize(stack_templates[STACK_ID]), serialize(backup_window_changed)
    matches = extension.matches(serialized_data=received, snapshot_data=snapshot)
    with pytest.raises(AssertionError) as failure:
        assert matches, "\n".join(_ANSI.sub("", line) for line in extension.diff_lines(received, snapshot))
    message = str(failure.value)
    # One line out, one line in: the masks leave nothing else to wade through.
    changed = [" ".join(line.split()) for line in message.splitlines() if line.lstrip().startswith(("-", "+"))]
    assert changed == [
        f'- "PreferredBackupWindow": "{DEFAULT_WINDOW}",',
        f'+ "PreferredBackupWindow": "{CHANGED_WINDOW}",',
    ], message


_INNER_TEST = """
import json, os
from syrupy.extensions.json import JSONSnapshotExtension
from tests.snapshot.normalize import SNAPSHOT_MATCHER, normalize_template

def test_stack_template(snapshot):
    template = json.loads(open(os.environ["TEMPLATE"], encoding="utf-8").read())
    expected = snapshot.with_defaults(extension_class=JSONSnapshotExtension, matcher=SNAPSHOT_MATCHER)
    assert normalize_template(template) == expected
"""


def _inner_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, template: Path, *args: str
) -> tuple[int, str]:
    """A separate pytest session on ``_INNER_TEST`` (its own rootdir and ini, no repo conftest),
    run in this process by pytest's own ``pytester``: the same plugins and report as a
    subprocess, without paying a cold interpreter (about 1 s of CPU each)."""
    monkeypatch.setenv("TEMPLATE", str(template))
    monkeypatch.setenv("NO_COLOR", "1")
    # Under `nox -s tests` this runs in a pytest-xdist worker; syrupy would take the inner
    # session for one too and leave its report to a controller that does not exist.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-c", str(pytester.path / "pytest.ini"),
        "--rootdir", str(pytester.path), str(pytester.path), *args,
    )  # fmt: skip
    return int(result.ret), _ANSI.sub("", "\n".join(result.outlines + result.errlines))


def test_pytest_reports_the_change_as_a_failed_snapshot(
    backup_window_changed: dict[str, Any],
    stack_templates: dict[str, dict[str, Any]],
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end with syrupy's real fixture and report: accept the default, then change it."""
    pytester.makefile(".ini", pytest="[pytest]\n")
    pytester.makepyfile(test_inner=_INNER_TEST)
    default, changed = pytester.path / "default.json", pytester.path / "changed.json"
    default.write_text(json.dumps(stack_templates[STACK_ID]), encoding="utf-8")
    changed.write_text(json.dumps(backup_window_changed), encoding="utf-8")

    code, output = _inner_pytest(pytester, monkeypatch, default, "--snapshot-update")
    assert code == 0 and "1 snapshot generated" in output, output
    written = pytester.path / "__snapshots__" / "test_inner" / "test_stack_template.json"
    assert written.read_text(encoding="utf-8") == serialize(stack_templates[STACK_ID])  # serialize() is the fixture's

    code, output = _inner_pytest(pytester, monkeypatch, changed)
    assert code == 1 and "1 snapshot failed" in output, output
    assert f'-         "PreferredBackupWindow": "{DEFAULT_WINDOW}",' in output, output
    assert f'+         "PreferredBackupWindow": "{CHANGED_WINDOW}",' in output, output


# --------------------------------------------------------------------------- normalization rules


def _toolchain_noise(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` plus everything the CDK CLI adds (version reporting, path and asset metadata)."""
    noisy: dict[str, Any] = json.loads(json.dumps(template))
    noisy["Resources"]["CDKMetadata"] = {
        "Type": "AWS::CDK::Metadata",
        "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA/zPSMzI2"},
        "Metadata": {"aws:cdk:path": "StagingDatabase/CDKMetadata/Default"},
        "Condition": "CDKMetadataAvailable",
    }
    noisy.setdefault("Conditions", {})["CDKMetadataAvailable"] = {
        "Fn::Or": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]
    }
    for logical_id, resource in noisy["Resources"].items():
        resource.setdefault("Metadata", {})["aws:cdk:path"] = (
            f"/tmp/pytest-of-ci/cdk-1234/StagingDatabase/{logical_id}/Resource"
        )
        resource["Metadata"]["aws:asset:path"] = "/home/someone/.cache/asset.abc"
    return noisy


def test_toolchain_additions_are_removed(stack_templates: dict[str, dict[str, Any]]) -> None:
    template = stack_templates[STACK_ID]
    assert serialize(_toolchain_noise(template)) == serialize(template)


def test_toolchain_removal_keeps_our_own_metadata(stack_templates: dict[str, dict[str, Any]]) -> None:
    template = json.loads(json.dumps(stack_templates[STACK_ID]))
    first = next(iter(template["Resources"].values()))
    first["Metadata"] = {"cfn_nag": {"rules_to_suppress": [{"id": "W1"}]}, "aws:cdk:path": "x"}
    assert '"cfn_nag"' in serialize(template)
    assert "aws:cdk:path" not in serialize(template)


def test_a_different_asset_hash_or_bootstrap_qualifier_does_not_change_the_snapshot(
    stack_templates: dict[str, dict[str, Any]],
) -> None:
    template = stack_templates[STACK_ID]
    rebuilt = json.loads(json.dumps(template).replace("hnb659fds", "0123abcd9"))
    code = [r["Properties"]["Code"] for r in rebuilt["Resources"].values() if "Code" in r.get("Properties", {})]
    assert code, "expected CDK's custom-resource handler in the template"
    for location in code:
        location["S3Key"] = "f" * 64 + ".zip"
    assert serialize(rebuilt) == serialize(template)
    assert f'"S3Key": "{ASSET_HASH_PLACEHOLDER}.zip"' in serialize(template)
    assert f'"Fn::Sub": "{ASSET_BUCKET_PLACEHOLDER}"' in serialize(template)


def test_masks_only_touch_asset_locations(stack_templates: dict[str, dict[str, Any]]) -> None:
    """A 64-hex value elsewhere, or a handler runtime change, must still show."""
    template = json.loads(json.dumps(stack_templates[STACK_ID]))
    handler = next(r for r in template["Resources"].values() if "Code" in r.get("Properties", {}))
    handler["Properties"]["Runtime"] = "nodejs22.x"
    handler["Properties"]["Description"] = "a" * 64 + ".zip"
    serialized = serialize(template)
    assert '"Runtime": "nodejs22.x"' in serialized
    assert '"Description": "' + "a" * 64 + '.zip"' in serialized
    assert serialized != serialize(stack_templates[STACK_ID])


def test_snapshots_hold_nothing_machine_specific() -> None:
    """No absolute paths, temp dirs or user names: the files must match on any machine."""
    for stored in sorted(STORED.parent.glob("*.json")):
        text = stored.read_text(encoding="utf-8")
        for marker in (str(ROOT), "/tmp/", "/home/", "cdk-snapshot-", "pytest-of-", "hnb659fds", "aws:cdk:"):
            assert marker not in text, f"{stored.name} contains {marker!r}"
        assert not re.search(r"[0-9a-f]{64}", text), f"{stored.name} contains an unmasked hash"
