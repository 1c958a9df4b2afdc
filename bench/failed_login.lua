-- wrk script: POST /login with a wrong password, carrying a valid login-form CSRF pair
-- (the cookie and the form field), so each request is a real failed login that runs bcrypt
-- (or is turned away with 429 when the hashing queue is full). Counts answers by status.
local token = os.getenv("LOGIN_CSRF")
wrk.method = "POST"
wrk.path = "/login"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "secmon_login_csrf=" .. token
wrk.body = "username=admin&password=wrong-password-guess&csrf_token=" .. token

-- Count answers by status, as status_count.lua does (wrk runs from the repository root).
dofile("bench/status_count.lua")
