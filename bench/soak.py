"""Turns bench/run.sh --soak's windows into a table and JSON, and checks what must hold.

usage: soak.py WINDOWS.jsonl CHURN.txt
Exit status 1 when any request of the soak or of the churn failed, or when the WAL file was
ever past its bound (64 MiB). No timing is asserted.
"""
import json
import sys

WAL_BOUND = 64 * 1024 * 1024
windows = [json.loads(line) for line in open(sys.argv[1])]
churn_line = next((l for l in open(sys.argv[2]) if l.startswith("BENCH ")), "BENCH {}")
churn = json.loads(churn_line[len("BENCH "):] or "{}")

print(f"Keyward soak: S9 (64 connections) in 10 s windows, 4 connections creating and revoking keys")
print(f"{'t':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'WAL MB':>8} {'db MB':>8} {'RSS MB':>8} {'errors':>7}")
errors = 0
for w in windows:
    secs = w["duration_us"] / 1e6 or 1
    w["rps"] = w["requests"] / secs
    w["errors"] = w["socket_errors"] + w["non_2xx"]
    errors += w["errors"]
    print(f"{w['t']:>4}s {w['rps']:>9.0f} {w['p50_us'] / 1000:>8.2f} {w['p99_us'] / 1000:>8.2f} "
          f"{w['max_us'] / 1000:>8.1f} {w['wal_bytes'] / 2**20:>8.1f} {w['db_bytes'] / 2**20:>8.1f} "
          f"{w['rss_kb'] / 1024:>8.1f} {w['errors']:>7}")
churn_errors = churn.get("socket_errors", 0) + churn.get("non_2xx", 0)
churned = churn.get("requests", 0)
print(f"churn: {churned} creates and revokes, {churn_errors} errors")
worst_wal = max((w["wal_bytes"] for w in windows), default=0)
failures = []
if errors or churn_errors:
    failures.append(f"{errors + churn_errors} failed requests")
if worst_wal > WAL_BOUND:
    failures.append(f"the WAL reached {worst_wal} bytes (bound {WAL_BOUND})")
if not churned:
    failures.append("the churn made no request")
print("checks: " + ("; ".join(failures) if failures else "no errors, WAL within its bound"))
json.dump({"windows": windows, "churn": churn, "wal_bound": WAL_BOUND}, open("bench/results/soak.json", "w"), indent=1)
sys.exit(1 if failures else 0)
