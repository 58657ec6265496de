-- wrk script: anonymous JSON pothole reports, each with its own Idempotency-Key.
-- BENCH_POINT="lat,lon" files every report at that point; otherwise at random points
-- inside the city, each from a resident's address (residents.lua). `done` prints the figures as one JSON line for the harness.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "residents.lua")
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
  return wrk.format("POST", "/v1/reports", resident_headers({
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key(),
  }), body)
end

-- done() reports the run (result.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")
