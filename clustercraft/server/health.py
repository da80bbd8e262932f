"""Why a cluster host is lost or not answering, in words for the card.

A host that died leaves an exit code or a signal, the last lines of its log, and sometimes a
full disk; a host that stopped answering (stopped, swapping, deadlocked) leaves silence.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

LOG_LINES = 3  # of the host's log, in the reason of a lost cluster
SILENCE = 10.0  # seconds without a word from a host before asking it
ANSWER_TIMEOUT = 5.0  # seconds a host gets to answer that question
FULL_DISK = 2**20  # bytes free below which the runtime dir's disk counts as full


def exit_reason(process: subprocess.Popen | None) -> str:
    """How our host process ended ("exit code 1", "killed by SIGKILL"), if we know."""
    code = process.poll() if process is not None else None
    if code is None:
        return "its host process went away"
    if code < 0:
        try:
            return f"its host process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"its host process was killed by signal {-code}"
    return f"its host process ended with exit code {code}"


def log_tail(path: str, lines: int = LOG_LINES) -> str:
    """The last lines of a host's log, joined with " | "; empty when there is none."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 8192))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def disk_full(directory: str) -> bool:
    try:
        return shutil.disk_usage(directory).free < FULL_DISK
    except OSError:
        return False


def loss_reason(process: subprocess.Popen | None, log_path: str, runtime_dir: str) -> str:
    """One line: why the cluster is lost."""
    parts = [f"Lost: {exit_reason(process)}"]
    if disk_full(runtime_dir):
        parts.append(f"the disk of {runtime_dir} is full")
    tail = log_tail(log_path)
    if tail:
        parts.append(f"its log ends: {tail}")
    return "; ".join(parts)[:600]


def silence_reason(since: float) -> str:
    """One line: the host has not answered since ``since`` (time.monotonic())."""
    return f"The cluster's host is not answering (silent for {time.monotonic() - since:.0f} s)"
