"""The backends table of bench/run.sh --backends: S1, S2, S5, S7, S9 for SQLite with one
server, PostgreSQL with one and with two, in one run on one machine.

usage: backends.py RESULTS.jsonl QUICK KEYS
Exit status 1 when any scenario had an error response or socket error, or (full runs only)
when a PostgreSQL target of bench/README.md is missed (one server: S2 >= 20% of its S1 with
p99 <= 10 ms, S7 p99 <= 30 ms).
"""
import json
import sys

path, quick, keys = sys.argv[1], sys.argv[2] == "true", int(sys.argv[3])
rows = [json.loads(line) for line in open(path)]
configs = []
for r in rows:
    secs = r["duration_us"] / 1e6
    r["rps"] = r["requests"] / secs if secs else 0.0
    r["errors"] = r["socket_errors"] + r["non_2xx"]
    key = (r["backend"], r["servers"])
    if key not in configs:
        configs.append(key)
by = {(r["backend"], r["servers"], r["scenario"]): r for r in rows}
labels = {
    "S1": "GET /v0/server/version (baseline)",
    "S2": "view project key, user key",
    "S5": "list keys, first page",
    "S7": "create project key",
    "S9": "mix 90% S2 / 9% S5 / 1% S7",
}
print(f"Keyward backends ({'quick' if quick else 'full'} run, {keys} project keys)")
print(f"{'backend':10} {'srv':>3} {'':4} {'scenario':34} {'req/s':>9} {'% of S1':>8} "
      f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
targets = []
for backend, servers in configs:
    s1 = by[(backend, servers, "S1")]["rps"] or 1.0
    for name, label in labels.items():
        r = by[(backend, servers, name)]
        print(f"{backend:10} {servers:>3} {name:4} {label:34} {r['rps']:>9.0f} "
              f"{100 * r['rps'] / s1:>7.1f}% {r['p50_us'] / 1000:>8.2f} {r['p99_us'] / 1000:>8.2f} "
              f"{r['errors']:>7}")
    rss = ", ".join(f"{int(kb) / 1024:.1f} MB" for kb in str(by[(backend, servers, "S1")]["rss_kb"]).split(","))
    print(f"{'':15} peak resident memory per server: {rss}")
    if backend == "postgres" and servers == 1:
        s2, s7 = by[(backend, 1, "S2")], by[(backend, 1, "S7")]
        targets.append(("PostgreSQL, one server: S2 >= 20% of S1", s2["rps"] >= 0.20 * s1))
        targets.append(("PostgreSQL, one server: S2 p99 <= 10 ms", s2["p99_us"] <= 10000))
        targets.append(("PostgreSQL, one server: S7 p99 <= 30 ms", s7["p99_us"] <= 30000))
errors_ok = all(r["errors"] == 0 for r in rows)
targets.append(("no error responses in any scenario", errors_ok))
missed = [label for label, ok in targets if not ok]
print("targets:", "all met" if not missed else "missed: " + "; ".join(missed))
json.dump({"quick": quick, "keys": keys, "rows": rows,
           "targets": [{"target": l, "met": ok} for l, ok in targets]},
          open("bench/results/backends.json", "w"), indent=2)
if not errors_ok or (missed and not quick):
    sys.exit(1)
