# SPDX-License-Identifier: BSD-3-Clause
"""gossipd's Python client: the status view (statusview) and the control
socket (control). Pure standard library; docs/PYTHON.md."""

from .control import (Control, ControlError, ControlTimeout,  # noqa: F401
                      ControlUnavailable)
from .statusview import (CorruptView, NotAStatusView,  # noqa: F401
                         Snapshot, StatusView, StatusViewError, TornRead,
                         UnsupportedVersion, WriterGone, find_view,
                         list_views, read)

__all__ = ["Control", "ControlError", "ControlTimeout", "ControlUnavailable",
           "CorruptView", "NotAStatusView", "Snapshot", "StatusView",
           "StatusViewError", "TornRead", "UnsupportedVersion",
           "WriterGone", "find_view", "list_views", "read"]
__version__ = "1.0"
