"""Restructure ``harness/`` from flat modules into a ladder of stage packages (issue 20), re-runnably.

Run from the repository root, on any checkout of main (stdlib only)::

    python3 scripts/restructure_harness.py [--ruff PATH] [--dry-run]

What it does, in order (every step is idempotent: a second run changes nothing):

1. ``git mv`` every flat module (and the data files its code finds beside it) into its package,
   per :data:`MAPPING`, creating each package's ``__init__.py`` (a docstring only: nothing is
   re-exported, so a package is a real layer and every import names the module it needs). A moved
   module that finds files by ``Path(__file__)`` keeps finding the same directory (the ``parent``
   steps grow by how many levels it went down).
2. Rewrites every reference to a moved module in the tracked text files (:data:`REWRITE_SUFFIXES`):
   ``from harness import x`` / ``from harness.x import y`` / ``import harness.x as z``, dotted
   strings (``"harness.x.f"`` in monkeypatch strings, ``python -m harness.x``, docs), paths
   (``harness/x.py``, ``harness/oscal/``) and ``"harness" / "x.py"`` path expressions.
3. Writes the import-linter layers contract of pyproject.toml over the packages (:data:`LAYERS`),
   and the "Layout: a ladder of stages" section of docs/compliance-gate.md, both from the tables.
4. Refuses (exit 1, listing them) when a flat harness module or data file is not in the tables:
   a module another branch added must be placed on the ladder by adding it to :data:`MAPPING`.

Then ruff sorts the imports it rewrote (``ruff check --select I --fix`` and ``ruff format`` on the
Python files it changed), when ``--ruff`` or ``ruff`` on PATH or ``.nox/lint/bin/ruff`` is found.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# One row per harness module: old dotted name -> new dotted name. A module that stays where it is
# maps to itself (the conductors on top, the ground at the bottom): every flat module must be here.
MAPPING: dict[str, str] = {
    # the command line and the gate stay flat: each is one module on its own floor; the merge is a package (reading the shards, folding them)
    "harness.__main__": "harness.__main__",
    "harness.cli": "harness.cli",
    "harness.gate": "harness.gate",
    "harness.merge": "harness.merging.merge",
    "harness.merge_inputs": "harness.merging.merge_inputs",  # the shards' reports read back into one report input
    # audit: publish a run's outcome and prove it (bundle, OSCAL, evidence, statement, verify)
    "harness.outcome": "harness.audit.outcome",
    "harness.verify": "harness.audit.verify",
    "harness.bundle": "harness.audit.bundle",
    "harness.oscal": "harness.audit.oscal",  # a package: moved whole
    "harness.attest": "harness.audit.attest",
    "harness.evidence": "harness.audit.evidence",
    "harness.outputs": "harness.audit.outputs",
    # reporting: the report input and every format it is rendered to
    "harness.reports": "harness.reporting.reports",
    "harness.report_fields": "harness.reporting.report_fields",
    "harness.sarif": "harness.reporting.sarif",
    "harness.rules_report": "harness.reporting.rules_report",
    "harness.console": "harness.reporting.console",
    "harness.report_markdown": "harness.reporting.report_markdown",
    "harness.report_json": "harness.reporting.report_json",
    "harness.report_junit": "harness.reporting.report_junit",
    "harness.report_traceability": "harness.reporting.report_traceability",
    "harness.report_files": "harness.reporting.report_files",
    # comparison: a change against its base (the base, the resource changes, the finding delta,
    # the head judged by the base's rules)
    "harness.base": "harness.comparison.base",
    "harness.changes": "harness.comparison.changes",
    "harness.delta": "harness.comparison.delta",
    "harness.policy_change": "harness.comparison.policy_change",
    "harness.change_rules": "harness.comparison.change_rules",
    "harness.change_values": "harness.comparison.change_values",
    # verdict: findings folded into one verdict per rule and resource, and the gate's own checks
    "harness.judge": "harness.verdict.judge",
    "harness.coverage": "harness.verdict.coverage",
    "harness.content": "harness.verdict.content",
    "harness.controls": "harness.verdict.controls",
    "harness.settle": "harness.verdict.settle",
    "harness.reviewed": "harness.verdict.reviewed",
    "harness.code_review": "harness.verdict.code_review",
    "harness.code_hashes": "harness.verdict.code_hashes",
    "harness.deployed_findings": "harness.verdict.deployed_findings",
    "harness.rule_ids": "harness.verdict.rule_ids",
    "harness.mutations": "harness.verdict.mutations",
    # tools: the external checkers, synthesis, and the one waiver rule they all apply
    "harness.synth": "harness.tools.synth",
    "harness.nag": "harness.tools.nag",
    "harness.nag_include": "harness.tools.nag_include",
    "harness.nag_tree": "harness.tools.nag_tree",
    "harness.run_checkov": "harness.tools.run_checkov",
    "harness.run_cfnlint": "harness.tools.run_cfnlint",
    "harness.run_pytest": "harness.tools.run_pytest",
    "harness.pytest_progress": "harness.tools.pytest_progress",  # run_pytest copies it beside the tiers
    "harness.waivers": "harness.tools.waivers",
    # catalog: the auditable data of policies/ (already a package, unchanged)
    "harness.catalog": "harness.catalog",
    # reading: everything the gate is given, read defensively
    "harness.inputs": "harness.reading.inputs",
    "harness.assembly": "harness.reading.assembly",
    "harness.assets": "harness.reading.assets",
    "harness.deployed": "harness.reading.deployed",
    "harness.code_carriers": "harness.reading.code_carriers",
    "harness.sources": "harness.reading.sources",
    "harness.worlds": "harness.reading.worlds",
    "harness.rules": "harness.reading.rules",
    "harness.digests": "harness.reading.digests",
    "harness.schema_facts": "harness.reading.schema_facts",
    # the ground: records, errors, paths, hashing, processes, Markdown (flat, imported by all)
    "harness.model": "harness.model",
    "harness.errors": "harness.errors",
    "harness.paths": "harness.paths",
    "harness.hashing": "harness.hashing",
    "harness.proc": "harness.proc",
    "harness.markdown": "harness.markdown",
    "harness.heartbeat": "harness.heartbeat",
}

# Non-Python files in harness/ that a module finds beside itself (``Path(__file__).with_name``).
DATA_FILES: dict[str, str] = {
    "harness/checkov.yaml": "harness/tools/checkov.yaml",  # run_checkov's CONFIG_FILE
}

# The ladder, top to bottom: (layer of the import-linter contract, what it is). A layer imports only
# the layers below it; "a | b" are independent (neither imports the other), "a : b" may import each
# other. Every package of MAPPING is one layer.
LAYERS: list[tuple[str, str]] = [
    ("harness.__main__", "`python -m harness`"),
    ("harness.cli", "the command line: parsing and dispatch, exit codes"),
    ("harness.gate | harness.merging", "the conductors: one gate run; the shards of a CI matrix read and merged"),
    ("harness.audit", "publishing and proving a run: bundle, OSCAL, evidence, in-toto statement, verify"),
    ("harness.reporting", "the report input and every format it is written in (Markdown, JSON, JUnit, SARIF)"),
    ("harness.comparison", "a change against its base: the base, resource changes, finding delta, base rules"),
    ("harness.verdict", "findings into one verdict: judge, coverage, content, controls, reviews, settle"),
    ("harness.tools", "checkov, cfn-lint, pytest tiers, cdk-nag, synthesis, the waiver rule they apply"),
    ("harness.catalog", "the auditable data of policies/: schema, loading, rendering"),
    ("harness.reading", "what the gate is given, read defensively: assemblies, assets, sources, worlds, rules"),
    (
        "harness.model : harness.errors : harness.paths : harness.hashing : harness.proc : harness.markdown"
        " : harness.heartbeat",
        "the ground: records, the harness error, paths, hashing, processes, Markdown, progress lines",
    ),
]

CONTRACT_NAME = "The gate's ladder: each harness stage imports only the stages below it"
DOC_PATH = Path("docs/compliance-gate.md")
DOC_BEGIN = "<!-- ladder: written by scripts/restructure_harness.py from its LAYERS -->"
DOC_END = "<!-- ladder: end -->"
DOC_ANCHOR = "## Proof ("  # the section is placed just before this heading the first time
REWRITE_SUFFIXES = (".py", ".pyi", ".md", ".toml", ".yaml", ".yml", ".txt", ".in", ".cfg", ".ini", ".sh")
REWRITE_NAMES = ("CODEOWNERS",)
SELF = Path("scripts/restructure_harness.py")
NOT_REWRITTEN = {SELF, Path("tests/harness/test_restructure_script.py")}  # the script and its own test cases


class RefusedError(Exception):
    """What the script will not guess: printed as lines, exit 1."""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def module_path(dotted: str) -> tuple[Path, Path]:
    """(file if a module, directory if a package) of a dotted harness name."""
    base = Path(*dotted.split("."))
    return base.with_suffix(".py"), base


def moved() -> dict[str, str]:
    return {old: new for old, new in MAPPING.items() if old != new}


# ---------------------------------------------------------------------------------------------
# 1. the moves
# ---------------------------------------------------------------------------------------------


def unplaced_modules() -> list[str]:
    """Flat harness modules, packages and data files that the tables do not place."""
    files = {module_path(old)[0] for old in MAPPING}
    directories = {module_path(old)[1] for old in MAPPING} | {Path(*new.split(".")[:2]) for new in MAPPING.values()}
    problems = []
    for entry in sorted(Path("harness").iterdir()):
        if entry.name in {"__init__.py", "__pycache__"}:
            continue
        if entry.is_dir() and entry not in directories and any(entry.rglob("*.py")):
            problems.append(
                f"{entry}/ (a package): add 'harness.{entry.name}': 'harness.<stage>.{entry.name}' to MAPPING"
            )
        elif entry.suffix == ".py" and entry not in files:
            problems.append(f"{entry}: add 'harness.{entry.stem}': 'harness.<stage>.{entry.stem}' to MAPPING")
        elif entry.is_file() and entry.suffix != ".py" and str(entry) not in DATA_FILES:
            problems.append(f"{entry} (a data file): add it to DATA_FILES if a moved module reads it")
    return problems


def package_docstring(package: str) -> str:
    for layer, what in LAYERS:
        if package in [name.strip() for name in re.split(r"[|:]", layer)]:
            body = (
                'It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). '
                "Nothing is re-exported here, so each layer is real and every import names the module it uses."
            )
            lines = textwrap.wrap(f"The {package.rpartition('.')[2]} stage: {what}.", 100)
            return '"""' + "\n".join(lines) + "\n\n" + "\n".join(textwrap.wrap(body, 100)) + '\n"""\n'
    raise RefusedError([f"{package}: a package of MAPPING that LAYERS does not list"])


def ensure_package(directory: Path, *, dry_run: bool) -> None:
    """Create ``harness/<stage>/__init__.py`` (and the directory) if it is missing."""
    init = directory / "__init__.py"
    if init.exists() or directory == Path("harness"):
        return
    print(f"create {init}")
    if not dry_run:
        directory.mkdir(parents=True, exist_ok=True)
        init.write_text(package_docstring(".".join(directory.parts)), encoding="utf-8")
        git("add", str(init))


FILE_ANCHOR = re.compile(
    r"Path\((?P<arg>__file__)\)(?P<resolve>\.resolve\(\))?(?P<steps>(?:\.parent\b)+|\.parents\[(?P<n>\d+)\])"
)


def keep_file_anchors(path: Path, *, levels: int, dry_run: bool) -> None:
    """``Path(__file__)...parent`` keeps naming the same directory after the file went ``levels`` down."""

    def deeper(match: re.Match[str]) -> str:
        count = int(match["n"]) + 1 if match["n"] is not None else match["steps"].count(".parent")
        count += levels
        steps = ".parent" if count == 1 else f".parents[{count - 1}]"
        return f"Path(__file__){match['resolve'] or ''}{steps}"

    text = path.read_text(encoding="utf-8")
    new = FILE_ANCHOR.sub(deeper, text)
    if new != text:
        print(f"anchor {path}: Path(__file__) parents +{levels}")
        if not dry_run:
            path.write_text(new, encoding="utf-8")


def move_module(old: str, new: str, *, dry_run: bool) -> str | None:
    """``git mv`` one module or package to its stage; a problem line when it cannot."""
    old_file, old_dir = module_path(old)
    new_file, new_dir = module_path(new)
    source, target = (old_dir, new_dir) if old_dir.is_dir() or new_dir.is_dir() else (old_file, new_file)
    if target.exists():
        return None if not source.exists() else f"{source} and {target} both exist: move or merge one by hand"
    if not source.exists():
        print(f"note: MAPPING names {old}, which this tree does not have (removed on main?)")
        return None
    for parent in reversed(target.parents):
        if parent.parts[:1] == ("harness",):
            ensure_package(parent, dry_run=dry_run)
    print(f"git mv {source} {target}")
    if not dry_run:
        git("mv", str(source), str(target))
        levels = len(new.split(".")) - len(old.split("."))
        for path in [target] if target.suffix == ".py" else sorted(target.rglob("*.py")):
            keep_file_anchors(path, levels=levels, dry_run=dry_run)
    return None


def move_data_file(old: str, new: str, *, dry_run: bool) -> str | None:
    source, target = Path(old), Path(new)
    if source.exists() and target.exists():
        return f"{source} and {target} both exist: move or merge one by hand"
    if source.exists():
        print(f"git mv {source} {target}")
        if not dry_run:
            git("mv", str(source), str(target))
    return None


def move_all(*, dry_run: bool) -> None:
    problems = [move_module(old, new, dry_run=dry_run) for old, new in moved().items()]
    problems += [move_data_file(old, new, dry_run=dry_run) for old, new in DATA_FILES.items()]
    if any(problems):
        raise RefusedError([p for p in problems if p])


# ---------------------------------------------------------------------------------------------
# 2. the references
# ---------------------------------------------------------------------------------------------


def map_dotted(dotted: str) -> str:
    """The new name of a dotted reference (module, submodule of a moved package, or attribute)."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        prefix = ".".join(parts[:end])
        if prefix in MAPPING:
            return ".".join([MAPPING[prefix], *parts[end:]])
    return dotted


