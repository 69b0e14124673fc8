"""The dev -> staging migration: runbook scripts (docs/migration.md) and their rehearsal."""
