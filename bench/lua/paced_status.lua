-- wrk script: status changes at the CRM simulator at a steady rate (see pace.lua), one per
-- case id in the file BENCH_CASES (one a line, each changed once, in order), to BENCH_STATUS
-- (default IN_PROGRESS), with the API key in BENCH_CRM_KEY. BENCH_COUNT should be the
-- number of ids. BENCH_LUA_DIR is the folder of pace.lua (default: bench/lua).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/pace.lua")

local key = os.getenv("BENCH_CRM_KEY") or error("BENCH_CRM_KEY is not set")
local status = os.getenv("BENCH_STATUS") or "IN_PROGRESS"
local cases = {}
for line in io.lines(os.getenv("BENCH_CASES") or error("BENCH_CASES is not set")) do
  if line ~= "" then
    cases[#cases + 1] = line
  end
end
local next_case = 0
local body = string.format('{"status":"%s"}', status)

function request()
  next_case = next_case % #cases + 1
  return wrk.format("POST", "/api/cases/" .. cases[next_case] .. "/status", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
  }, body)
end
