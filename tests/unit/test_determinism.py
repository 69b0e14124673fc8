"""Two synths of the same inputs give byte-identical templates."""

from __future__ import annotations

from pathlib import Path

from infra.app_builder import synthesize
from tests.conftest import TEMPLATE_NAME


def test_two_synths_are_byte_identical(tmp_path: Path, default_assembly: Path) -> None:
    again = synthesize(outdir=str(tmp_path / "again"), builtin_validation=False)
    assert (again / TEMPLATE_NAME).read_bytes() == (default_assembly / TEMPLATE_NAME).read_bytes()


def test_the_assembly_manifest_and_asset_manifest_are_stable_too(tmp_path: Path, default_assembly: Path) -> None:
    again = synthesize(outdir=str(tmp_path / "again"), builtin_validation=False)
    for name in ("manifest.json", "StagingDatabase.assets.json"):
        assert (again / name).read_bytes() == (default_assembly / name).read_bytes(), name
