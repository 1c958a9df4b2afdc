#!/usr/bin/env python3
"""Deterministic generator of nginx/Apache combined access logs with attack traffic mixed in.

    gen_access_log.py --lines N --seed S --out FILE

About 1 line in 200 is an attack request (SQL injection, XSS, path traversal, scanner user
agents, sensitive file probes) from a small set of attacker addresses; the rest is ordinary
browsing from many clients. Used by bench/analyze.sh to time the web rules.
"""
import argparse
import datetime
import random

PAGES = ["/", "/index.html", "/products", "/products?id=%d", "/search?q=%s", "/static/app.js", "/static/site.css",
         "/images/logo.png", "/about", "/contact", "/blog/%d-notes", "/api/v1/items?page=%d", "/login", "/cart"]
WORDS = ["shoes", "red+shirt", "laptop", "coffee", "gift", "union+station", "select+a+size", "book"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "curl/8.5.0"]
ATTACKS = ["/products?id=1%27%20or%201=1--", "/search?q=1+UNION+SELECT+username,password+FROM+users",
           "/item?id=1;SELECT+SLEEP(5)", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
           "/comment?text=%3Csvg%20onload%3Dalert(1)%3E", "/download?file=../../../../etc/passwd",
           "/static/..%2f..%2fapp/config.py", "/.env", "/.git/config", "/wp-config.php.bak", "/phpinfo.php"]
SCANNERS = ["sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None)", "Nuclei - Open-source project"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t = datetime.datetime(2026, 11, 20, 0, 0, 0)
    attackers = ["203.0.113.%d" % i for i in range(1, 30)]
    with open(args.out, "w") as f:
        for _ in range(args.lines):
            t += datetime.timedelta(microseconds=rng.randint(1000, 40000))
            stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
            if rng.random() < 0.005:
                ip = rng.choice(attackers)
                target = rng.choice(ATTACKS)
                agent = rng.choice(SCANNERS) if rng.random() < 0.5 else rng.choice(AGENTS)
                status = rng.choice([200, 403, 404, 500])
            else:
                ip = "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
                page = rng.choice(PAGES)
                if "%d" in page:
                    page = page % rng.randint(1, 5000)
                elif "%s" in page:
                    page = page % rng.choice(WORDS)
                target, agent = page, rng.choice(AGENTS)
                status = 200 if rng.random() < 0.95 else 404
            size = rng.randint(200, 50000)
            f.write('%s - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s"\n' % (ip, stamp, target, status, size, agent))


if __name__ == "__main__":
    main()
