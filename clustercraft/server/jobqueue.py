"""A dask-jobqueue cluster in a host: its jobs watched in the queue, and kept honest.

dask-jobqueue submits one job per worker (or per group of worker processes) and forgets it:
a job that fails to submit stays in ``cluster.workers`` and is never submitted again, a job
that ends underneath is not replaced, and a cancel that fails is ignored. Here:

- a submission error stays on the cluster until the requested workers really run; the failed
  jobs are dropped and submitted again every few seconds;
- every :data:`POLL_INTERVAL` the queue (``squeue`` for SLURM) reports each job's state; a job
  that ended is recorded with its reason and replaced by a new one;
- a job the cluster let go of (scaled down) that still runs or waits is cancelled again, and
  a cancel that fails is an error until it succeeds; closing cancels every job first, and
  raises JobsLeft (the cluster keeps running) when it cannot.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from . import internals
from .deploy import Deployment, JobsLeft, reason

log = logging.getLogger("clustercraft.host")

POLL_INTERVAL = 1.0  # seconds between looks at the queue
RETRY_DELAYS = (2.0, 5.0, 10.0, 30.0)  # seconds before submitting failed jobs again
COMMAND_TIMEOUT = 60.0  # SLURM commands wait ~9 s for a controller that is down
ENDED_KEPT = 10  # ended jobs listed on the cluster object

ALIVE = ("PENDING", "CONFIGURING", "RUNNING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING")
# Why a job ended, by its final SLURM state.
ENDED_BECAUSE = {
    "CANCELLED": "was cancelled outside the cluster (scancel, or an administrator)",
    "TIMEOUT": "reached its walltime",
    "FAILED": "failed",
    "COMPLETED": "ended: its worker exited",
    "NODE_FAIL": "ended: its node failed",
    "OUT_OF_MEMORY": "ran out of memory",
    "PREEMPTED": "was preempted",
    "BOOT_FAIL": "could not boot its node",
    "DEADLINE": "missed its deadline",
    "GONE": "left the queue",
}


class QueueError(RuntimeError):
    """A queue command failed (the controller does not answer, ...)."""


@dataclass(frozen=True)
class JobState:
    job_id: str
    state: str  # SLURM's, such as PENDING, RUNNING, CANCELLED
    reason: str | None = None  # why it waits (Resources, Priority, ...) or failed
    queue: str | None = None

    @property
    def alive(self) -> bool:
        return self.state in ALIVE

    @property
    def ended(self) -> bool:
        return self.state in ENDED_BECAUSE

    def why_ended(self) -> str:
        why = ENDED_BECAUSE.get(self.state, self.state.lower())
        return f"{why} ({self.reason})" if self.reason else why


class SlurmQueue:
    """Job states and cancels through SLURM's squeue and scancel."""

    system = "slurm"

    async def states(self, job_ids: list[str]) -> dict[str, JobState]:
        # -t all: ended jobs stay listed for MinJobAge (300 s by default), with their state.
        out = await run_command(
            ["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i|%T|%r|%P"],
            allowed="Invalid job id",  # only ids SLURM no longer knows: none listed
        )
        states = {}
        for line in out.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 4:
                job_id, state, why, queue = parts
                why = None if why in ("None", "") else why
                states[job_id] = JobState(job_id, state.split()[0], why, queue)
        return states

    async def cancel(self, job_ids: list[str], command: str = "scancel") -> None:
        await run_command([command, *job_ids])


class UntrackedQueue(SlurmQueue):
    """Other job queues (PBS, LSF, ...): their jobs are cancelled, their states not known."""

    system = "jobqueue"

    async def states(self, job_ids: list[str]) -> dict[str, JobState]:
        return {}


