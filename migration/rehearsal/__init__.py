"""Rehearse the dev -> staging migration against two real local PostgreSQL servers.

Both servers listen on 127.0.0.1 only (unix sockets in a private temp dir). "staging"
starts with the parameter group exactly as the synthesized template holds it, mapped to
what vanilla PostgreSQL understands, and must report the spec's values (``SHOW
shared_buffers`` = 256MB, ``SHOW max_connections`` = 200): a unit mistake fails here for
real. "dev" starts without logical decoding, so the runbook's preflight must refuse it;
it is then restarted with what ``rds.logical_replication=1`` does (the dev reboot).

Then the runbook's own scripts run in order while a writer process inserts and updates
throughout. Afterwards every write the writer saw acknowledged is checked on staging (no
loss, no duplicate, last update wins), sequences are checked, and the write pause is
measured from the writer's side: last acknowledged write on dev -> first on staging.
Nothing is left running: servers stop and the temp dir goes in ``finally``.

Parts: ``servers`` (throwaway local clusters), ``parameters`` (the template's parameter
group as PostgreSQL settings), ``runner`` (the stages, the scripts, the entry point) and
``checks`` (what the servers report, every acknowledged write). ``errors`` holds what a
failed rehearsal raises.

Run: ``python -m migration.rehearsal`` (or ``nox -s rehearsal``).
"""

from migration.rehearsal.checks import SPEC_SHOW, RehearsalReport, verify_parameter_group_on_server, verify_writes
from migration.rehearsal.errors import (
    ParameterMappingError,
    RehearsalError,
    ServerBinariesMissingError,
    SettingMismatchError,
)
from migration.rehearsal.parameters import MappedParameters, map_rds_parameters, parameter_group_parameters
from migration.rehearsal.runner import REHEARSAL_MIGRATION_CONTEXT, main, run_rehearsal, synthesized_template
from migration.rehearsal.servers import describe_config

__all__ = [
    "REHEARSAL_MIGRATION_CONTEXT",
    "SPEC_SHOW",
    "MappedParameters",
    "ParameterMappingError",
    "RehearsalError",
    "RehearsalReport",
    "ServerBinariesMissingError",
    "SettingMismatchError",
    "describe_config",
    "main",
    "map_rds_parameters",
    "parameter_group_parameters",
    "run_rehearsal",
    "synthesized_template",
    "verify_parameter_group_on_server",
    "verify_writes",
]
