#!/usr/bin/env python3
"""Deterministic generator of labelled activity logs for SecMon's baseline rules (bench/detection-quality.sh).

Writes activity-format lines (as SecMon's logs/app.log) in time order, and a truth file listing
every episode with the rule that should (or must not) fire for it:

  regular_bot        API_REQUEST every P s (P 5..120) with J jitter (0.5..4 %), 20..120 times  -> D-17
  jittery_bot        the same with 25..40 % jitter: not machine-regular                         (near miss)
  short_bot          a regular bot that stops after 17..19 calls                                 (near miss)
  heavy_user         a person's API use: 13..40 s apart, uniformly random, for an hour          (benign)
  new_address        a user watched for days logs in from an address never used               -> NEW-ADDRESS
  returning_address  a user logs in again from an address used within the learning period     (near miss)
  rate_burst         a user watched for days makes 60..150 API calls in one hour              -> RATE
  busy_hour          a user watched for days makes 15..25 API calls in one hour               (near miss)

Every episode has its own address (and user, where it logs in); benign background users log in
daily from their own one or two addresses and browse.

    python3 bench/gen_baseline_log.py --seed 1 --days 16 --out log --truth truth.json
"""
import argparse
import json
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def stamp(t):
    return (START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def line(t, ip, user, action):
    return (t, '{"timestamp": "%s", "ip_address": "%s", "username": "%s", "action": "%s", "taskName": null}'
            % (stamp(t), ip, user, action))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--days", type=int, default=16)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--episodes", type=int, default=20, help="episodes of each kind")
    parser.add_argument("--out", required=True)
    parser.add_argument("--truth", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    span = args.days * 86400
    lines, episodes = [], []
    used_ips = set()

    def new_ip():
        while True:
            ip = "10.%d.%d.%d" % (rng.randrange(1, 250), rng.randrange(0, 256), rng.randrange(1, 255))
            if ip not in used_ips:
                used_ips.add(ip)
                return ip

    # Background users: daily sessions from their own addresses, pages and a few API calls.
    for u in range(args.users):
        user = "u%d" % u
        homes = [new_ip() for _ in range(rng.choice((1, 1, 2)))]
        day = 0
        session = 0
        while day < args.days:
            t = day * 86400 + rng.uniform(7, 20) * 3600
            # A user with two addresses alternates between them (each used every few days).
            ip = homes[session % len(homes)]
            session += 1
            lines.append(line(t, ip, user, "LOGIN_SUCCESS"))
            for _ in range(rng.randrange(3, 15)):
                t += rng.uniform(5, 300)
                lines.append(line(t, ip, user, rng.choice(("PAGE_VISIT", "PAGE_VISIT", "API_REQUEST"))))
            day += rng.choice((1, 1, 1, 2, 3))

    def episode(kind, expected, ip, user, start, end, **params):
        episodes.append({"kind": kind, "expected_rule": expected, "ip": ip, "user": user,
                         "start": stamp(start), "end": stamp(end), "params": params})

    def bot(kind, expected, jitter, calls):
        ip, user = new_ip(), "bot-%s-%d" % (kind, len(episodes))
        period = rng.uniform(5, 120)
        t0 = t = rng.uniform(86400, span - period * (calls + 2))
        lines.append(line(t, ip, user, "LOGIN_SUCCESS"))
        for _ in range(calls):
            t += period * rng.uniform(1 - jitter, 1 + jitter)
            lines.append(line(t, ip, user, "API_REQUEST"))
        episode(kind, expected, ip, user, t0, t, period_s=round(period, 3), jitter=jitter, calls=calls)

    for _ in range(args.episodes):
        bot("regular_bot", "D-17", rng.uniform(0.005, 0.04), rng.randrange(20, 121))
        bot("jittery_bot", None, rng.uniform(0.25, 0.40), rng.randrange(20, 121))
        bot("short_bot", None, rng.uniform(0.005, 0.04), rng.randrange(17, 20))
        # A heavy but human API user: an hour of calls 13 to 40 s apart.
        ip, user = new_ip(), "heavy-%d" % len(episodes)
        t0 = t = rng.uniform(86400, span - 7200)
        lines.append(line(t, ip, user, "LOGIN_SUCCESS"))
        while t < t0 + 3600:
            t += rng.uniform(13, 40)
            lines.append(line(t, ip, user, "API_REQUEST"))
        episode("heavy_user", None, ip, user, t0, t)
        # A user watched for 8+ days, then a login from an address never used (new_address), or
        # from one used 3 days before (returning_address).
        for kind in ("new_address", "returning_address"):
            user = "watched-%s-%d" % (kind, len(episodes))
            home, other = new_ip(), new_ip()
            first = rng.uniform(0, 2 * 86400)
            t = first
            while t < first + 8 * 86400:
                lines.append(line(t, home, user, "LOGIN_SUCCESS"))
                t += rng.uniform(0.5, 1.5) * 86400
            if kind == "returning_address":
                lines.append(line(t - 3 * 86400 + 3600, other, user, "LOGIN_SUCCESS"))
            t += 3600
            if t >= span:
                continue
            lines.append(line(t, other if kind == "returning_address" else new_ip(), user, "LOGIN_SUCCESS"))
            episode(kind, "NEW-ADDRESS" if kind == "new_address" else None, lines[-1][1].split('"ip_address": "')[1].split('"')[0],
                    user, t, t)

        # A user with daily sessions for 3+ days, then one hour of many API calls (rate_burst) or
        # of somewhat more than usual (busy_hour).
        for kind, low, high in (("rate_burst", 60, 150), ("busy_hour", 15, 25)):
            user, ip = "rate-%s-%d" % (kind, len(episodes)), new_ip()
            t = rng.uniform(0, 86400)
            for _ in range(rng.randrange(3, 8)):
                lines.append(line(t, ip, user, "LOGIN_SUCCESS"))
                for _ in range(rng.randrange(2, 10)):
                    t += rng.uniform(20, 300)
                    lines.append(line(t, ip, user, "API_REQUEST"))
                t += rng.uniform(0.8, 1.2) * 86400
            if t + 3600 >= span:
                continue
            t0 = t
            lines.append(line(t, ip, user, "LOGIN_SUCCESS"))
            calls = rng.randrange(low, high + 1)
            for _ in range(calls):
                t += 3000 / calls * rng.uniform(0.5, 1.5)
                lines.append(line(t, ip, user, "API_REQUEST"))
            episode(kind, "RATE" if kind == "rate_burst" else None, ip, user, t0, t, calls=calls)

    lines.sort(key=lambda item: item[0])
    with open(args.out, "w") as out:
        out.write("\n".join(text for _, text in lines) + "\n")
    with open(args.truth, "w") as out:
        json.dump({"seed": args.seed, "days": args.days, "lines": len(lines), "episodes": episodes}, out, indent=1)


if __name__ == "__main__":
    main()
