-- load.lua at a constant request rate (wrk 4 has no -R; wrk2 is not in Debian):
--
--   wrk ... -s bench/api/rate.lua URL -- <requests file> <threads> <requests per second>
--
-- Each thread sends on its own schedule, one request every threads/rate seconds: delay() hands
-- the next free connection the time left until its slot (0 when late, so a slow response is
-- followed by catch-up sends rather than a lower rate). Latency is measured by wrk from the
-- actual send, so with too few connections queueing would hide (coordinated omission); with
-- too many, connections idle before their first send hold gunicorn's threads (run.py's
-- rate_connections explains the choice).
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./"
dofile(here .. "load.lua")

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local load_init = init
local interval, offset, next_at = 0, 0, nil

function init(args)
  load_init(args)
  local nthreads, rate = tonumber(args[2]) or 1, tonumber(args[3])
  interval = 1000 * nthreads / rate
  offset = 1000 * id / rate -- the threads' schedules interleave
end

function delay()
  local t = now_ms()
  if next_at == nil then
    next_at = t + offset
  end
  local wait = next_at - t
  next_at = next_at + interval
  if wait < 0 then
    return 0
  end
  return wait
end
