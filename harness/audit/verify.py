"""``python -m harness verify``: are these the reports, assembly and rules of one gate run, untouched?

``python -m harness verify --reports DIR --assembly PATH --key PUB.pem`` checks, and names every
problem on its own line (exit 1 if there is any):

1. **The statement** ``DIR/attestation/statement.intoto.jsonl`` is a DSSE envelope of an in-toto
   Statement v1 of this gate's predicate type (``harness.audit.attest``).
2. **The signature** verifies with ``--key`` (ed25519, PEM). An unsigned statement, or no
   ``--key``, is refused unless ``--allow-unsigned``, which says the result is not authenticated:
   anyone who can write the reports can rewrite them and their hashes together.
3. **Every subject**: each report under ``--reports``, each file of each ``--assembly`` and each
   rules and lock file under ``--root`` (default: this checkout) has the SHA-256 the statement
   records. A file of those sets that is not a subject (a report added, a file added to the
   assembly, a new rules file) fails too, and so does a recorded assembly no ``--assembly`` names.
4. **Every report agrees** with the statement's verdict (``VERDICT_READERS``: compliance.json with
   its exit code and counts, evidence.json, the OSCAL assessment results, compliance.md,
   controls.md, traceability.md), and ``subjects.sha256`` and ``predicate.json`` are the envelope's.
5. **The verdict is PASS**: an intact FAIL or ERROR run is exit 1 too, unless ``--any-verdict``.

Exit 2, one line: unusable input (no reports directory, an assembly that is not one, a key that
is not an ed25519 PEM key).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.audit.attest import (
    ASSEMBLY,
    ATTESTATION_DIR,
    ENVELOPE_FILE,
    LOCKS,
    PAYLOAD_TYPE,
    PREDICATE_FILE,
    PREDICATE_TYPE,
    REPORTS,
    RULES,
    SUBJECTS_FILE,
    load_public_key,
    render_subjects,
)
from harness.audit.evidence import LOCK_GLOBS, assembly_files
from harness.audit.outputs import owned_files
from harness.errors import HarnessError
from harness.hashing import sha256_file
from harness.reading.rules import rules_digest, rules_files

ROOT = Path(__file__).resolve().parents[2]
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Statement:
    subjects: dict[str, str]  # name -> sha256
    predicate: dict[str, Any]
    signed_by: tuple[str, ...]  # key ids of the envelope's signatures


@dataclass(kw_only=True)
class Outcome:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # per kind: subjects that matched


# ------------------------------------------------------------------------------------ the statement


def read_statement(reports: Path, *, key: Any | None, allow_unsigned: bool, outcome: Outcome) -> Statement | None:
    """The statement, its signature checked; None (with the problem recorded) when there is none to trust."""
    from securesystemslib.dsse import Envelope  # noqa: PLC0415
    from securesystemslib.exceptions import VerificationError  # noqa: PLC0415

    path = reports / ATTESTATION_DIR / ENVELOPE_FILE
    if not path.is_file():
        outcome.problems.append(
            f"no statement at {path}: the run did not finish (or its reports were replaced); nothing vouches for them"
        )
        return None
    try:
        raw = path.read_bytes()[: MAX_ENVELOPE_BYTES + 1]
        sealed = Envelope.from_dict(json.loads(raw))
        payload = json.loads(sealed.payload)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        outcome.problems.append(f"{path} is not a DSSE envelope of a JSON statement: {error}")
        return None
    if sealed.payload_type != PAYLOAD_TYPE:
        outcome.problems.append(f"{path}: payloadType {sealed.payload_type!r}, expected {PAYLOAD_TYPE!r}")
        return None
    statement = _parse_statement(payload, path=path, outcome=outcome)
    if statement is None:
        return None
    signed_by = tuple(sorted(sealed.signatures))
    if key is not None:
        if not signed_by:
            outcome.problems.append(f"signature: the statement is unsigned; --key expects one by key {key.keyid[:16]}")
        else:
            try:
                sealed.verify([key], 1)
            except VerificationError:
                outcome.problems.append(
                    f"signature: no signature of key {key.keyid[:16]} (--key) verifies; signed by "
                    + ", ".join(k[:16] for k in signed_by)
                )
    elif not allow_unsigned:
        outcome.problems.append(
            "signature not checked: give the signer's public key (--key PUB.pem), or --allow-unsigned to check "
            "consistency only"
        )
    else:
        outcome.notes.append(
            "UNSIGNED: "
            + ("the statement has no signature" if not signed_by else "its signature was not checked (no --key)")
            + "; anyone who can write the reports can rewrite them and their hashes together: this checks "
            "consistency, not authenticity"
        )
    return Statement(subjects=statement[0], predicate=statement[1], signed_by=signed_by)


def _parse_statement(payload: Any, *, path: Path, outcome: Outcome) -> tuple[dict[str, str], dict[str, Any]] | None:
    from google.protobuf import json_format  # noqa: PLC0415
    from in_toto_attestation.v1.statement import Statement as InTotoStatement  # noqa: PLC0415
    from in_toto_attestation.v1.statement_pb2 import Statement as StatementProto  # noqa: PLC0415

    try:
        parsed = InTotoStatement.copy_from_pb(json_format.ParseDict(payload, StatementProto()))
        parsed.validate()
    except (json_format.ParseError, ValueError, TypeError) as error:
        outcome.problems.append(f"{path}: not an in-toto Statement v1: {error}")
        return None
    if payload.get("predicateType") != PREDICATE_TYPE:
        outcome.problems.append(f"{path}: predicateType {payload.get('predicateType')!r}, expected {PREDICATE_TYPE!r}")
        return None
    digests: dict[str, str] = {}
    for subject in payload.get("subject") or []:
        name, digest = subject.get("name", ""), (subject.get("digest") or {}).get("sha256", "")
        if not name or not digest or name in digests:
            outcome.problems.append(f"{path}: subject {name!r} has no sha256 digest or is listed twice")
            return None
        digests[name] = digest
    return digests, dict(payload.get("predicate") or {})


# ------------------------------------------------------------------------------------ subjects


def _compare(kind: str, expected: Mapping[str, str], actual: Mapping[str, Path], outcome: Outcome) -> None:
    """Each expected name against its file (differs / missing), and each actual file no subject names."""
    matched = 0
    for name, digest in sorted(expected.items()):
        path = actual.get(name)
        if path is None or not path.is_file():
            outcome.problems.append(f"missing: {name}")
            continue
        found = sha256_file(path)
        if found != digest:
            outcome.problems.append(f"differs: {name} (sha256 {found}, statement {digest})")
        else:
            matched += 1
    outcome.problems += [f"not in the statement: {name}" for name in sorted(set(actual) - set(expected))]
    outcome.checked[kind] = outcome.checked.get(kind, 0) + matched


def _prefixed(subjects: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {name: digest for name, digest in subjects.items() if name.startswith(prefix)}


def check_reports(statement: Statement, reports: Path, outcome: Outcome) -> None:
    attestation = reports / ATTESTATION_DIR
    actual = {
        REPORTS + p.relative_to(reports).as_posix(): p
        for p in owned_files(reports)
        if not p.is_relative_to(attestation)
    }
    _compare("reports", _prefixed(statement.subjects, REPORTS), actual, outcome)


def recorded_labels(statement: Statement) -> list[str]:
    """The assembly labels the run recorded (the predicate names each, files or not)."""
    return sorted({str(a.get("label")) for a in statement.predicate.get("assemblies") or [] if a.get("label")})


def match_assemblies(labels: Sequence[str], given: Sequence[str]) -> tuple[dict[str, Path], list[str]]:
    """Recorded label -> the --assembly path that is it (``LABEL=PATH``, or by directory name); unmatched problems."""
    matched: dict[str, Path] = {}
    problems: list[str] = []
    for spec in given:
        label, sep, raw = spec.partition("=")
        path = Path(raw if sep else spec)
        if not path.is_dir() or not (path / "manifest.json").is_file():
            raise HarnessError(
                f"--assembly {path} is not a cloud assembly (a directory with manifest.json, e.g. cdk.out)"
            )
        if sep:
            candidates = [label] if label in labels else []
        else:
            name = path.resolve().name
            candidates = [x for x in labels if x == name or x.endswith("/" + name)]
            if not candidates and len(labels) == 1 == len(given):
                candidates = list(labels)  # a renamed copy of the one assembly the run judged
        if len(candidates) != 1:
            shown = ", ".join(labels) or "none (the run judged no assembly)"
            problems.append(
                f"--assembly {spec} is not an assembly this run judged (it recorded: {shown}; use LABEL=PATH)"
            )
            continue
        matched[candidates[0]] = path.resolve()
    problems += [f"not checked: assembly {x} (give --assembly PATH for it)" for x in labels if x not in matched]
    return matched, problems


def check_assemblies(statement: Statement, given: Sequence[str], outcome: Outcome) -> None:
    labels = recorded_labels(statement)
    matched, problems = match_assemblies(labels, given)
    outcome.problems += problems
    for label, path in sorted(matched.items()):
        prefix = f"{ASSEMBLY}{label}/"
        actual = {prefix + p.relative_to(path).as_posix(): p for p in assembly_files(path)}
        _compare("assembly files", _prefixed(statement.subjects, prefix), actual, outcome)


def check_rules(statement: Statement, root: Path, outcome: Outcome) -> None:
    expected = _prefixed(statement.subjects, RULES)
    actual = {name: root / name.removeprefix(RULES) for name in expected}
    actual |= {RULES + rel: root / rel for rel in rules_files(root)}
    _compare("rules", expected, actual, outcome)
    recorded = (statement.predicate.get("rules") or {}).get("digest")
    if recorded != rules_digest(root):
        outcome.problems.append(
            f"rules digest: the statement records {recorded}, this checkout's rules are {rules_digest(root)} "
            "(verify from a checkout of the run's commit, or --root it)"
        )
    expected_locks = _prefixed(statement.subjects, LOCKS)
    locks = {LOCKS + p.relative_to(root).as_posix(): p for g in LOCK_GLOBS for p in root.glob(g) if p.is_file()}
    _compare("lock files", expected_locks, locks, outcome)


# ------------------------------------------------------------------------------------ reports agree


def _json_field(*keys: str) -> Callable[[Path], Any]:
    def read(path: Path) -> Any:
        value: Any = json.loads(path.read_text(encoding="utf-8"))
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return read


def _oscal_verdict(path: Path) -> Any:
    results = json.loads(path.read_text(encoding="utf-8"))["assessment-results"]["results"]
    return next((p["value"] for p in results[0].get("props", []) if p.get("name") == "verdict"), None)


def _markdown(pattern: str) -> Callable[[Path], Any]:
    compiled = re.compile(pattern)

    def read(path: Path) -> Any:
        found = compiled.search(path.read_text(encoding="utf-8"))
        return found[1] if found else None

    return read


# Every report that states the verdict, and how to read it: a report added later gets a line here.
VERDICT_READERS: tuple[tuple[str, Callable[[Path], Any]], ...] = (
    ("compliance.json", _json_field("verdict")),
    ("evidence/evidence.json", _json_field("verdict", "verdict")),
    ("oscal/assessment-results.json", _oscal_verdict),
    ("compliance.md", _markdown(r"(?m)^# \S+ Compliance gate: (\w+)")),
    ("controls.md", _markdown(r"Verdict of this run: \*\*(\w+)\*\*")),
    ("traceability.md", _markdown(r"Verdict of this run: \*\*(\w+)\*\*")),
)


def check_agreement(statement: Statement, reports: Path, outcome: Outcome) -> None:
    """Every report that states a verdict states the statement's; compliance.json's exit code and counts too."""
    verdict = statement.predicate.get("verdict")
    if not (reports / "compliance.json").is_file():
        outcome.problems.append("compliance.json is missing: the run's verdict for machines is not there")
    for name, reader in VERDICT_READERS:
        path = reports / name
        if not path.is_file():
            continue
        try:
            said = reader(path)
        except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
            outcome.problems.append(f"disagrees: {name} cannot be read ({type(error).__name__}: {error})")
            continue
        if said != verdict:
            outcome.problems.append(f"disagrees: {name} says {said!r}, the statement {verdict!r}")
    _check_numbers(statement, reports / "compliance.json", outcome)
    _check_derived(statement, reports / ATTESTATION_DIR, outcome)


def _check_numbers(statement: Statement, report: Path, outcome: Outcome) -> None:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # missing or unreadable: reported above
    for key, field_name in (("exit_code", "exitCode"), ("counts", "counts")):
        if not isinstance(data, dict) or data.get(key) != statement.predicate.get(field_name):
            outcome.problems.append(f"disagrees: compliance.json {key} is not the statement's {field_name}")


def _check_derived(statement: Statement, attestation: Path, outcome: Outcome) -> None:
    """subjects.sha256 and predicate.json (what CI's actions/attest signs) are the envelope's own."""
    subjects_file, predicate_file = attestation / SUBJECTS_FILE, attestation / PREDICATE_FILE
    if not subjects_file.is_file() or subjects_file.read_text(encoding="utf-8") != render_subjects(statement.subjects):
        outcome.problems.append(f"disagrees: {ATTESTATION_DIR}/{SUBJECTS_FILE} is not the statement's subjects")
    try:
        predicate = json.loads(predicate_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        predicate = None
    if predicate != statement.predicate:
        outcome.problems.append(f"disagrees: {ATTESTATION_DIR}/{PREDICATE_FILE} is not the statement's predicate")


# ------------------------------------------------------------------------------------ the command


@dataclass(frozen=True, kw_only=True)
class VerifyRequest:
    reports: Path
    assemblies: Sequence[str]
    key: Path | None = None
    allow_unsigned: bool = False
    any_verdict: bool = False
    root: Path = ROOT


def verify(request: VerifyRequest) -> tuple[int, list[str]]:
    """(exit code, lines): 0 and one confirmation, 1 and every problem; HarnessError for unusable input."""
    if not request.reports.is_dir():
        raise HarnessError(f"--reports {request.reports} is not a directory (give the gate's --reports directory)")
    key = load_public_key(request.key) if request.key is not None else None
    outcome = Outcome()
    statement = read_statement(request.reports, key=key, allow_unsigned=request.allow_unsigned, outcome=outcome)
    if statement is not None:
        check_reports(statement, request.reports, outcome)
        check_assemblies(statement, request.assemblies, outcome)
        check_rules(statement, request.root.resolve(), outcome)
        check_agreement(statement, request.reports, outcome)
    predicate = statement.predicate if statement is not None else {}
    verdict, code = predicate.get("verdict", "?"), predicate.get("exitCode", "?")
    if statement is not None and verdict != "PASS" and not request.any_verdict:
        outcome.problems.append(
            f"verdict: the run's verdict is {verdict} (exit {code}), not PASS"
            + (f": {predicate['error']}" if predicate.get("error") else "")
            + " (--any-verdict accepts an intact run of any verdict)"
        )
    if outcome.problems:
        return 1, [
            f"verify: {len(outcome.problems)} problem(s) with the reports in {request.reports}:",
            *(f"  {line}" for line in outcome.problems),
            *outcome.notes,
        ]
    return 0, [_confirmation(statement, outcome, key_checked=key is not None), *outcome.notes]


def _confirmation(statement: Statement | None, outcome: Outcome, *, key_checked: bool) -> str:
    assert statement is not None  # no problem means a statement was read
    predicate = statement.predicate
    source = predicate.get("source") or {}
    run = predicate.get("run") or {}
    commit = str(source.get("commit", ""))[:12] or "no commit"
    tree = "clean" if source.get("clean") else f"{source.get('changed_count', '?')} file(s) changed"
    signed = "unsigned" if not statement.signed_by else "signed" if key_checked else "signed (signature not checked)"
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(outcome.checked.items()))
    return (
        f"verified: {signed} statement of a {predicate.get('verdict')} run (exit {predicate.get('exitCode')}) of commit "
        f"{commit} ({tree}), {run.get('startedOn')} to {run.get('finishedOn')}: every subject matches ({counts}) "
        "and every report agrees"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness verify",
        description="Check a gate run's reports, cloud assembly and rules against its signed in-toto statement "
        "(reports/attestation/).",
        epilog="exit codes: 0 intact PASS run, 1 a problem (each named: signature, a file that differs, is missing "
        "or is extra, a report that disagrees, a verdict that is not PASS), 2 unusable input",
    )
    p.add_argument("--reports", type=Path, required=True, help="the report directory of the gate run")
    p.add_argument(
        "--assembly",
        action="append",
        required=True,
        metavar="[LABEL=]PATH",
        help="a cloud assembly the run judged, e.g. cdk.out (repeatable; LABEL= when its directory name differs)",
    )
    p.add_argument("--key", type=Path, default=None, help="the signer's ed25519 public key (PEM)")
    p.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept an unsigned statement (or no --key): checks consistency, not authenticity, and says so",
    )
    p.add_argument("--any-verdict", action="store_true", help="exit 0 for an intact FAIL or ERROR run too")
    p.add_argument(
        "--root", type=Path, default=ROOT, help="checkout whose rules and lock files to check (default: this one)"
    )
    return p


def verify_main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    request = VerifyRequest(
        reports=args.reports,
        assemblies=list(args.assembly),
        key=args.key,
        allow_unsigned=args.allow_unsigned,
        any_verdict=args.any_verdict,
        root=args.root,
    )
    try:
        code, lines = verify(request)
    except HarnessError as error:
        print(f"verify error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"verify error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    print("\n".join(lines), file=sys.stdout if code == 0 else sys.stderr)
    return code
