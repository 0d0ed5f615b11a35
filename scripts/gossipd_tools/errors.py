# SPDX-License-Identifier: BSD-3-Clause
"""The launcher's errors (scripts, tests and benches catch them)."""


class ClusterError(RuntimeError):
    """Something in the cluster's setup, control or teardown failed."""


class NodeDied(ClusterError):
    """A node that should be running is not.  wait_until() does not retry
    on it: waiting longer cannot help."""
