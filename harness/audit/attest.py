"""The signed statement of a run: an in-toto Statement (v1) in a DSSE envelope, ``reports/attestation/``.

Its **subjects** are every file the verdict rests on, each with its SHA-256, named by role:

* ``reports/<path>``: every report of the run (``compliance.*``, catalog, traceability,
  controls, the pytest tiers' JUnit, ``evidence/``, ``oscal/``);
* ``assembly/<label>/<path>``: every file of every gated cloud assembly (templates, assets,
  manifests, ``construct-sources.json``, metadata, cdk-nag's validation report), as the
  evidence hashed them;
* ``rules/<path>``: the rules (``harness.reading.rules``: ``policies/**``, ``infra/spec.toml``, ``cdk.json``), and
  the ``--policies`` directory when it is another one;
* ``locks/<path>``: the lock files that pin every tool.

Its **predicate** (``PREDICATE_TYPE``) holds the verdict and exit code, the counts per tool and
status, the rules digest (with a base: the base's rules digest and any accepted policy change),
the commit and whether the tree was clean, the tools' versions and the harness's digest, the
command, and when the run started and finished.

``--sign-key PATH`` (an ed25519 private key, PEM) signs the envelope offline with
securesystemslib's ``CryptoSigner``; without it the envelope has no signature, and
``python -m harness verify`` accepts it only with ``--allow-unsigned``. Beside the envelope,
``subjects.sha256`` and ``predicate.json`` are the same subjects and predicate in the shapes
``actions/attest`` takes (``subject-checksums``, ``predicate-path``), so CI signs the same
statement with GitHub artifact attestations (Sigstore).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.audit.outputs import owned_files
from harness.errors import HarnessError
from harness.hashing import sha256_file
from harness.reading.rules import rules_digest, rules_files

if TYPE_CHECKING:
    from securesystemslib.signer import Key, Signer

ATTESTATION_DIR = "attestation"
ENVELOPE_FILE = "statement.intoto.jsonl"  # one DSSE envelope on one line (the in-toto bundle convention)
SUBJECTS_FILE = "subjects.sha256"  # sha256sum format: actions/attest's subject-checksums
PREDICATE_FILE = "predicate.json"  # the predicate alone: actions/attest's predicate-path
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "urn:stg-gate:compliance-verdict:v1"
REPORTS, ASSEMBLY, RULES, LOCKS = "reports/", "assembly/", "rules/", "locks/"
KEY_PASSWORD_ENV = "STG_GATE_SIGN_KEY_PASSWORD"  # for an encrypted private key (never on the command line)
MAX_KEY_BYTES = 64 * 1024


# ------------------------------------------------------------------------------------ keys


def load_signer(path: Path) -> Signer:
    """An ed25519 signer from a PEM private key, or one HarnessError line saying what the file must be."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415
    from securesystemslib.signer import CryptoSigner  # noqa: PLC0415

    data = _read_key(path, what="--sign-key")
    password = os.environ.get(KEY_PASSWORD_ENV)
    try:
        key = load_pem_private_key(data, password.encode("utf-8") if password else None)
    except (ValueError, TypeError) as error:
        raise HarnessError(
            f"--sign-key {path} is not a usable PEM private key ({str(error).splitlines()[0]}): give an ed25519 key, "
            f"e.g. `openssl genpkey -algorithm ed25519 -out gate-signing.pem` (encrypted: set {KEY_PASSWORD_ENV})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise HarnessError(
            f"--sign-key {path} is a {type(key).__name__.removeprefix('_')}, not an ed25519 key: "
            "e.g. `openssl genpkey -algorithm ed25519 -out gate-signing.pem`"
        )
    return CryptoSigner(key)


