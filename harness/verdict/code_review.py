"""Code is content: code that runs at deploy or run time passes only when someone reviewed exactly it.

For every piece of code a resource carries (harness.reading.code_carriers: the table of what carries
code, and how its content hash is taken) the gate reports ``gate:code-review``:

* PASSED when its content hash is an entry of ``policies/code.yaml`` of the same kind (the
  finding names the entry: what it is, who reviewed it and when);
* NOT EVALUATED otherwise, naming the resource, the property, the hash, where the code is and
  how to review it; and NOT EVALUATED whatever the list says when the gate cannot read the code
  (a bucket or key the assembly does not publish, a location chosen at deploy time, an image by
  tag, an asset whose name is not the hash of its content).

A custom resource served by a function of the same template (harness.verdict.content checks that it is)
is as good as that function's code, which is judged here on the function. A waiver on a resource
that carries code binds to the code's hashes too (harness.tools.waivers): replacing the code leaves the
waiver stale and its finding gating.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.catalog.code import ReviewedCode
from harness.model import Finding, Source, Status
from harness.reading.code_carriers import CodePiece

if TYPE_CHECKING:
    from harness.reading.assembly import CloudAssembly, StackTemplate

RULE_CODE = "gate:code-review"
TITLE = "code that runs at deploy or run time is reviewed: its content hash is in policies/code.yaml"
REMEDIATION = (
    "read the code (the finding says where), then add its sha256 to policies/code.yaml with what it is, where it "
    "comes from, why it may run, the reviewer and the date (policies/README.md, 'Reviewed code')"
)


def code_findings(assemblies: Sequence[CloudAssembly], *, reviewed: Sequence[ReviewedCode]) -> list[Finding]:
    by_hash = {(entry.kind, entry.sha256): entry for entry in reviewed}
    findings: list[Finding] = []
    for assembly in assemblies:
        for stack in assembly.stacks:
            for logical_id, pieces in sorted(stack.code.items()):
                # Borrowed code (a function's layer) is judged on the resource that holds it.
                findings += [_judge(stack, logical_id, piece, by_hash) for piece in pieces if not piece.via]
    return findings


def _judge(
    stack: StackTemplate, logical_id: str, piece: CodePiece, reviewed: dict[tuple[str, str], ReviewedCode]
) -> Finding:
    where = f"{piece.path} ({piece.what})"
    if not piece.readable:
        hashed = f", content {piece.sha256}" if piece.sha256 else ""
        message = f"{where} at {piece.location}{hashed}: {piece.problem}"
        return _finding(stack, logical_id, Status.NOT_EVALUATED, message)
    entry = reviewed.get((piece.kind, piece.sha256))
    if entry is not None:
        message = f"{where}: {piece.kind} {piece.sha256} reviewed as {entry.what} ({entry.reviewer}, {entry.date.isoformat()})"
        return _finding(stack, logical_id, Status.PASSED, message)
    message = (
        f"{where}: {piece.kind} content {piece.sha256} at {piece.location} is not in policies/code.yaml: "
        f"{_how_to_read(piece)}, then add an entry with sha256 {piece.sha256} and kind {piece.kind}"
    )
    return _finding(stack, logical_id, Status.NOT_EVALUATED, message)


def _how_to_read(piece: CodePiece) -> str:
    if piece.kind == "inline":
        return f"read the value of {piece.path} in the template"
    if piece.kind == "directory":
        return "read every file of that directory (python -m harness.verdict.code_hashes hash <dir> lists them with their hashes)"
    if piece.kind == "image-digest":
        return "review the image with that digest (its Dockerfile and layers)"
    return "read that file"


def _finding(stack: StackTemplate, logical_id: str, status: Status, message: str) -> Finding:
    return Finding(
        source=Source.GATE,
        rule_id=RULE_CODE,
        status=status,
        title=TITLE,
        assembly=stack.assembly,
        stack=stack.stack_id,
        template=stack.relpath,
        logical_id=logical_id,
        construct_path=stack.construct_path(logical_id),
        resource_type=stack.resource_type(logical_id),
        message=message,
        remediation=REMEDIATION,
    )