FROM_IMPORT = r"""(?P<from>^(?P<indent>[ \t]*)from[ \t]+(?P<module>harness(?:\.\w+)*)[ \t]+import[ \t]+
    (?:\((?P<group>[^)]*)\)|(?P<line>[^\n#]*?))(?P<comment>[ \t]*\#[^\n]*)?$)"""
DOTTED = r"(?P<dotted>(?<![\w./])harness(?:\.[A-Za-z_]\w*)+)"
PATH = r"(?P<path>(?<![\w/.-])harness(?:/\w+)+(?P<suffix>\.\w+|/)?)"
JOINED = r"""(?P<joined>(?P<q>["'])harness(?P=q)(?P<sep>[ \t]*/[ \t]*)(?P<q2>["'])(?P<leaf>\w+)\.py(?P=q2))"""
REFERENCE = re.compile("|".join([FROM_IMPORT, DOTTED, PATH, JOINED]), re.MULTILINE | re.VERBOSE)


def rewrite_from(match: re.Match[str]) -> str:
    module = match["module"]
    listed = re.sub(r"#[^\n]*", "", match["group"] or match["line"] or "")  # comments inside ( ) are dropped
    names = [n.strip() for n in listed.replace("\n", " ").split(",") if n.strip()]
    comment = (match["comment"] or "").strip()
    indent = match["indent"]
    if module != "harness":
        new_module = map_dotted(module)
        if new_module == module:
            return match[0]
        return match[0].replace(f"from {module} import", f"from {new_module} import", 1)
    # ``from harness import a, b as c``: each moved module from its new package, under its old local name
    statements: dict[str, list[str]] = {}
    for name in names:
        imported, _, alias = (part.strip() for part in name.partition(" as "))
        new = map_dotted(f"harness.{imported}")
        package, _, leaf = new.rpartition(".")
        local = alias or imported
        statements.setdefault(package, []).append(leaf if leaf == local else f"{leaf} as {local}")
    if list(statements) == ["harness"]:
        return match[0]
    suffix = f"  {comment}" if comment else ""
    return "\n".join(
        f"{indent}from {package} import {', '.join(items)}{suffix}" for package, items in statements.items()
    )


