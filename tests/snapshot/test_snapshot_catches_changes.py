"""The snapshot tier can fail: a deliberate change fails the comparison with a readable diff,
and the normalization hides only what it claims to hide.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

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


def serialize(template: dict[str, Any]) -> str:
    """Exactly what the snapshot fixture writes and compares."""
    return str(JSONSnapshotExtension().serialize(normalize_template(template), matcher=SNAPSHOT_MATCHER))


def snapshot_diff(template: dict[str, Any]) -> list[str]:
    """syrupy's own diff of ``template`` against the stored default snapshot, colours stripped."""
    extension = JSONSnapshotExtension()
    return [
        _ANSI.sub("", line) for line in extension.diff_lines(serialize(template), STORED.read_text(encoding="utf-8"))
    ]


@pytest.fixture(scope="module")
def backup_window_changed() -> dict[str, Any]:
    return synth_stack_templates({"backupWindow": "06:00-07:00"})[STACK_ID]


def test_comparison_matches_the_stored_snapshot(stack_templates: dict[str, dict[str, Any]]) -> None:
    """Baseline for the tests below: this module compares the way the fixture does."""
    assert JSONSnapshotExtension().matches(
        serialized_data=serialize(stack_templates[STACK_ID]), snapshot_data=STORED.read_text(encoding="utf-8")
    )


def test_backup_window_change_fails_with_a_readable_diff(backup_window_changed: dict[str, Any]) -> None:
    extension = JSONSnapshotExtension()
    matches = extension.matches(
        serialized_data=serialize(backup_window_changed), snapshot_data=STORED.read_text(encoding="utf-8")
    )
    with pytest.raises(AssertionError) as failure:
        assert matches, "\n".join(snapshot_diff(backup_window_changed))
    message = str(failure.value)
    # One line out, one line in: the masks leave nothing else to wade through.
    changed = [" ".join(line.split()) for line in message.splitlines() if line.lstrip().startswith(("-", "+"))]
    assert changed == ['- "PreferredBackupWindow": "05:00-06:00",', '+ "PreferredBackupWindow": "06:00-07:00",'], (
        message
    )


def test_pytest_reports_the_change_as_a_failed_snapshot(backup_window_changed: dict[str, Any], tmp_path: Path) -> None:
    """End to end: a separate pytest run (no --snapshot-update) with syrupy's real fixture and report."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "changed.json").write_text(json.dumps(backup_window_changed), encoding="utf-8")
    stored_copy = tmp_path / "__snapshots__" / "test_changed" / "test_stack_template.json"
    stored_copy.parent.mkdir(parents=True)
    stored_copy.write_text(STORED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test_changed.py").write_text(
        textwrap.dedent(
            """
            import json, pathlib
            from syrupy.extensions.json import JSONSnapshotExtension
            from tests.snapshot.normalize import SNAPSHOT_MATCHER, normalize_template

            def test_stack_template(snapshot):
                template = json.loads((pathlib.Path(__file__).parent / "changed.json").read_text())
                expected = snapshot.with_defaults(extension_class=JSONSnapshotExtension, matcher=SNAPSHOT_MATCHER)
                assert normalize_template(template) == expected
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    output = _ANSI.sub("", result.stdout)
    assert result.returncode == 1, output + result.stderr
    assert "1 snapshot failed" in output, output
    assert '"PreferredBackupWindow": "05:00-06:00"' in output and '"PreferredBackupWindow": "06:00-07:00"' in output, (
        output
    )


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
