"""Where panel-launched clusters live on this machine, and their TLS credentials.

The Jupyter server, its cluster hosts and the kernels (``clustercraft.connect``) all find
the same directory: ``$CLUSTERCRAFT_RUNTIME_DIR``, else ``<jupyter runtime dir>/clustercraft``.
No jupyter_server import here.

Each local cluster launched from the panel gets its own self-signed certificate and key
(distributed's ``Security.temporary()``), written as two files of mode 0600 beside its state
file and removed with it. Its scheduler and workers accept only connections that present
that certificate, so other users of the machine cannot connect to it and run code as you.
"""

from __future__ import annotations

import contextlib
import os

RUNTIME_ENV = "CLUSTERCRAFT_RUNTIME_DIR"
PROFILES_FILE = "profiles.json"  # the server's cluster profiles, as GET /profiles lists them


def runtime_dir() -> str:
    configured = os.environ.get(RUNTIME_ENV)
    if configured:
        return configured
    from jupyter_core.paths import jupyter_runtime_dir

    return os.path.join(jupyter_runtime_dir(), "clustercraft")


def read_profiles(directory: str | None = None) -> list[dict]:
    """The server's cluster profiles (name, title, kind, fields); empty when none is running."""
    import json

    try:
        with open(os.path.join(directory or runtime_dir(), PROFILES_FILE), encoding="utf-8") as f:
            profiles = json.load(f)
    except (OSError, ValueError):
        return []
    return profiles if isinstance(profiles, list) else []


def write_json_atomically(path: str, data) -> None:
    import json

    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def credential_paths(directory: str, cluster_id: str) -> tuple[str, str]:
    """The certificate and key files of a cluster."""
    return (
        os.path.join(directory, f"{cluster_id}-cert.pem"),
        os.path.join(directory, f"{cluster_id}-key.pem"),
    )


def write_credentials(directory: str, cluster_id: str):
    """New credentials for a cluster, written 0600 (never over existing files): its Security."""
    from distributed.security import Security

    temporary = Security.temporary()
    cert_path, key_path = credential_paths(directory, cluster_id)
    for path, content in ((cert_path, temporary.tls_ca_file), (key_path, temporary.tls_client_key)):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(content)
    return security_from_files(cert_path, key_path)


def security_from_files(cert_path: str, key_path: str):
    """The Security that scheduler, workers and clients of one cluster share."""
    from distributed.security import Security

    roles = ("client", "scheduler", "worker")
    return Security(
        require_encryption=True,
        tls_ca_file=cert_path,
        **{f"tls_{role}_cert": cert_path for role in roles},
        **{f"tls_{role}_key": key_path for role in roles},
    )


def client_security(directory: str, cluster_id: str):
    """The Security to connect to a cluster, or None when it has no credentials (no TLS)."""
    cert_path, key_path = credential_paths(directory, cluster_id)
    if not (os.path.exists(cert_path) and os.path.exists(key_path)):
        return None
    return security_from_files(cert_path, key_path)


def remove_credentials(directory: str, cluster_id: str) -> None:
    for path in credential_paths(directory, cluster_id):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
