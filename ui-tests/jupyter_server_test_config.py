"""Server configuration for the Galata tests: a temporary root, no token, loopback only."""

import os
import shutil
import tempfile

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is injected by traitlets)
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.open_browser = False  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821 (CI runs as root)
# Notebook 7 (tests/notebook7.spec.ts) shows its app to the page as galata does JupyterLab's.
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821

# Clusters of this test server only: other servers on the machine must not be reattached.
# Through the environment, so that its kernels find them too (clustercraft.connect, and the
# clusters they list themselves: kernel/discovery.py).
# setdefault: JupyterLab may read this file more than once, and it must keep one dir.
if "CLUSTERCRAFT_RUNTIME_DIR" not in os.environ:
    os.environ["CLUSTERCRAFT_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="clustercraft-galata-")
# An explicit size: "auto" would give each worker its share of the machine, and scaling a
# cluster of such workers up is refused as overcommitting it.
c.ClusterManager.default_memory_limit = "1 GiB"  # noqa: F821

# While the test SLURM runs (make ui-test starts it when root: scripts/slurm.sh), a SLURM
# profile on its debug queue; tests/slurm.spec.ts skips without it.
SLURM_DIR = os.environ.get("CLUSTERCRAFT_SLURM_DIR", "/tmp/clustercraft-slurm")
SLURM_CONF = os.path.join(SLURM_DIR, "slurm.conf")
if os.path.exists(SLURM_CONF) and shutil.which("sbatch"):
    os.environ.setdefault("SLURM_CONF", SLURM_CONF)
    jobs_dir = tempfile.mkdtemp(prefix="clustercraft-galata-slurm-")
    c.ClusterManager.profiles = {  # noqa: F821
        "slurm": {
            "title": "SLURM (debug queue)",
            "factory": "dask_jobqueue.SLURMCluster",
            "kwargs": {
                "queue": "debug",
                "job_name": "clustercraft-galata",
                "cores": 1,
                "processes": 1,
                "memory": "1GiB",
                "walltime": "00:10:00",
                "log_directory": jobs_dir,
                "local_directory": jobs_dir,
                "scheduler_options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
                "worker_extra_args": ["--host", "127.0.0.1"],
            },
            "fields": ["cores", "memory", "processes"],
        }
    }