def load_public_key(path: Path) -> Key:
    """The ed25519 public key a statement must be signed with (PEM, SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: PLC0415
    from securesystemslib.signer import SSlibKey  # noqa: PLC0415

    data = _read_key(path, what="--key")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise HarnessError(
            f"--key {path} is not a PEM public key ({str(error).splitlines()[0]}): give the signer's ed25519 public "
            "key, e.g. `openssl pkey -in gate-signing.pem -pubout -out gate-signing.pub.pem`"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise HarnessError(f"--key {path} is a {type(key).__name__.removeprefix('_')}, not an ed25519 public key")
    return SSlibKey.from_crypto(key)


def _read_key(path: Path, *, what: str) -> bytes:
    if not path.is_file():
        raise HarnessError(f"{what} {path} is not a file (give a PEM key file)")
    data = path.read_bytes()[: MAX_KEY_BYTES + 1]
    if len(data) > MAX_KEY_BYTES:
        raise HarnessError(f"{what} {path} is over {MAX_KEY_BYTES} bytes: not a PEM key")
    return data


# ------------------------------------------------------------------------------------ the statement


def subjects(*, reports_dir: Path, evidence: Mapping[str, Any], root: Path) -> dict[str, str]:
    """Subject name -> SHA-256 of every file the verdict rests on (see the module docstring)."""
    found: dict[str, str] = {}
    attestation = reports_dir / ATTESTATION_DIR
    for path in owned_files(reports_dir):
        if not path.is_relative_to(attestation):  # the statement cannot hash itself
            found[REPORTS + path.relative_to(reports_dir).as_posix()] = sha256_file(path)
    for assembly in evidence.get("assemblies") or []:
        for file in assembly.get("files") or []:
            found[f"{ASSEMBLY}{assembly['label']}/{file['path']}"] = str(file["sha256"])
    for relpath in rules_files(root):
        found[RULES + Path(relpath).as_posix()] = sha256_file(root / relpath)
    policies = evidence.get("policies") or {}
    for file in policies.get("files") or []:  # the --policies directory that judged, if not root/policies
        found.setdefault(f"{RULES}{policies['path']}/{file['path']}", str(file["sha256"]))
    for file in evidence.get("locks") or []:
        found[LOCKS + str(file["path"])] = str(file["sha256"])
    return dict(sorted(found.items()))


def predicate(*, evidence: Mapping[str, Any], counts: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """What the statement asserts about its subjects: the run's verdict and how it was reached."""
    verdict = evidence.get("verdict") or {}
    versions = dict(evidence.get("versions") or {})
    for tool in evidence.get("tools") or []:
        versions.setdefault(str(tool.get("tool")), str(tool.get("version", "")))
    run = evidence.get("run") or {}
    return {
        "verdict": verdict.get("verdict", ""),
        "exitCode": verdict.get("exit_code", 2),
        "mode": verdict.get("mode", ""),
        "error": verdict.get("error", ""),
        "counts": dict(counts),
        "assemblies": _assemblies(evidence),
        "rules": {"digest": rules_digest(root), "files": len(rules_files(root)), **_rules_judged(verdict)},
        "source": dict(evidence.get("checkout") or {}),
        "tools": dict(sorted(versions.items())),
        "commands": list(evidence.get("commands") or [])[:1],
        "run": {
            "startedOn": run.get("started", ""),
            "finishedOn": run.get("finished", ""),
            "timeSource": run.get("source", ""),
        },
        **({"shard": verdict["shard"]} if verdict.get("shard") else {}),
        **({"shards": verdict["shards"]} if verdict.get("shards") else {}),
    }


def _rules_judged(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """With a base: the base's rules digest, the changes and an accepted policy change (harness.comparison.policy_change)."""
    judged = verdict.get("rules") or {}
    if not judged.get("base_source"):
        return {}
    return {
        "baseDigest": judged.get("base_digest", ""),
        "baseSource": judged.get("base_source", ""),
        "changes": len(judged.get("changes") or []),
        "policyChanges": judged.get("policy_changes", 0),
        "acceptedPolicyChange": judged.get("accepted_policy_change"),
    }


def _assemblies(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every assembly the evidence hashed (a run that failed may have judged none), with its verdict when it has one."""
    verdicts = {str(a.get("label")): a for a in (evidence.get("verdict") or {}).get("assemblies") or []}
    records = []
    for assembly in evidence.get("assemblies") or []:
        label = str(assembly["label"])
        record: dict[str, Any] = {"label": label, "files": len(assembly.get("files") or [])}
        if label in verdicts:
            record |= {"exitCode": verdicts[label].get("exit_code"), "failedRules": verdicts[label].get("failed_rules")}
        records.append(record)
    return records


def statement_payload(subject_digests: Mapping[str, str], predicate_body: Mapping[str, Any]) -> bytes:
    """The Statement v1 as canonical JSON bytes (sorted keys, no spaces), validated by in-toto's bindings."""
    from google.protobuf import json_format  # noqa: PLC0415
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor  # noqa: PLC0415
    from in_toto_attestation.v1.statement import Statement  # noqa: PLC0415

    statement = Statement(
        [ResourceDescriptor(name=name, digest={"sha256": digest}).pb for name, digest in subject_digests.items()],
        PREDICATE_TYPE,
        dict(predicate_body),
    )
    try:
        statement.validate()
    except ValueError as error:
        raise HarnessError(f"the run's in-toto statement is invalid: {error}") from error
    return canonical(_integral(json_format.MessageToDict(statement.pb)))


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _integral(value: Any) -> Any:
    """protobuf's Struct holds every JSON number as a double: counts come back as 5.0; make whole ones ints again."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def envelope(payload: bytes, signer: Signer | None) -> dict[str, Any]:
    """The DSSE envelope of ``payload``, signed when a signer is given (securesystemslib)."""
    from securesystemslib.dsse import Envelope  # noqa: PLC0415

    sealed = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    if signer is not None:
        sealed.sign(signer)
    return sealed.to_dict()


def render_subjects(subject_digests: Mapping[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in subject_digests.items())


def write_attestation(
    *, reports_dir: Path, evidence: Mapping[str, Any], counts: Mapping[str, Any], root: Path, signer: Signer | None
) -> dict[str, Path]:
    """Hash every report now on disk and write the envelope, the subjects and the predicate (moved in last)."""
    digests = subjects(reports_dir=reports_dir, evidence=evidence, root=root)
    body = predicate(evidence=evidence, counts=counts, root=root)
    sealed = envelope(statement_payload(digests, body), signer)
    rendered = {
        SUBJECTS_FILE: render_subjects(digests).encode("utf-8"),
        PREDICATE_FILE: json.dumps(body, indent=2, sort_keys=True).encode("utf-8") + b"\n",
        ENVELOPE_FILE: canonical(sealed) + b"\n",
    }
    target = reports_dir / ATTESTATION_DIR
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".attest-", dir=reports_dir))
    try:
        paths = {}
        for name in (SUBJECTS_FILE, PREDICATE_FILE, ENVELOPE_FILE):  # the envelope last: it is what verify reads
            (staging / name).write_bytes(rendered[name])
            os.replace(staging / name, target / name)
            paths[name] = target / name
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
