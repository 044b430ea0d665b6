-- wrk script for bench/run.sh. Environment:
--   BENCH_AUTH   the bearer credential (optional)
--   BENCH_MODE   get (default) | post | mix | churn
--   BENCH_GET    for mix: the S2 path; BENCH_LIST: the S5 path; BENCH_POST: the S7 path
--   churn: creates keys at the URL's path and revokes each one it created, in turn
--   BENCH_PORTS  several servers: their ports on the URL's host, comma-separated; wrk's
--                threads are dealt out over them in turn (each thread's connections go to
--                one server), so give wrk at least as many threads as servers
-- Prints one line "BENCH {json}" with the counts and latency percentiles when done.

local auth = os.getenv("BENCH_AUTH")
local mode = os.getenv("BENCH_MODE") or "get"
local headers = {}
if auth and auth ~= "" then
  headers["Authorization"] = "Bearer " .. auth
end

local ports = {}
for p in string.gmatch(os.getenv("BENCH_PORTS") or "", "%d+") do
  table.insert(ports, p)
end
local threads = 0
setup = function(thread)
  if #ports > 0 then
    local port = ports[(threads % #ports) + 1]
    thread.addr = wrk.lookup(wrk.host, port)[1]
  end
  threads = threads + 1
end

local body = '{"name":"bench"}'
-- churn: the keys created and not yet revoked (this thread's connections share it).
local created = {}

request = function()
  if mode == "churn" and #created > 0 then
    return wrk.format("DELETE", wrk.path .. "/" .. table.remove(created), headers)
  end
  if mode == "post" or mode == "churn" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", nil, headers, body)
  elseif mode == "mix" then
    local roll = math.random(1000)
    if roll <= 900 then
      return wrk.format("GET", os.getenv("BENCH_GET"), headers)
    elseif roll <= 990 then
      return wrk.format("GET", os.getenv("BENCH_LIST"), headers)
    else
      local h = { ["Authorization"] = headers["Authorization"], ["Content-Type"] = "application/json" }
      return wrk.format("POST", os.getenv("BENCH_POST"), h, body)
    end
  end
  return wrk.format("GET", nil, headers)
end

-- Every response that is not a 2xx counts as an error.
local bad = 0
response = function(status, hdrs, b)
  if status < 200 or status > 299 then
    bad = bad + 1
  elseif mode == "churn" and status == 201 then
    local uuid = b:match('"uuid":"([^"]+)"')
    if uuid then table.insert(created, uuid) end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
