-- Pacing for wrk scripts (loaded with dofile): requests at a steady BENCH_RATE per second,
-- whatever the answer times, BENCH_COUNT of them at most (0: until wrk stops).
--
-- wrk calls delay() before each request of every connection, in one Lua state per thread
-- (the harness runs one). Each call takes the next slot of one schedule, start + k / rate,
-- and waits until it: so the connections share the rate, and a slow answer holds up only
-- its own connection, not the schedule (as long as enough connections are free).
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_pace_timespec;
  int clock_gettime(int clock_id, bench_pace_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_pace_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("BENCH_RATE") or "50")
local count = tonumber(os.getenv("BENCH_COUNT") or "0")
local start = nil
local slot = 0

function delay()
  local now = now_ms()
  start = start or now
  if count > 0 and slot >= count then
    return 24 * 3600 * 1000 -- all sent: this connection waits for wrk to stop
  end
  local due = start + slot * 1000 / rate
  slot = slot + 1
  return math.max(0, math.floor(due - now + 0.5))
end

-- done() reports the run (result.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")