def rewrite_path(match: re.Match[str]) -> str:
    text, suffix = match["path"], match["suffix"] or ""
    if suffix and suffix not in {".py", "/"}:
        return DATA_FILES.get(text, text)
    stem = text.removesuffix(suffix)
    dotted = stem.replace("/", ".")
    if suffix != ".py" and not any(module_path(new)[1].is_dir() for old, new in moved().items() if old == dotted):
        return text  # a directory named in prose: only moved packages (harness/oscal/) are rewritten
    new = map_dotted(dotted).replace(".", "/")
    if suffix == ".py" and Path(new).is_dir():
        return new + "/"  # a stale ``harness/oscal.py`` names the package
    return new + suffix


def rewrite_reference(match: re.Match[str]) -> str:
    if match["from"] is not None:
        return rewrite_from(match)
    if match["dotted"] is not None:
        return map_dotted(match["dotted"])
    if match["path"] is not None:
        return rewrite_path(match)
    new = map_dotted(f"harness.{match['leaf']}")
    q, sep = match["q"], match["sep"]
    return sep.join(f"{q}{part}{q}" for part in new.split(".")[:-1]) + f"{sep}{q}{new.rpartition('.')[2]}.py{q}"


def rewritable_files() -> list[Path]:
    files = []
    for name in git("ls-files").splitlines():
        path = Path(name)
        if path in NOT_REWRITTEN or not path.is_file():
            continue
        if path.suffix in REWRITE_SUFFIXES or path.name in REWRITE_NAMES:
            files.append(path)
    return files


