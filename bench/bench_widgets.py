"""Bytes and decode time per ClusterInfo update for 1,000 workers: JSON against Arrow.

    .venv/bin/python bench/bench_widgets.py [--workers 1000] [--repeat 50] [--no-node]

Python: encode in the kernel (json.dumps / clustercraft.kernel.arrow.encode_rows) and
decode with json.loads / pyarrow. Node and Chromium: bench/widgets_decode.mjs decodes the
same bytes with JSON.parse and with src/arrow.ts (lib/arrow.js, apache-arrow). Two
updates: every worker changed (a full snapshot) and 10 % changed (a typical delta).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clustercraft.kernel.arrow import decode_table, encode_rows
from clustercraft.schema import diff_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from push_stream import worker_rows  # noqa: E402 (the one synthetic cluster of the benchmarks)

ROOT = Path(__file__).resolve().parent.parent


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--no-node", action="store_true", help="skip Node and Chromium")
    args = parser.parse_args()

    before = {row["address"]: row for row in worker_rows(args.workers, 0, 1.0)}
    results: dict = {"workers": args.workers, "updates": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for label, share in (("all changed", 1.0), ("10% changed", 0.1)):
            changed, _ = diff_rows(before, worker_rows(args.workers, 1, share))
            as_json = json.dumps({"type": "delta", "removed": [], "rows": changed}).encode()
            as_arrow = encode_rows(changed)
            stem = label.split()[0].replace("%", "pct")
            (Path(tmp) / f"{stem}.json").write_bytes(as_json)
            (Path(tmp) / f"{stem}.arrow").write_bytes(as_arrow)
            results["updates"][label] = {
                "rows_sent": len(changed),
                "bytes": {"json": len(as_json), "arrow": len(as_arrow)},
                "python_encode_ms": {
                    "json": best_ms(lambda c=changed: json.dumps(c), args.repeat),
                    "arrow": best_ms(lambda c=changed: encode_rows(c), args.repeat),
                },
                "python_decode_ms": {
                    "json": best_ms(lambda b=as_json: json.loads(b), args.repeat),
                    "arrow": best_ms(lambda b=as_arrow: decode_table(b), args.repeat),
                },
                "_file": stem,
            }
        if not args.no_node:
            script = ROOT / "bench" / "widgets_decode.mjs"
            out = subprocess.run(
                ["node", str(script), tmp, str(args.repeat)],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            decoded = json.loads(out)
            for update in results["updates"].values():
                update.update(decoded[update["_file"]])
    for update in results["updates"].values():
        update.pop("_file")
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
