"""Live-feed latency probe for bench/pipeline.sh (part "live").

Opens CLIENTS WebSockets to /live (as several viewer accounts: the feed allows 4 per user), then
plays EPISODES brute-force episodes, each 4 failed logins from a fresh address (X-Forwarded-For,
the server trusts the loopback proxy). For each episode it notes when the answer to the 4th login
(the one that completes D-01's condition) arrives, and when each client receives D-01's alert about
that address; prints the latencies' count, p50, p99 and max in milliseconds (negative: the alert
arrived before the answer did).

usage: live_probe.py BASE_URL CLIENTS EPISODES USER:PASSWORD [USER:PASSWORD ...]
"""
import asyncio, http.cookiejar, json, re, sys, time, urllib.parse, urllib.request

import websockets

base, clients, episodes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
accounts = [a.split(":", 1) for a in sys.argv[4:]]


def login(user, password):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
    body = urllib.parse.urlencode({"username": user, "password": password, "csrf_token": token}).encode()
    opener.open(urllib.request.Request(base + "/login", data=body), timeout=10)
    for cookie in jar:
        if cookie.name == "secmon_session":
            return cookie.value
    raise SystemExit(f"could not log in as {user}")


def attack(address):
    """Four failed logins from `address`; returns when the 4th answer arrived."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"X-Forwarded-For": address}
    answered = None
    for attempt in range(4):
        page = opener.open(urllib.request.Request(base + "/login", headers=headers), timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
        body = urllib.parse.urlencode({"username": f"nobody{attempt}", "password": "wrong", "csrf_token": token}).encode()
        try:
            opener.open(urllib.request.Request(base + "/login", data=body, headers=headers), timeout=10)
        except urllib.error.HTTPError:
            pass
        answered = time.perf_counter()
    return answered


async def main():
    cookies = [login(user, password) for user, password in accounts]
    arrivals = {}  # address -> {client: time}
    sockets = []
    url = base.replace("http://", "ws://") + "/live"

    async def reader(index, socket):
        async for message in socket:
            data = json.loads(message)
            if data.get("type") != "alert" or data["data"].get("rule") != "D-01":
                continue
            now = time.perf_counter()
            for about in data["data"].get("about", []):
                if about.startswith("ip "):
                    arrivals.setdefault(about[3:], {}).setdefault(index, now)

    for index in range(clients):
        socket = await websockets.connect(url, additional_headers={
            "Cookie": f"secmon_session={cookies[index // 4 % len(cookies)]}", "Origin": base}, max_queue=None)
        sockets.append(socket)
        asyncio.ensure_future(reader(index, socket))
    await asyncio.sleep(1)
    answered = {}
    loop = asyncio.get_running_loop()
    for n in range(episodes):
        address = f"198.51.{100 + n // 250}.{n % 250 + 1}"
        answered[address] = await loop.run_in_executor(None, attack, address)
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)
    latencies = sorted((arrived - answered[address]) * 1000 for address, seen in arrivals.items() if address in answered
                       for arrived in seen.values())
    for socket in sockets:
        await socket.close()
    if not latencies:
        print("0 - - -")
        return
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]
    print(f"{len(latencies)} {pct(0.5):.1f} {pct(0.99):.1f} {latencies[-1]:.1f}")


asyncio.run(main())