def without_generated(text: str) -> list[tuple[str, bool]]:
    """The text in pieces, each marked whether it is this script's own output (never rewritten)."""
    pieces, rest = [], text
    while DOC_BEGIN in rest and DOC_END in rest:
        head, _, tail = rest.partition(DOC_BEGIN)
        body, _, rest = tail.partition(DOC_END)
        pieces += [(head, True), (DOC_BEGIN + body + DOC_END, False)]
    return [*pieces, (rest, True)]


def rewrite_references(*, dry_run: bool) -> list[Path]:
    changed = []
    for path in rewritable_files():
        text = path.read_text(encoding="utf-8")
        new = "".join(
            REFERENCE.sub(rewrite_reference, piece) if rewrite else piece for piece, rewrite in without_generated(text)
        )
        if new != text:
            changed.append(path)
            if not dry_run:
                path.write_text(new, encoding="utf-8")
    print(f"rewrote references in {len(changed)} files")
    return changed


# ---------------------------------------------------------------------------------------------
# 3. the contract and the docs
# ---------------------------------------------------------------------------------------------

CONTRACT_BEGIN = "# ladder: written by scripts/restructure_harness.py from its LAYERS"
CONTRACT_END = "# ladder: end"


def contract_text() -> str:
    lines = [
        CONTRACT_BEGIN,
        "# The gate's ladder (issue 20): each stage is a package and imports only the stages below it",
        '# (docs/compliance-gate.md, "Layout: a ladder of stages"). "a | b": independent; "a : b": may',
        "# import each other.",
        "[[tool.importlinter.contracts]]",
        f'name = "{CONTRACT_NAME}"',
        'type = "layers"',
        "layers = [",
        *(f'    "{layer}",  # {what}' for layer, what in LAYERS),
        "]",
        CONTRACT_END,
    ]
    return "\n".join(lines) + "\n"


