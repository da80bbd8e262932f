"""The cluster manager's server configuration (``c.ClusterManager.*``): defaults, limits,
profiles, and how hosts start and wait. What a request may ask for follows from these."""

from __future__ import annotations

import os

import psutil
from traitlets import Bool, Dict, Enum, Float, Int, Unicode, Union, default
from traitlets.config import LoggingConfigurable

from clustercraft.runtime import runtime_dir

from .profiles import LOCAL_PROFILE, Profile, build_profiles, config_bytes, local_profile
from .spec import Limits


class ManagerConfig(LoggingConfigurable):
    """Set as ``c.ClusterManager.<name>`` in the Jupyter server's configuration."""

    runtime_dir = Unicode(help="Where host sockets and state files live.").tag(config=True)

    @default("runtime_dir")
    def _default_runtime_dir(self) -> str:
        return runtime_dir()  # $CLUSTERCRAFT_RUNTIME_DIR, else the Jupyter runtime dir's

    profiles = Dict(
        help='Cluster profiles a request may choose: {name: {"title": ..., "factory": '
        '"module.Class", "kwargs": {...}, "fields": [...]}} (see README); the built-in "local" '
        "profile (LocalCluster) takes the default_* settings below, and a profile named "
        '"local" here replaces its title, kwargs or fields.'
    ).tag(config=True)
    default_profile = Unicode(LOCAL_PROFILE, help="The profile of a request that names none.").tag(
        config=True
    )
    default_n_workers = Int(2, help="Workers of a new cluster.").tag(config=True)
    default_threads_per_worker = Int(1, help="Threads per worker of a new local cluster.").tag(
        config=True
    )
    default_memory_limit = Union(
        [Int(), Unicode()],
        default_value="auto",
        help='Memory per worker of a new cluster ("4 GiB", bytes, or "auto" for dask\'s share).',
    ).tag(config=True)
    default_processes = Bool(True, help="Workers in their own processes (with nannies).").tag(
        config=True
    )
    max_workers = Int(help="Most workers one cluster may ask for.").tag(config=True)

    @default("max_workers")
    def _default_max_workers(self) -> int:
        return max(8, 4 * (os.cpu_count() or 1))

    max_threads_per_worker = Int(help="Most threads per worker.").tag(config=True)

    @default("max_threads_per_worker")
    def _default_max_threads(self) -> int:
        return 2 * (os.cpu_count() or 1)

    max_memory_per_worker = Union(
        [Int(), Unicode()], default_value="", help="Most memory per worker; empty: no limit."
    ).tag(config=True)
    max_total_memory = Union(
        [Int(), Unicode()],
        default_value="",
        help="Most memory (workers x memory_limit) per cluster; empty: the machine's memory.",
    ).tag(config=True)
    tls = Bool(
        True,
        help="Local clusters launched from the panel use TLS with credentials of their own "
        "(files of mode 0600 in the runtime dir): only this user's processes can connect. "
        "False: plain TCP on 127.0.0.1, which any local user can reach.",
    ).tag(config=True)
    standby_host = Bool(
        True,
        help="While a panel is subscribed, keep one host process started ahead (Python, "
        "distributed and the worker start warmed), so New cluster skips that.",
    ).tag(config=True)
    worker_start = Enum(
        ["auto", "forkserver", "spawn", ""],
        default_value="auto",
        help="How LocalCluster hosts start worker processes: 'forkserver' forks them from a "
        "server with distributed, numpy and pandas imported once (warmed while a standby "
        "waits); 'spawn' is dask's default; '' leaves distributed.worker.multiprocessing-"
        "method to dask's configuration; 'auto': 'forkserver' in standby hosts, '' in hosts "
        "started on demand (warming there would cost more than it saves).",
    ).tag(config=True)
    grace_period = Float(
        60.0, help="Seconds a host waits for a restarted server before closing itself."
    ).tag(config=True)
    base_url = Unicode("/", help="The Jupyter server's base URL (set by the extension).")
    start_timeout = Float(30.0, help="Seconds to wait for a new host's socket.").tag(config=True)
    request_timeout = Float(30.0, help="Seconds to wait for a host to answer.").tag(config=True)
    close_timeout = Float(20.0, help="Seconds a closing host gets before it is killed.").tag(
        config=True
    )

    # ------------------------------------------------------------ configuration

    @property
    def limits(self) -> Limits:
        return Limits(
            max_workers=self.max_workers,
            max_threads_per_worker=self.max_threads_per_worker,
            max_memory_per_worker=config_bytes(self.max_memory_per_worker),
            max_total_memory=config_bytes(self.max_total_memory) or psutil.virtual_memory().total,
        )

    @property
    def profile_table(self) -> dict[str, Profile]:
        """Every profile a request may choose, ``local`` first (ValueError: bad config)."""
        limits = self.limits
        local = local_profile(
            n_workers=self.default_n_workers,
            threads_per_worker=self.default_threads_per_worker,
            memory_limit=config_bytes(self.default_memory_limit),
            processes=self.default_processes,
            max_workers=limits.max_workers,
            max_threads_per_worker=limits.max_threads_per_worker,
            max_memory_per_worker=limits.max_memory_per_worker,
        )
        return build_profiles(self.profiles, local)
