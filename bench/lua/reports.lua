-- wrk script: anonymous JSON pothole reports, each with its own Idempotency-Key.
-- BENCH_POINT="lat,lon" files every report at that point; otherwise at random points
-- inside the city. `done` prints the figures as one JSON line for the harness.
local point = os.getenv("BENCH_POINT")
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

local function key()
  local t = {}
  for i = 1, 32 do
    t[i] = string.format("%x", math.random(0, 15))
  end
  return table.concat(t)
end

function request()
  local lat, lon
  if point then
    lat, lon = point:match("([^,]+),([^,]+)")
  else
    lat = string.format("%.6f", 51.085 + math.random() * 0.045)
    lon = string.format("%.6f", 16.98 + math.random() * 0.10)
  end
  local body = string.format(
    '{"category":"pothole","location":{"lat":%s,"lon":%s},"description":"Dziura w jezdni, benchmark"}',
    lat, lon)
  return wrk.format("POST", "/v1/reports", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key(),
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
