-- wrk script: named JSON pothole reports at a steady rate (see pace.lua), each with its own
-- Idempotency-Key, at random points inside the city, from residents' addresses
-- (residents.lua), filed with the bearer token in
-- BENCH_TOKEN. BENCH_LUA_DIR is the folder of pace.lua (default: bench/lua).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/pace.lua")
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/residents.lua")

local token = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")

function init(args)
  math.randomseed(os.time())
end

local function key()
  local t = {}
  for i = 1, 32 do
    t[i] = string.format("%x", math.random(0, 15))
  end
  return table.concat(t)
end

function request()
  local body = string.format(
    '{"category":"pothole","location":{"lat":%.6f,"lon":%.6f},' ..
    '"description":"Dziura w jezdni, benchmark"}',
    51.085 + math.random() * 0.045, 16.98 + math.random() * 0.10)
  return wrk.format("POST", "/v1/reports", resident_headers({
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key(),
  }), body)
end
