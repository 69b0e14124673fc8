"""``python -m migration.rehearsal``: the whole rehearsal, one verdict line."""

from migration.rehearsal.runner import main

raise SystemExit(main())
