"""Cluster factories as a site's server configuration would name them (used by the tests)."""

from __future__ import annotations

from distributed import LocalCluster


def site_cluster(
    *, n_workers: int = 0, asynchronous: bool = False, threads_per_worker: int = 1, **site
):
    """Decides processes and memory itself; takes threads from the request and worker
    resources from its profile's kwargs."""
    return LocalCluster(
        n_workers=n_workers,
        asynchronous=asynchronous,
        threads_per_worker=threads_per_worker,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address="127.0.0.1:0",
        **site,
    )
