"""The recommended cluster, worked out by hand on given figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clustercraft.sizing import recommend as sizing
from clustercraft.sizing.recommend import WORKER_BASE_RSS, readable_size, recommend

MiB = 2**20
GiB = 2**30


@pytest.mark.parametrize(
    ("nbytes", "rounded"),
    [
        (1, 128 * MiB),
        (300 * MiB, 384 * MiB),
        (4 * GiB, 4 * GiB),
        (4 * GiB + 1, 4 * GiB + 512 * MiB),
        (32 * GiB + 1, 33 * GiB),
    ],
)
def test_readable_size_rounds_up_to_a_step(nbytes: int, rounded: int) -> None:
    assert readable_size(nbytes) == rounded


def test_many_workers_get_the_smaller_factor() -> None:
    # need = 1 GiB + 170 MiB = 1194 MiB; x2 -> 2.5 GiB fits 16 workers (>= 8), so x1.5:
    # 1791 MiB -> 1.75 GiB; 64 GiB / 1.75 GiB = 36, capped by 16 cores.
    r = recommend(GiB, memory_available="64GiB", cores=16)
    assert (r.n_workers, r.threads_per_worker, r.memory_limit, r.factor) == (16, 1, 1792 * MiB, 1.5)
    assert r.need == GiB + WORKER_BASE_RSS
    assert "bound by cores" in r.rationale and "x1.5" in r.rationale
    assert r.warnings == []


def test_few_workers_get_the_larger_factor() -> None:
    # need = 3 GiB + 170 MiB = 3242 MiB; x2 = 6484 MiB -> 6.5 GiB; 16 GiB fits 2 of them.
    r = recommend(3 * GiB, memory_available=16 * GiB, cores=8)
    assert (r.n_workers, r.memory_limit, r.factor) == (2, 6656 * MiB, 2.0)
    assert "bound by memory" in r.rationale and "x2" in r.rationale


def test_explicit_factor_and_worker_base() -> None:
    r = recommend(1000 * MiB, factor=3, worker_base=0, memory_available=100 * GiB, cores=4)
    assert (r.memory_limit, r.n_workers, r.factor) == (3 * GiB, 4, 3)
    assert "as asked" in r.rationale


def test_workers_asked_for_on_hpc_nodes() -> None:
    # need = 30 GiB + 170 MiB; 100 workers -> x1.5 = 45.25 GiB -> 46 GiB; 100 GB nodes hold 2.
    r = recommend(30 * GiB, n_workers=100, memory_available="100GB", cores=40)
    assert (r.n_workers, r.memory_limit, r.factor) == (100, 46 * GiB, 1.5)
    assert "50 nodes" in r.rationale
    assert r.warnings == []  # nodes were described, not this machine


def test_this_machine_less_the_kernel(monkeypatch) -> None:
    monkeypatch.setattr(sizing, "machine_memory", lambda: 8 * GiB)
    monkeypatch.setattr(sizing, "machine_cores", lambda: 4)
    # need 1194 MiB x2 -> 2.5 GiB; 8 GiB - 1 GiB kernel = 7 GiB fits 2.
    r = recommend(GiB, reserved=GiB)
    assert (r.n_workers, r.memory_limit) == (2, 2560 * MiB)
    assert "after this kernel's own memory" in r.rationale


def test_need_beyond_this_machine_suggests_a_job_queue(monkeypatch) -> None:
    monkeypatch.setattr(sizing, "machine_memory", lambda: 8 * GiB)
    r = recommend(20 * GiB)
    assert r.n_workers == 1
    assert any("dask-jobqueue" in w for w in r.warnings)


def test_baseline_that_dominates_is_flagged() -> None:
    r = recommend(100 * MiB, baseline=2 * GiB, memory_available="64GiB", cores=4)
    assert any("before the cell" in w for w in r.warnings)
    quiet = recommend(2 * GiB, baseline=2 * GiB - 1, memory_available="64GiB", cores=4)
    assert not any("before the cell" in w for w in quiet.warnings)


def test_children_are_flagged_and_negative_increments_ignored() -> None:
    r = recommend(-50 * MiB, children_peak=GiB, memory_available="64GiB", cores=4)
    assert r.need == WORKER_BASE_RSS
    assert any("Child processes" in w for w in r.warnings)


def test_rationale_says_why() -> None:
    r = recommend(GiB, memory_available="64GiB", cores=4)
    for reason in ("170.00 MiB", "Dask worker process", "spill", "1 thread per worker"):
        assert reason in r.rationale
    reasons = r.rationale.splitlines()  # one per line: need, limit and factor, threads, count
    assert [line.split()[0] for line in reasons] == ["Need", "Memory", "1", "4"]
    assert set(r.to_dict()) >= {"n_workers", "threads_per_worker", "memory_limit", "rationale"}


# The same cases src/__tests__/verdict.spec.ts checks against the browser's verdict.
VERDICT_CASES = json.loads(
    (Path(__file__).parents[2] / "src" / "__tests__" / "data" / "verdicts.json").read_text()
)


@pytest.mark.parametrize("case", VERDICT_CASES, ids=[case["name"] for case in VERDICT_CASES])
def test_verdict_words_each_case_as_the_browser_does(case: dict) -> None:
    found = sizing.verdict(case["cluster"])
    if case["level"] is None:
        assert found is None
        return
    assert (found["level"], found["right_limit"], found["text"]) == (
        case["level"],
        case["right_limit"],
        case["text"],
    )


def test_verdict_of_the_issue_example() -> None:
    cluster = {
        "memory_restarts": 0,
        "workers": [
            {"memory_peak": int(1.6 * GiB), "memory_limit": 3 * GiB},
            {"memory_peak": 1 * GiB, "memory_limit": 3 * GiB},
        ],
    }
    found = sizing.verdict(cluster)
    assert found["text"] == (
        "Largest worker peak 1.60 GiB = 53 % of its 3.00 GiB limit; 0 restarts"
        " — fine; 2.75 GiB would be right"
    )
    # One memory restart fails the run, and the right limit is above the whole limit.
    found = sizing.verdict({**cluster, "memory_restarts": 1})
    assert found["level"] == "failed"
    assert found["right_limit"] == 5 * GiB  # 3 GiB / 0.6


def test_counts_are_worded_in_the_singular_and_plural() -> None:
    from clustercraft.sizing.recommend import counted
    from clustercraft.sizing.report import cluster_line

    assert [counted(n, "worker") for n in (0, 1, 2)] == ["0 workers", "1 worker", "2 workers"]
    assert counted(3, "process") == "3 processes"
    one = recommend(GiB, n_workers=1, memory_available="100GB", cores=1)
    assert "1 worker as asked" in one.rationale and "1 core," in one.rationale
    assert "x2 with only 1 worker (fewer than 8)" in one.rationale
    assert "(s)" not in one.rationale
    assert cluster_line(one).startswith("1 worker x 1 thread, memory_limit=")
    many = recommend(GiB, n_workers=16, memory_available="100GB", cores=4)
    assert "x1.5 with 16 workers sharing the load" in many.rationale
    assert "16 workers as asked" in many.rationale and "4 nodes like it" in many.rationale
    assert cluster_line(many).startswith("16 workers x 1 thread,")
