-- wrk script: replays the requests of a file, counts HTTP statuses, writes a JSON summary.
--
--   BENCH_OUT=out.json wrk -t T -c C -d 10s -s bench/api/load.lua http://127.0.0.1:PORT \
--       -- <requests file> <threads>
--
-- The requests file (bench/api/run.py writes it) has one request a line, tab-separated:
-- method, path, bearer token or "-", JSON body or "-". Line k goes to thread k mod T, so a
-- booking body is sent by one thread only; a thread that runs out starts over and counts the
-- repeats in "wrapped" (a file with fewer lines than threads goes to every thread). rate.lua adds a constant request rate on top of this script.
-- The summary also counts the values of the X-Availability-Cache response header (the
-- availability cache's hit / miss / off / error) under "cache".

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local requests = {}
local n, sent = 0, 0
statuses = {}
cache = {} -- X-Availability-Cache values (hit, miss, off, error) of availability answers
wrapped = 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2]) or 1
  local lines = {}
  for line in io.lines(file) do
    table.insert(lines, line)
  end
  if #lines < nthreads then
    nthreads = 1 -- fewer lines than threads (e.g. one URL): every thread sends them all
  end
  for lineno, line in ipairs(lines) do
    if (lineno - 1) % nthreads == id % nthreads then
      local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if token ~= "-" then
        headers["Authorization"] = "Bearer " .. token
      end
      if body == "-" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      n = n + 1
      requests[n] = wrk.format(method, path, headers, body)
    end
  end
  if n == 0 then
    error("no requests in " .. file)
  end
end

function request()
  sent = sent + 1
  if sent > n then
    wrapped = wrapped + 1
  end
  return requests[(sent - 1) % n + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local answer = headers["X-Availability-Cache"] or headers["x-availability-cache"]
  if answer then
    cache[answer] = (cache[answer] or 0) + 1
  end
end

function done(summary, latency, requests_stats)
  local counts, answers, repeats = {}, {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
    for answer, count in pairs(thread:get("cache")) do
      answers[answer] = (answers[answer] or 0) + count
    end
    repeats = repeats + thread:get("wrapped")
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local cache_parts = {}
  for answer, count in pairs(answers) do
    table.insert(cache_parts, string.format('"%s": %d', answer, count))
  end
  local e = summary.errors
  local json = string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, "wrapped": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d}, "statuses": {%s}, "cache": {%s}}',
    summary.duration, summary.requests, summary.bytes, repeats,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, table.concat(parts, ", "),
    table.concat(cache_parts, ", "))
  local path = os.getenv("BENCH_OUT")
  if path then
    local f = assert(io.open(path, "w"))
    f:write(json, "\n")
    f:close()
  else
    print(json)
  end
end