async def run_command(command: list[str], allowed: str | None = None) -> str:
    """The command's stdout; QueueError with its stderr when it fails."""
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise QueueError(f"{command[0]}: {exc}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise QueueError(f"{command[0]} did not answer within {COMMAND_TIMEOUT:.0f} s") from None
    if process.returncode != 0:
        text = " ".join(err.decode(errors="replace").split())
        if allowed is None or allowed not in text:
            raise QueueError(text or f"{command[0]} exited with {process.returncode}")
        return ""
    return out.decode(errors="replace")


class JobQueueDeployment(Deployment):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slurm = self.factory.rpartition(".")[2] == "SLURMCluster"
        self.queue = SlurmQueue() if slurm else UntrackedQueue()
        self.states: dict[str, JobState] = {}  # latest from the queue, by job id
        self.submitted: dict[str, Any] = {}  # every job id not yet seen gone -> its spec name
        self.ended: collections.deque[dict[str, Any]] = collections.deque(maxlen=ENDED_KEPT)
        self.queue_error: str | None = None  # the queue does not answer
        self.cancel_error: str | None = None  # jobs let go of that could not be cancelled
        self._watch: asyncio.Task | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._failures = 0

    async def start(self) -> None:
        await super().start()
        self._watch = asyncio.ensure_future(self.watch_loop())

    async def scale(self, n: int) -> None:
        self.cluster.scale(n)  # workers: rounded up to whole jobs

    async def workers_started(self) -> None:
        try:
            await internals.correct_state(self.cluster)
        except Exception as exc:
            log.warning("jobs could not be submitted", exc_info=True)
            self.start_error = f"Jobs could not be submitted: {reason(exc)}"
            internals.drop_failed_workers(self.cluster)
            self._retry_later()
        else:
            self._failures = 0
        self.on_change()

    def _retry_later(self) -> None:
        if self._retry is not None:
            return
        delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS) - 1)]
        self._failures += 1

        def retry() -> None:
            self._retry = None
            if self.cluster is not None and self.cluster.status.name == "running":
                asyncio.ensure_future(self.workers_started())

        self._retry = asyncio.get_running_loop().call_later(delay, retry)

    # ------------------------------------------------------------ the queue

    async def watch_loop(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            try:
                if await self.poll():
                    self.on_change()
            except Exception:  # a bug here must not stop the watching
                log.exception("watching the jobs failed")

    async def poll(self) -> bool:
        """Look at the queue once; True when something the cluster object shows changed."""
        held = internals.job_ids(self.cluster)
        self.submitted.update(held)
        before = (self.states, self.queue_error, self.cancel_error, len(self.ended))
        try:
            states = await self.queue.states(list(self.submitted)) if self.submitted else {}
        except QueueError as exc:
            self.queue_error = f"The job queue does not answer: {exc}"
            await self.cancel_let_go(held, None)
            return True
        self.queue_error = self.close_error = None
        # A held job whose worker is no longer asked for is being cancelled by a scale-down:
        # its end is no loss, and replacing it would undo the scaling.
        kept = {j: name for j, name in held.items() if internals.wanted(self.cluster, name)}
        for job_id, state in states.items():
            if job_id in kept and state.ended:
                self.replace(job_id, kept[job_id], state)
        for job_id in set(self.submitted) - set(states):
            if job_id in self.states and job_id in kept:  # seen before, now past MinJobAge
                self.replace(job_id, kept[job_id], JobState(job_id, "GONE"))
        self.states = states
        await self.cancel_let_go(held, states)
        return before != (self.states, self.queue_error, self.cancel_error, len(self.ended))

    def replace(self, job_id: str, name: Any, state: JobState) -> None:
        """A job ended underneath: say why, and submit another in its place."""
        log.warning("job %s %s; submitting another", job_id, state.why_ended())
        self.ended.append(
            {
                "job_id": job_id,
                "state": state.state,
                "reason": state.why_ended(),
                "time": time.time(),
            }
        )
        internals.replace_worker(self.cluster, name)
        self.submitted.pop(job_id, None)
        asyncio.ensure_future(self.workers_started())

    async def cancel_let_go(self, held: dict[str, Any], states: dict[str, JobState] | None) -> None:
        """Cancel jobs the cluster let go of that still wait or run (unknown: try anyway)."""
        let_go = [job_id for job_id in self.submitted if job_id not in held]
        if states is not None:
            for job_id in [j for j in let_go if j not in states or not states[j].alive]:
                self.submitted.pop(job_id, None)  # gone: nothing to cancel
            let_go = [j for j in let_go if j in self.submitted]
        if not let_go:
            self.cancel_error = None
            return
        try:
            await self.queue.cancel(let_go, internals.cancel_command(self.cluster))
        except QueueError as exc:
            self.cancel_error = (
                f"Could not cancel job(s) {', '.join(let_go)} after scaling down: {exc}; "
                "trying again"
            )
        else:
            self.cancel_error = None

    # ------------------------------------------------------------ closing

    async def close(self, force: bool = False) -> None:
        """Cancel every job, then close; JobsLeft (nothing closed) when a cancel fails."""
        if self._watch is not None:
            self._watch.cancel()
        if self._retry is not None:
            self._retry.cancel()
        internals.stop_adaptive(self.cluster)
        job_ids = sorted(set(self.submitted) | set(internals.job_ids(self.cluster)))
        if job_ids:
            try:
                await self.queue.cancel(job_ids, internals.cancel_command(self.cluster))
            except QueueError as exc:
                if not force:
                    self._watch = asyncio.ensure_future(self.watch_loop())
                    message = (
                        f"could not cancel job(s) {', '.join(job_ids)}: {exc}. They may still "
                        "run or wait in the queue; shut down again once the queue answers"
                    )
                    self.close_error = f"Shut down failed: {message}"
                    raise JobsLeft(message) from None
                log.error("could not cancel jobs %s: %s", job_ids, exc)
        await self.cluster.close()

    # ------------------------------------------------------------ state

    @property
    def error(self) -> str | None:
        errors = [self.close_error, self.start_error, self.cancel_error, self.queue_error]
        return "; ".join(e for e in errors if e) or None

    def processes(self) -> bool:
        return True

    def worker_jobs(self) -> dict[str, tuple[str | None, str | None]]:
        rows = {}
        for job_id, name in internals.job_ids(self.cluster).items():
            state = self.states.get(job_id)
            for worker in internals.worker_names(self.cluster, name):
                rows[worker] = (job_id, state.state if state else None)
        return rows

    def jobs(self) -> dict[str, Any]:
        """``{system, queue, running, pending, jobs: [{job_id, state, reason}], ended}``;
        a job submitted but not yet seen in the queue counts as pending."""
        jobs = []
        for job_id in sorted(internals.job_ids(self.cluster), key=_numeric):
            state = self.states.get(job_id)
            jobs.append(
                {
                    "job_id": job_id,
                    "state": state.state if state else "PENDING",
                    "reason": state.reason if state else None,
                }
            )
        running = sum(job["state"] == "RUNNING" for job in jobs)
        pending = sum(job["state"] in ALIVE and job["state"] != "RUNNING" for job in jobs)
        return {
            "system": self.queue.system,
            "queue": self._queue_name(),
            "running": running,
            "pending": pending,
            "jobs": jobs,
            "ended": list(self.ended),
        }

    def _queue_name(self) -> str | None:
        queues = {state.queue for state in self.states.values() if state.queue}
        if len(queues) == 1:
            return queues.pop()
        queue = self.spec.options.get("queue") or self.kwargs.get("queue")
        if queue is None and self.queue.system == "slurm":
            queue = os.environ.get("SBATCH_PARTITION")
        return queue


def _numeric(job_id: str) -> tuple:
    return (0, int(job_id), "") if job_id.isdigit() else (1, 0, job_id)
