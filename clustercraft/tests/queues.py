"""Real job-queue systems for the tests (and bench/bench_queues.py): the one-node SLURM that
``scripts/slurm.sh`` runs, and a local Dask Gateway server.

Fixtures (registered by conftest.py):

- ``slurm``: a :class:`Slurm` for one test (``SLURM_CONF`` set for the session, a job name of
  its own, leftover jobs of that name cancelled afterwards). Skips with the reason when SLURM
  cannot run here (not root, not installed, not started); fails instead when
  ``CLUSTERCRAFT_REQUIRE_SLURM=1``, which ``make pytest`` sets once it has started SLURM.
- ``gateway``: a :class:`GatewayServer`, one ``dask-gateway-server`` for the session
  (``UnsafeLocalBackend``, ``SimpleAuthenticator`` with :data:`GATEWAY_PASSWORD`), on free
  loopback ports, stopped with everything it started at the end. Its cluster options are
  ``worker_cores`` (1-2) and ``worker_memory`` (0.5-2 GiB), at most
  :data:`GATEWAY_MAX_WORKERS` workers per cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
SLURM_SCRIPT = ROOT / "scripts" / "slurm.sh"
SLURM_DIR = Path(os.environ.get("CLUSTERCRAFT_SLURM_DIR", "/tmp/clustercraft-slurm"))
SLURM_QUEUE = "debug"
REQUIRE_SLURM_ENV = "CLUSTERCRAFT_REQUIRE_SLURM"

GATEWAY_USER = "clustercraft"
GATEWAY_PASSWORD = "clustercraft-test-password"  # SimpleAuthenticator's shared password

# ------------------------------------------------------------------------------------ SLURM


def _slurm_env() -> dict[str, str]:
    path = os.environ.get("PATH", "")
    return {**os.environ, "SLURM_CONF": str(SLURM_DIR / "slurm.conf"), "PATH": f"{path}:/usr/sbin"}


def slurm_unavailable() -> str | None:
    """Why the tests cannot use SLURM here, or None when it answers."""
    how = f"`{SLURM_SCRIPT.relative_to(ROOT)} start` (as root; `make test` does it)"
    if os.geteuid() != 0:
        return "SLURM tests need root: scripts/slurm.sh runs slurmd as root"
    if shutil.which("sbatch") is None:
        return f"SLURM is not installed: {how} installs Debian's slurmctld, slurmd and munge"
    conf, pid_file = SLURM_DIR / "slurm.conf", SLURM_DIR / "slurmctld.pid"
    with contextlib.suppress(OSError, ValueError):
        if conf.exists() and psutil.pid_exists(int(pid_file.read_text())):
            pid_file = None
    if pid_file is not None:
        return f"SLURM is not running (no slurmctld for {conf}): start it with {how}"
    try:
        ping = subprocess.run(
            ["scontrol", "ping"], env=_slurm_env(), capture_output=True, text=True, timeout=15
        )
    except subprocess.TimeoutExpired:
        return f"SLURM does not answer `scontrol ping` within 15 s; restart it: {how}"
    if "UP" not in ping.stdout:
        return f"SLURM does not answer `scontrol ping` ({conf}): restart it with {how}"
    return None


@dataclass
class Slurm:
    """The test SLURM: partition ``queue``, jobs named ``job_name`` belong to this test."""

    conf: Path
    queue: str
    job_name: str
    directory: Path  # per test: job logs and worker directories

    def run(self, *args: str, timeout: float = 30) -> str:
        """A SLURM command (``squeue``, ``scancel``, ...) against the test SLURM; its stdout."""
        result = subprocess.run(
            args, env=_slurm_env(), capture_output=True, text=True, timeout=timeout, check=True
        )
        return result.stdout

    def jobs(self, name: str | None = None) -> dict[str, str]:
        """``{job id: state}`` of the jobs named ``name`` (default: this test's) in squeue."""
        out = self.run("squeue", "-h", "--name", name or self.job_name, "-o", "%i %T")
        return dict(line.split() for line in out.splitlines() if line.strip())

    def wait_no_jobs(self, timeout: float = 60) -> dict[str, str]:
        """Waits until none of this test's jobs is listed; returns what is left."""
        deadline = time.monotonic() + timeout
        while (left := self.jobs()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    @contextlib.contextmanager
    def controller_stopped(self, timeout: float = 60) -> Iterator[None]:
        """slurmctld stopped (by its pid) for the block, then started again on the same state:
        jobs keep running on slurmd, but nothing can be submitted, listed or cancelled."""
        pid_file = SLURM_DIR / "slurmctld.pid"
        controller = psutil.Process(int(pid_file.read_text()))
        controller.terminate()
        controller.wait(timeout=30)
        try:
            yield
        finally:
            # No -c: it recovers the jobs from its state directory.
            subprocess.run(["slurmctld", "-f", str(self.conf)], env=_slurm_env(), check=True)
            deadline = time.monotonic() + timeout
            while "UP" not in self._ping():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"slurmctld did not come back within {timeout} s")
                time.sleep(0.2)

    def _ping(self) -> str:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            ping = subprocess.run(
                ["scontrol", "ping"], env=_slurm_env(), capture_output=True, text=True, timeout=15
            )
            return ping.stdout
        return ""

    def cluster_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``dask_jobqueue.SLURMCluster`` on this SLURM: the ``debug``
        queue, this test's job name, loopback scheduler and workers, logs and worker
        directories in the test's directory, a short walltime (a leaked job ends by itself)."""
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        kwargs = {
            "queue": self.queue,
            "job_name": self.job_name,
            "cores": 1,
            "processes": 1,
            "memory": "1GiB",
            "walltime": "00:10:00",
            "log_directory": str(self.directory / "logs"),
            "local_directory": str(self.directory),
            "scheduler_options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
            "worker_extra_args": ["--host", "127.0.0.1"],
        }
        return {**kwargs, **overrides}


@pytest.fixture(scope="session")
def slurm_conf() -> Iterator[Path]:
    """SLURM_CONF of the running test SLURM, set in os.environ for the session (dask-jobqueue
    runs sbatch, squeue and scancel with it); skips (or fails, see module doc) otherwise."""
    reason = slurm_unavailable()
    if reason:
        if os.environ.get(REQUIRE_SLURM_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_SLURM_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    conf = SLURM_DIR / "slurm.conf"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", str(conf))
        yield conf


@pytest.fixture
def slurm(slurm_conf, tmp_path) -> Iterator[Slurm]:
    cluster = Slurm(
        conf=slurm_conf,
        queue=SLURM_QUEUE,
        job_name=f"cc-{uuid.uuid4().hex[:8]}",
        directory=tmp_path,
    )
    yield cluster
    if cluster.jobs():  # the test failed before closing its cluster: leave nothing behind
        cluster.run("scancel", "--name", cluster.job_name)
        cluster.wait_no_jobs(timeout=30)


# ------------------------------------------------------------------------------ Dask Gateway

GATEWAY_CONFIG = """\
c.DaskGateway.address = "127.0.0.1:{api_port}"
c.Proxy.address = "127.0.0.1:{proxy_port}"  # HTTP API and gateway:// (TCP) on one port
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.SimpleAuthenticator.password = {password!r}
c.DaskGateway.log_level = "INFO"
c.UnsafeLocalBackend.clusters_directory = {clusters!r}
# distributed no longer ships the dask-scheduler / dask-worker commands.
c.ClusterConfig.scheduler_cmd = ["dask", "scheduler"]
c.ClusterConfig.worker_cmd = ["dask", "worker"]
c.ClusterConfig.worker_cores = 1
c.ClusterConfig.worker_threads = 1
c.ClusterConfig.worker_memory = "1 G"
c.ClusterConfig.idle_timeout = 600.0  # a cluster a test forgot ends by itself
c.ClusterConfig.cluster_max_workers = {max_workers}

# What users may choose, as a site offers it: the form's fields of a Gateway profile.
from dask_gateway_server.options import Float, Integer, Options


def options_handler(options):
    return {{
        "worker_cores": options.worker_cores,
        "worker_threads": options.worker_cores,
        "worker_memory": int(options.worker_memory * 2**30),
    }}


c.Backend.cluster_options = Options(
    Integer("worker_cores", default=1, min=1, max=2, label="Worker cores"),
    Float("worker_memory", default=1.0, min=0.5, max=2.0, label="Worker memory (GiB)"),
    handler=options_handler,
)
"""
GATEWAY_MAX_WORKERS = 4  # per cluster: a scale beyond it is cut, with a message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class GatewayServer:
    """A running ``dask-gateway-server``. Clients use the Proxy's address for both the API
    (``address``) and the schedulers (``proxy_address``)."""

    address: str  # http://127.0.0.1:PORT
    proxy_address: str  # gateway://127.0.0.1:PORT
    username: str
    password: str
    directory: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def log(self) -> Path:
        return self.directory / "dask-gateway-server.log"

    def auth(self):
        from dask_gateway import BasicAuth

        return BasicAuth(self.username, self.password)

    def connect(self, **kwargs: Any):
        """A ``dask_gateway.Gateway`` client for this server (close it, or use ``with``)."""
        from dask_gateway import Gateway

        return Gateway(
            address=self.address, proxy_address=self.proxy_address, auth=self.auth(), **kwargs
        )

    def processes(self) -> list[psutil.Process]:
        """The server and everything it started (proxy, schedulers, workers)."""
        try:
            server = psutil.Process(self.process.pid)
            return [server, *server.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _healthy(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"{address}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def gone(processes: list[psutil.Process]) -> bool:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                return False
    return True


def _wait_gone(processes: list[psutil.Process], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop_processes(processes: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    """SIGTERM, then SIGKILL after ``timeout``, to these processes; returns those it killed."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    if _wait_gone(processes, timeout):
        return []
    killed = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                process.kill()
                killed.append(process)
    _wait_gone(processes, 5)
    return killed


@contextlib.contextmanager
def gateway_server(directory: Path | None = None, timeout: float = 60) -> Iterator[GatewayServer]:
    """Runs ``dask-gateway-server -f <config>`` on free loopback ports in ``directory`` (a new
    temporary one by default) until the block ends; then stops it (SIGINT: it stops its
    clusters and proxy) and makes sure that nothing it started is left."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-")))
        directory.mkdir(parents=True, exist_ok=True)
        api_port, proxy_port = free_port(), free_port()
        config = directory / "dask_gateway_config.py"
        config.write_text(
            GATEWAY_CONFIG.format(
                api_port=api_port,
                proxy_port=proxy_port,
                password=GATEWAY_PASSWORD,
                clusters=str(directory / "clusters"),
                max_workers=GATEWAY_MAX_WORKERS,
            )
        )
        bin_dir = Path(sys.executable).parent  # `dask`, `dask-gateway-server` of this venv
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        log = directory / "dask-gateway-server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(bin_dir / "dask-gateway-server"), "-f", str(config)],
                cwd=directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = GatewayServer(
            address=f"http://127.0.0.1:{proxy_port}",
            proxy_address=f"gateway://127.0.0.1:{proxy_port}",
            username=GATEWAY_USER,
            password=GATEWAY_PASSWORD,
            directory=directory,
            process=process,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(server.address):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"dask-gateway-server exited with {process.returncode}:\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"dask-gateway-server not healthy in {timeout} s:\n{_tail(log)}"
                    )
                time.sleep(0.1)
            yield server
        finally:
            started = server.processes()
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # graceful: stops clusters, then the proxy
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=30)
            killed = stop_processes(started)
            process.wait()
            if killed:
                raise RuntimeError(
                    f"dask-gateway-server left {[p.pid for p in killed]} running (killed):\n"
                    + _tail(log)
                )


@pytest.fixture(scope="session")
def gateway(tmp_path_factory) -> Iterator[GatewayServer]:
    """One local Dask Gateway server for the session (see :func:`gateway_server`)."""
    pytest.importorskip("dask_gateway_server", reason="pip install dask-gateway-server[local]")
    pytest.importorskip("dask_gateway", reason="pip install dask-gateway")
    with gateway_server(tmp_path_factory.mktemp("gateway")) as server:
        yield server
