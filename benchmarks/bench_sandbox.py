"""Overhead of a ``run_python_code`` call: worker start-up, then per-call round trip for trivial code (``1``),
for a small pandas computation on a generated CSV and for saving a chart — with the isolation this machine
gives (bubblewrap, or reduced).

    python benchmarks/bench_sandbox.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sourcebook.sandbox import Limits, PythonSandbox


def _folder(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    rows = ["day,value"] + [f"2024-01-{1 + i % 28:02d},{i * 3 % 97}" for i in range(5000)]
    (data / "values.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for p in (root, data):
        p.chmod(0o755)
    return data


def _timed(sb: PythonSandbox, code: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        r = sb.run(code)
        if not r.ok:
            raise SystemExit(f"benchmark code failed: {r.error}")
        out.append(r.elapsed_ms)
    return out


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = _folder(Path(tmp))
        t0 = time.perf_counter()
        sb = PythonSandbox(data, Path(tmp) / "out", Limits())
        try:
            first = sb.run("1")
            start_ms = (time.perf_counter() - t0) * 1000
            sb.run(f"import pandas as pd, matplotlib.pyplot as plt\ndf = pd.read_csv('{sb.data_path}/values.csv')")
            result = {
                "isolation": sb.isolation,
                "description": sb.description,
                "start_and_first_call_ms": round(start_ms, 1),
                "first_call_ok": first.ok,
                "trivial": _stats(_timed(sb, "1", args.calls)),
                "pandas_groupby": _stats(_timed(sb, "df.groupby('day')['value'].mean().max()", max(20, args.calls // 4))),
                "chart_savefig": _stats(_timed(sb, "fig, ax = plt.subplots()\nax.plot(df['value'][:500])\n"
                                                   "fig.savefig('c.png')", 20)),
            }
        finally:
            sb.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
