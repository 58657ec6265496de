-- wrk script: GET the path in BENCH_PATH, each connection pausing BENCH_PAUSE_MS between
-- requests: readers at a steady pace, not a load that keeps the server busy by itself.
-- `done` prints the figures as one JSON line.
local path = os.getenv("BENCH_PATH") or "/healthz"
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "25")

function request()
  return wrk.format("GET", path)
end

function delay()
  return pause
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
