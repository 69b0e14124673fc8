"""Signed gate runs, ``python -m harness verify``, and an attacker's tools for the attestation tests.

An attacker here can write the reports and the assembly, knows the formats, and rehashes
everything it edits (evidence.json, SHA256SUMS, the statement's subjects); it cannot sign with
the gate's key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.audit.attest import ATTESTATION_DIR, ENVELOPE_FILE, PREDICATE_FILE, SUBJECTS_FILE, render_subjects
from tests.harness.conftest import ROOT, GateRun, run_gate

ENVELOPE = f"{ATTESTATION_DIR}/{ENVELOPE_FILE}"


def keypair(directory: Path, name: str = "gate") -> tuple[Path, Path]:
    """A fresh ed25519 key pair as PEM files (private, public), made with cryptography as openssl would."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private, public = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@dataclass(frozen=True)
class SignedRun:
    run: GateRun
    assembly: Path
    private: Path
    public: Path

    @property
    def reports(self) -> Path:
        return self.run.reports

    def copy(self, directory: Path) -> SignedRun:
        """Reports and assembly copied side by side (the assembly keeps its directory name: its label)."""
        reports, assembly = directory / "reports", directory / self.assembly.name
        shutil.copytree(self.reports, reports)
        shutil.copytree(self.assembly, assembly)
        return SignedRun(
            run=GateRun(self.run.returncode, self.run.stdout, self.run.stderr, reports),
            assembly=assembly,
            private=self.private,
            public=self.public,
        )


def signed_gate_run(assembly: Path, reports: Path, *, key: Path, public: Path, **kwargs: Any) -> SignedRun:
    run = run_gate(["--assembly", str(assembly), "--sign-key", str(key)], reports=reports, **kwargs)
    return SignedRun(run=run, assembly=assembly, private=key, public=public)


def verify(
    reports: Path, *assemblies: Path, key: Path | None = None, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "harness", "verify", "--reports", str(reports)]
    argv += [arg for assembly in assemblies for arg in ("--assembly", str(assembly))]
    argv += ["--key", str(key)] if key else []
    return subprocess.run([*argv, *flags], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


# ------------------------------------------------------------------------------------ the attacker


def read_statement(reports: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(envelope, statement) as they are on disk."""
    envelope = json.loads((reports / ENVELOPE).read_text(encoding="utf-8"))
    return envelope, json.loads(base64.b64decode(envelope["payload"]))


def write_statement(reports: Path, statement: dict[str, Any], *, envelope: dict[str, Any], signer: Any = None) -> None:
    """Re-encode ``statement`` into the envelope: keep its signatures, or sign it with ``signer`` (the attacker's)."""
    from securesystemslib.dsse import Envelope  # noqa: PLC0415

    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if signer is None:
        rewritten = {**envelope, "payload": base64.b64encode(payload).decode("ascii")}
    else:
        sealed = Envelope(payload=payload, payload_type=envelope["payloadType"], signatures={})
        sealed.sign(signer)
        rewritten = sealed.to_dict()
    (reports / ENVELOPE).write_text(json.dumps(rewritten, separators=(",", ":")) + "\n", encoding="utf-8")
    digests = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    (reports / ATTESTATION_DIR / SUBJECTS_FILE).write_text(render_subjects(digests), encoding="utf-8")
    (reports / ATTESTATION_DIR / PREDICATE_FILE).write_text(
        json.dumps(statement["predicate"], indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rehash_everything(
    target: SignedRun, *, predicate: Callable[[dict[str, Any]], None] | None = None, signer: Any = None
) -> None:
    """What a careful attacker does after an edit: evidence.json and SHA256SUMS, then every subject, re-hashed."""
    evidence_path = target.reports / "evidence" / "evidence.json"
    evidence = json.loads(evidence_path.read_text(encoding="utf-8"))
    for assembly in evidence["assemblies"]:
        for file in assembly["files"]:
            file["sha256"] = _sha(target.assembly / file["path"])
    evidence_path.write_text(json.dumps(evidence, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    sums = target.reports / "evidence" / "SHA256SUMS"
    lines = []
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        if name.endswith(tuple(f["path"] for a in evidence["assemblies"] for f in a["files"])):
            relative = next(f["path"] for a in evidence["assemblies"] for f in a["files"] if name.endswith(f["path"]))
            digest = _sha(target.assembly / relative)
        lines.append(f"{digest}  {name}")
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")
    envelope, statement = read_statement(target.reports)
    label = f"assembly/{target.assembly.name}/"
    for subject in statement["subject"]:
        name = subject["name"]
        if name.startswith("reports/"):
            subject["digest"]["sha256"] = _sha(target.reports / name.removeprefix("reports/"))
        elif name.startswith(label):
            subject["digest"]["sha256"] = _sha(target.assembly / name.removeprefix(label))
    if predicate is not None:
        predicate(statement["predicate"])
    write_statement(target.reports, statement, envelope=envelope, signer=signer)
