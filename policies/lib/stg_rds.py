"""Facts about an RDS DB instance that change what its other properties mean.

- :func:`origin`: an instance restored from a snapshot or backups, or created as a read replica,
  takes its storage encryption, master credentials, engine version and (for a replica) backups
  from that source, whatever the template says beside it (CloudFormation's documentation of
  ``KmsKeyId``, ``StorageEncrypted``, ``MasterUsername``, ``DBSnapshotIdentifier``,
  ``SourceDBInstanceIdentifier``). The spec's database is created by this template, so a
  policy whose behaviour is inherited fails such an instance, naming the property.
- :func:`parameter_group`: the DB parameter group the instance really runs with: the template's
  group its ``DBParameterGroupName`` names (by Ref, or by the group's name however it is
  written), of the family of the instance's engine version (RDS refuses another family).
  No group means the engine's default group; a name the template does not define is a group
  nobody here reviewed.
- :func:`parameter`: a parameter of a group, ``Parameters`` given as a map or a JSON string.

Each is computed once per template and instance (``Context.fact``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

INSTANCE = "AWS::RDS::DBInstance"
PARAMETER_GROUP = "AWS::RDS::DBParameterGroup"

# Properties that make the instance a copy of something the template does not describe.
ORIGIN_PROPERTIES: Mapping[str, str] = {
    "DBSnapshotIdentifier": "the instance is restored from that DB snapshot",
    "DBClusterSnapshotIdentifier": "the instance is restored from that DB cluster snapshot",
    "SourceDBInstanceIdentifier": "the instance is a read replica (or a restore) of that instance",
    "SourceDBClusterIdentifier": "the instance is a read replica of that DB cluster",
    "SourceDbiResourceId": "the instance is restored from that instance's backups",
    "SourceDBInstanceAutomatedBackupsArn": "the instance is restored from those replicated automated backups",
    "SourceRegion": "the instance is created from a source instance in that Region",
    "RestoreTime": "the instance is restored from another instance's backups",
    "UseLatestRestorableTime": "the instance is restored from another instance's backups",
}
# With one of these, SourceDBInstanceIdentifier restores a point in time instead of creating a replica.
_RESTORE_TIME = ("RestoreTime", "UseLatestRestorableTime")


@dataclass(frozen=True)
class Origin:
    """Where an instance's data and settings come from when the template does not create it fresh."""

    prop: str  # the property that says so
    value: Any
    replica: bool  # a read replica (no backups of its own, credentials and engine of its source)

    def inherits(self, what: str) -> lib.Verdict:
        """Failed: ``what`` is inherited from a source the template does not describe."""
        return lib.failed(
            f"{self.prop} is {lib.describe(self.value)}: {ORIGIN_PROPERTIES[self.prop]}, so {what} come from "
            "there, not from this template"
        )


def _set(value: Any) -> bool | None:
    """Whether an origin property is in effect (an empty DBSnapshotIdentifier or a false flag is not)."""
    if value is cfn.NO_VALUE or value == "" or lib.truth(value) is False:
        return False
    return None if isinstance(value, cfn.Unknown) else True


def origin(ctx: lib.Context, db: str) -> Origin | lib.Verdict | None:
    """The instance's origin; None for a fresh instance; not evaluated when the template cannot tell."""
    return ctx.fact(("stg_rds.origin", db), lambda: _origin(ctx, db))


def _origin(ctx: lib.Context, db: str) -> Origin | lib.Verdict | None:
    restoring = any(_set(ctx.value(db, p)) for p in _RESTORE_TIME)
    for prop in ORIGIN_PROPERTIES:
        value = ctx.value(db, prop)
        state = _set(value)
        if state is None:
            return lib.unknown_in(value, prop) or lib.not_evaluated(f"{prop} is not determined by the template")
        if state:
            replica = prop in ("SourceDBInstanceIdentifier", "SourceDBClusterIdentifier") and not restoring
            return Origin(prop=prop, value=value, replica=replica)
    return None


def inherited(ctx: lib.Context, db: str, what: str) -> lib.Verdict | None:
    """A verdict when ``what`` is inherited from a source outside the template (or that cannot be told), else None."""
    found = origin(ctx, db)
    if isinstance(found, Origin):
        return found.inherits(what)
    return found


def cluster_member(ctx: lib.Context, db: str, what: str) -> lib.Verdict | None:
    """Failed when the instance belongs to a DB cluster, whose settings decide ``what``."""
    cluster = ctx.value(db, "DBClusterIdentifier")
    if cluster is cfn.NO_VALUE:
        return None
    return lib.unknown_in(cluster, "DBClusterIdentifier") or lib.failed(
        f"DBClusterIdentifier is {lib.describe(cluster)}: {what} are the DB cluster's, not this instance's"
    )


# --------------------------------------------------------------------------------------
# Engine and parameter group
# --------------------------------------------------------------------------------------

_VERSION = re.compile(r"^(?P<major>\d+)(?:\.(?P<minor>\d+))?")


def engine_family(engine: Any, version: Any) -> str | None:
    """The parameter group family of a postgres engine version (``13.23`` -> ``postgres13``), else None."""
    if engine != "postgres" or not isinstance(version, str):
        return None
    match = _VERSION.match(version)
    if match is None:
        return None
    major = int(match["major"])
    return f"postgres{major}" if major >= 10 else f"postgres{major}.{match['minor']}"


