-- wrk script: every connection POSTs the multipart body read from BENCH_BODY_FILE (its
-- Content-Type, with the boundary, in BENCH_CONTENT_TYPE) to /v1/reports once, each from a
-- resident's address of its own, so "N clients at once" is N uploads, not a stream. Each
-- answer prints a WRK_ANSWERED line; wrk itself runs out its duration, so whoever runs it
-- interrupts it (SIGINT) after the last one. `done` prints the figures as one JSON line.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "residents.lua")
local body_file = os.getenv("BENCH_BODY_FILE")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local uploads = tonumber(os.getenv("BENCH_UPLOADS") or "1")
local started = 0
local answered = 0

function init(args)
  local file = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.path = "/v1/reports"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = content_type
end

-- Each upload from a resident's address of its own (residents.lua).
function request()
  return wrk.format(nil, nil, resident_headers({["Content-Type"] = content_type}), nil)
end

-- Called before each request: the first `uploads` go at once, any later one waits past the
-- end of the run (a connection that got its answer sends nothing more; when the server
-- closes it after its keep-alive timeout wrk counts a read error, which is no failure:
-- the statuses printed say how each upload went).
function delay()
  started = started + 1
  if started <= uploads then
    return 0
  end
  return 3600 * 1000
end

function response(status, headers, body)
  answered = answered + 1
  io.write(string.format("WRK_ANSWERED %d %d\n", answered, status))
  io.flush()
end

-- done() reports the run (result.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")