def write_contract(*, dry_run: bool) -> None:
    """Replace the harness layers contract (the flat one, or an earlier run's) with the ladder's."""
    path = Path("pyproject.toml")
    text = path.read_text(encoding="utf-8")
    if CONTRACT_BEGIN in text:
        head, _, tail = text.partition(CONTRACT_BEGIN)
        _, _, rest = tail.partition(CONTRACT_END + "\n")
        new = head + contract_text() + rest
    else:
        # the flat contract: its leading comment block, the table header, up to the end of ``layers = [...]``
        flat = re.search(
            r'(?:^#[^\n]*\n)*^\[\[tool\.importlinter\.contracts\]\]\n(?:(?!^\[)[^\n]*\n)*?type = "layers"\n'
            r"(?:(?!^\[)[^\n]*\n)*?layers = \[\n(?:[^\]]*\n)?\]\n",
            text,
            re.MULTILINE,
        )
        if flat is None or '"harness.' not in flat[0]:
            raise RefusedError(["pyproject.toml: no harness layers contract found to replace"])
        new = text[: flat.start()] + contract_text() + text[flat.end() :]
    if new != text:
        print("write pyproject.toml: the ladder's layers contract")
        if not dry_run:
            path.write_text(new, encoding="utf-8")


def doc_text() -> str:
    rows = []
    for index, (layer, what) in enumerate(LAYERS):
        names = [name.strip() for name in re.split(r"[|:]", layer)]
        if index + 1 < len(LAYERS):
            lower = [name.strip().rpartition(".")[2] for name in re.split(r"[|:]", LAYERS[index + 1][0])]
            below = "the ground" if index + 2 == len(LAYERS) else f"`{'` · `'.join(lower)}` and every floor below"
            if "|" in layer:
                below += " (not each other)"
        else:
            below = "one another only"
        shown = []
        for name in names:
            directory = Path(*name.split("."))
            if directory.is_dir():
                leaves = sorted(p.stem for p in directory.glob("*.py") if p.stem != "__init__")
                leaves += sorted(f"{p.parent.name}/" for p in directory.glob("*/__init__.py"))
                shown.append(f"`{directory.as_posix()}/` ({', '.join(leaves)})")
            else:
                shown.append(f"`{directory.as_posix()}.py`")
        rows.append(f"| {index + 1} | {' · '.join(shown)} | {what} | {below} |")
    return "\n".join(
        [
            DOC_BEGIN,
            "## Layout: a ladder of stages",
            "",
            "`harness/` is a ladder: each stage is a package (or, on the top and bottom floors, one",
            "module), and it imports only the floors below it. `lint-imports` (in `nox -s lint`) checks",
            "the layers contract of `pyproject.toml`; `tests/harness/test_import_graph.py` checks that no",
            "import loop or private name crosses modules. A package's `__init__.py` re-exports nothing, so",
            "every import names the module it uses. The layout is written by",
            "`scripts/restructure_harness.py` (its `MAPPING` and `LAYERS`), which refuses a flat module",
            "it does not place.",
            "",
            "| Floor | Stage (modules) | What it is | May import |",
            "|---:|---|---|---|",
            *rows,
            DOC_END,
        ]
    )


