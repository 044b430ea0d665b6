"""Draws bench/results/soak.json (from `bash bench/run.sh --soak`) as one SVG: throughput,
latency, file sizes and memory per 10 s window, on a shared time axis.

    python3 -m venv /tmp/plot && /tmp/plot/bin/pip install matplotlib
    /tmp/plot/bin/python bench/plot_soak.py [bench/results/soak.json] [bench/soak.svg]
"""

import json
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen first)

source = sys.argv[1] if len(sys.argv) > 1 else "bench/results/soak.json"
target = sys.argv[2] if len(sys.argv) > 2 else "bench/soak.svg"
windows = json.load(open(source))["windows"]
t = [w["t"] for w in windows]
mb = 1024 * 1024

fig, axes = plt.subplots(3, 1, sharex=True, figsize=(7, 6.5))
axes[0].plot(t, [w["rps"] / 1000 for w in windows], marker=".")
axes[0].set_ylabel("S9 thousand req/s")
axes[0].set_ylim(bottom=0)
for key, label in (("p50_us", "p50"), ("p99_us", "p99"), ("max_us", "max")):
    axes[1].plot(t, [w[key] / 1000 for w in windows], marker=".", label=label)
axes[1].set_ylabel("latency, ms")
axes[1].set_ylim(bottom=0)
axes[1].legend(loc="upper left", ncol=3, fontsize="small")
axes[2].plot(t, [w["wal_bytes"] / mb for w in windows], marker=".", label="WAL file")
axes[2].plot(t, [w["db_bytes"] / mb for w in windows], marker=".", label="database file")
axes[2].plot(t, [w["rss_kb"] / 1024 for w in windows], marker=".", label="server RSS")
axes[2].set_ylabel("MiB")
axes[2].set_ylim(bottom=0)
axes[2].legend(loc="upper left", fontsize="small")
axes[2].set_xlabel("seconds into the soak")
for ax in axes:
    ax.grid(alpha=0.3)
fig.suptitle("Soak: S9 at 64 connections, keys created and revoked throughout", fontsize="medium")
fig.tight_layout()
fig.savefig(target, metadata={"Date": None})
print(target)
