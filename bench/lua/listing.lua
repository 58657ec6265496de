-- wrk script: map reads at random places in the city. BENCH_MODE picks what is asked:
--   nearby  GET /v1/reports/nearby at a random point, with a random category of
--           BENCH_CATEGORIES (comma-separated codes);
--   bbox    GET /v1/reports for a box of BENCH_BOX="dlat,dlon" degrees at a random place,
--           BENCH_LIMIT (default 50) reports a page.
-- Points and boxes lie inside BENCH_AREA="min_lat,max_lat,min_lon,max_lon". BENCH_SEED
-- fixes the sequence of places. With BENCH_RATE set, requests go at that steady rate
-- (pace.lua) instead of as fast as the answers come. `done` prints the figures as one
-- JSON line.
local mode = os.getenv("BENCH_MODE") or "nearby"
local area = {}
for part in (os.getenv("BENCH_AREA") or "51.04,51.17,16.90,17.15"):gmatch("[^,]+") do
  area[#area + 1] = tonumber(part)
end
local min_lat, max_lat, min_lon, max_lon = area[1], area[2], area[3], area[4]
local categories = {}
for code in (os.getenv("BENCH_CATEGORIES") or "pothole"):gmatch("[^,]+") do
  categories[#categories + 1] = code
end
local box = {}
for part in (os.getenv("BENCH_BOX") or "0.009,0.0143"):gmatch("[^,]+") do
  box[#box + 1] = tonumber(part)
end
local dlat, dlon = box[1], box[2]
local limit = os.getenv("BENCH_LIMIT") or "50"
local seed = tonumber(os.getenv("BENCH_SEED") or "6")

function init(args)
  math.randomseed(seed)
end

local function between(low, high)
  return low + math.random() * (high - low)
end

function request()
  if mode == "bbox" then
    local lat = between(min_lat, max_lat - dlat)
    local lon = between(min_lon, max_lon - dlon)
    return wrk.format("GET", string.format(
      "/v1/reports?bbox=%.6f,%.6f,%.6f,%.6f&limit=%s", lon, lat, lon + dlon, lat + dlat, limit))
  end
  return wrk.format("GET", string.format(
    "/v1/reports/nearby?lat=%.6f&lon=%.6f&category=%s",
    between(min_lat, max_lat), between(min_lon, max_lon),
    categories[math.random(#categories)]))
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
if os.getenv("BENCH_RATE") then
  dofile(here .. "pace.lua") -- delay(), and done() as below
else
  -- done() reports the run (result.lua, beside this script).
  dofile(here .. "result.lua")
end
