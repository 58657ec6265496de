-- wrk script: GET the path given in BENCH_PATH; `done` prints the figures as one JSON line.
local path = os.getenv("BENCH_PATH") or "/healthz"

function request()
  return wrk.format("GET", path)
end

-- done() reports the run (result.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")
