-- wrk script: POST /login with a wrong password, carrying a valid login-form CSRF pair
-- (the cookie and the form field), so each request is a real failed login that runs bcrypt
-- (or is turned away with 429 when the hashing queue is full). Counts answers by status.
local token = os.getenv("LOGIN_CSRF")
wrk.method = "POST"
wrk.path = "/login"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "secmon_login_csrf=" .. token
wrk.body = "username=admin&password=wrong-password-guess&csrf_token=" .. token

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, status .. "=" .. n) end
  table.sort(parts)
  io.write("STATUS " .. table.concat(parts, " ") .. "\n")
end
