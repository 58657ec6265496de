-- Where the residents' requests come from (loaded with dofile): each request gets a random
-- address in 10.0.0.0/8 as X-Forwarded-For, as intake's trusted reverse proxy would send it,
-- so that the per-address limits and turns count many residents, as in a city. With
-- BENCH_ONE_CLIENT set, no header is sent: every request is the one address wrk connects from.
local one_client = os.getenv("BENCH_ONE_CLIENT")

function resident_headers(headers)
  if not one_client then
    headers["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  return headers
end