def _group_name(ctx: lib.Context, group: str) -> str | None:
    name = lib.name_text(ctx, ctx.value(group, "DBParameterGroupName"))
    return name.lower() if name is not None else None


def _named_group(ctx: lib.Context, value: Any) -> str | lib.Verdict:
    """The template's parameter group ``value`` names, or the verdict on why it names none."""
    found = lib.symbol(value)
    if found is not None:
        if (
            found.resource_type == PARAMETER_GROUP
            and found.origin == "this"
            and found.attribute in ("", "DBParameterGroupName")
        ):
            return found.name
        return lib.failed(f"DBParameterGroupName is {lib.describe(value)}, not a DB parameter group of the template")
    name = lib.name_text(ctx, value)
    if name is None:
        return lib.unknown_in(value, "DBParameterGroupName") or lib.not_evaluated(
            f"DBParameterGroupName {lib.describe(value)} is not determined by the template"
        )
    matches = [g for g in ctx.of_type(PARAMETER_GROUP) if _group_name(ctx, g) == name.lower()]
    if len(matches) == 1:
        return matches[0]
    return lib.failed(
        f"DBParameterGroupName is {name!r}, which no DB parameter group of the template is named: the instance "
        "runs with a group (an engine default, or another stack's) whose parameters nobody here reviewed"
    )


def parameter_group(ctx: lib.Context, db: str) -> str | lib.Verdict:
    """The logical id of the parameter group the instance runs with, or the verdict on why it has none to judge."""
    return ctx.fact(("stg_rds.parameter_group", db), lambda: _parameter_group(ctx, db))


def _parameter_group(ctx: lib.Context, db: str) -> str | lib.Verdict:
    value = ctx.value(db, "DBParameterGroupName")
    if value is cfn.NO_VALUE:
        return lib.failed(
            "DBParameterGroupName is not set: the instance runs with the engine's default parameter group, "
            "not the template's staging settings"
        )
    group = _named_group(ctx, value)
    if isinstance(group, lib.Verdict):
        return group
    family = ctx.value(group, "Family")
    engine, version = ctx.value(db, "Engine"), ctx.value(db, "EngineVersion")
    wanted = engine_family(engine, version)
    for what, found in (("Family", family), ("Engine", engine), ("EngineVersion", version)):
        unknown = lib.unknown_in(found, what)
        if unknown is not None:
            return unknown
    if wanted is None:
        return lib.failed(
            f"the instance's engine {lib.describe(engine)} {lib.describe(version)} has no PostgreSQL parameter "
            f"group family, so group {group} ({lib.describe(family)}) cannot apply"
        )
    if not isinstance(family, str) or family.lower() != wanted:
        return lib.failed(
            f"parameter group {group} has Family {lib.describe(family)}, but the instance runs "
            f"{engine} {version} ({wanted}): RDS refuses a group of another family, so its settings never apply"
        )
    return group


def parameters(ctx: lib.Context, group: str) -> Mapping[str, Any] | lib.Verdict:
    """A group's Parameters as a map (a JSON string parsed), or the verdict on why the template does not fix them."""
    value = lib.parse_json_text(ctx.value(group, "Parameters"))
    if value is cfn.NO_VALUE:
        return {}
    if isinstance(value, Mapping):
        return value
    return lib.unknown_in(value, "Parameters") or lib.failed(f"Parameters is {lib.describe(value)}, not a map")


def parameter(ctx: lib.Context, group: str, name: str) -> Any:
    """One parameter of a group (cfn.NO_VALUE if it does not set it), or a Verdict when Parameters is not a map."""
    found = parameters(ctx, group)
    if isinstance(found, lib.Verdict):
        return found
    return found.get(name, cfn.NO_VALUE)


def judge_parameter(
    ctx: lib.Context, logical_id: str, name: str, *, why_not: Callable[[Any], str | None]
) -> lib.Verdict:
    """A parameter the spec or project fixes, judged on a parameter group (its value) or on a DB instance (the
    value of the group it really runs with). ``why_not(value)`` says why a value is wrong (None: it is right)."""
    if ctx.type_of(logical_id) == INSTANCE:
        group = parameter_group(ctx, logical_id)
        if isinstance(group, lib.Verdict):
            return group
        verdict = judge_parameter(ctx, group, name, why_not=why_not)
        return lib.Verdict(verdict.status, f"parameter group {group}: {verdict.reason}" if verdict.reason else "")
    value = parameter(ctx, logical_id, name)
    if isinstance(value, lib.Verdict):
        return value
    if value is cfn.NO_VALUE:
        return lib.failed(f"Parameters.{name} is not set: the engine's default applies")
    reason = lib.undetermined(value)
    if reason is not None:
        return lib.unknown_in(value, f"Parameters.{name}") or lib.not_evaluated(f"Parameters.{name}: {reason}")
    wrong = why_not(value)
    return lib.passed() if wrong is None else lib.failed(f"Parameters.{name} is {lib.describe(value)}: {wrong}")


def integer(value: Any) -> int | None:
    """A parameter value as RDS reads an integer parameter (200 and "200" alike), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        return int(value)
    return None


def is_formula(value: Any) -> bool:
    """An RDS parameter formula such as ``{DBInstanceClassMemory/9531392}``: computed from the instance class."""
    return isinstance(value, str) and "{" in value
