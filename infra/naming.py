"""Physical names: ``<resource-type>-<environment>-<suffix>``, checked against AWS limits.

The resource-type token may carry a qualifier when a stack has several resources of one
type (``alarm-cpu``, ``sg-db``). Every name is checked here, at construction time, so a
suffix that would overflow a limit is a config error, not a failed deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from infra.config import ConfigError


class NameKind(Enum):
    """AWS name rules per resource kind: (max length, allowed pattern)."""

    DB_INSTANCE = (63, r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
    DB_PARAMETER_GROUP = (255, r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
    DB_SUBNET_GROUP = (255, r"[a-z0-9][a-z0-9._ -]*")
    SECURITY_GROUP = (255, r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+")
    KMS_ALIAS = (256, r"alias/[A-Za-z0-9/_-]+")
    LOG_GROUP = (512, r"[A-Za-z0-9._/#-]+")
    SNS_TOPIC = (256, r"[A-Za-z0-9_-]+")
    ALARM = (255, r"[^\x00-\x1f]+")
    DASHBOARD = (255, r"[A-Za-z0-9_-]+")
    IAM_ROLE = (64, r"[A-Za-z0-9+=,.@_-]+")
    IAM_MANAGED_POLICY = (128, r"[A-Za-z0-9+=,.@_-]+")
    STACK = (128, r"[A-Za-z][A-Za-z0-9-]*")
    EXPORT = (255, r"[A-Za-z0-9:-]+")
    TAG_NAME = (256, r".+")

    @property
    def max_length(self) -> int:
        return self.value[0]

    @property
    def pattern(self) -> str:
        return self.value[1]


# What a convention-following name looks like, for the property tests and the gate.
CONVENTION = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"


@dataclass(frozen=True, kw_only=True)
class ResourceNamer:
    """Derives every physical name of the stack from the environment and the suffix."""

    environment: str
    suffix: str

    @property
    def tail(self) -> str:
        return f"{self.environment}-{self.suffix}"

    def name(self, resource_type: str, *, kind: NameKind) -> str:
        """``resource_type-environment-suffix``, e.g. ``name("rds", kind=DB_INSTANCE)``."""
        if not re.fullmatch(CONVENTION, resource_type):
            raise ValueError(f"resource type token {resource_type!r} must match {CONVENTION}")
        return self._checked(f"{resource_type}-{self.tail}", kind)

    def alias(self, resource_type: str) -> str:
        return self._checked(f"alias/{resource_type}-{self.tail}", NameKind.KMS_ALIAS)

    def log_group(self, *segments: str) -> str:
        return self._checked("/" + "/".join(segments), NameKind.LOG_GROUP)

    def _checked(self, name: str, kind: NameKind) -> str:
        if len(name) > kind.max_length or not re.fullmatch(kind.pattern, name):
            raise ConfigError(
                key="environmentSuffix",
                value=self.suffix,
                rule=(
                    f"derived {kind.name.lower().replace('_', ' ')} name {name!r} breaks the AWS rule "
                    f"(at most {kind.max_length} characters matching {kind.pattern})"
                ),
                example="pr-42",
            )
        return name


def follows_convention(name: str, *, environment: str, suffix: str) -> bool:
    """True if some '/'-separated segment of ``name`` is ``<type>-<environment>-<suffix>``."""
    pattern = re.compile(rf"{CONVENTION}-{re.escape(environment)}-{re.escape(suffix)}")
    return any(pattern.fullmatch(segment) for segment in name.split("/"))