def write_doc(*, dry_run: bool) -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    if DOC_BEGIN in text:
        head, _, tail = text.partition(DOC_BEGIN)
        _, _, rest = tail.partition(DOC_END)
        new = head + doc_text() + rest
    elif DOC_ANCHOR in text:
        head, _, rest = text.partition(DOC_ANCHOR)
        new = head + doc_text() + "\n\n" + DOC_ANCHOR + rest
    else:
        new = text.rstrip("\n") + "\n\n" + doc_text() + "\n"
    if new != text:
        print(f"write {DOC_PATH}: the ladder section")
        if not dry_run:
            DOC_PATH.write_text(new, encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def find_ruff(explicit: str | None) -> str | None:
    for candidate in (explicit, shutil.which("ruff"), ".nox/lint/bin/ruff"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def tidy(files: list[Path], *, ruff: str | None) -> None:
    python = [str(p) for p in files if p.suffix in {".py", ".pyi"} and p.exists()]
    python += [str(p) for p in Path("harness").rglob("__init__.py")]
    if ruff is None:
        print("ruff not found: run `ruff check --select I --fix harness tests && ruff format` yourself")
        return
    subprocess.run([ruff, "check", "--quiet", "--select", "I", "--fix", *python], check=False)
    subprocess.run([ruff, "format", "--quiet", *python], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ruff", help="the ruff to sort rewritten imports with (default: PATH, .nox/lint/bin/ruff)")
    parser.add_argument("--dry-run", action="store_true", help="print what would move and change; write nothing")
    options = parser.parse_args()
    if not Path("harness/__init__.py").is_file() or not Path("pyproject.toml").is_file():
        print("run from the repository root (harness/ and pyproject.toml not found)", file=sys.stderr)
        return 2
    try:
        problems = unplaced_modules()
        if problems:
            raise RefusedError(problems)
        move_all(dry_run=options.dry_run)
        changed = rewrite_references(dry_run=options.dry_run)
        write_contract(dry_run=options.dry_run)
        write_doc(dry_run=options.dry_run)
    except RefusedError as refused:
        print("refused: the tables of scripts/restructure_harness.py do not cover:", file=sys.stderr)
        for line in refused.args[0]:
            print(f"  {line}", file=sys.stderr)
        return 1
    if not options.dry_run:
        tidy(changed, ruff=find_ruff(options.ruff))
        git("add", "-A", "harness", *(str(p) for p in changed), "pyproject.toml", str(DOC_PATH))
    return 0


if __name__ == "__main__":
    sys.exit(main())
