"""Server configuration for the Galata tests: a temporary root, no token, loopback only."""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is injected by traitlets)
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.open_browser = False  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821 (CI runs as root)

# Clusters of this test server only: other servers on the machine must not be reattached.
# Its kernels inherit the variable, and list their clusters there (kernel/discovery.py).
os.environ["CLUSTERCRAFT_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="clustercraft-galata-")
c.ClusterManager.runtime_dir = os.environ["CLUSTERCRAFT_RUNTIME_DIR"]  # noqa: F821
# An explicit size: "auto" would give each worker its share of the machine, and scaling a
# cluster of such workers up is refused as overcommitting it.
c.ClusterManager.default_memory_limit = "1 GiB"  # noqa: F821
