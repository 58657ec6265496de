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

-- done() reports the run (result.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")
