#!/usr/bin/env python3
"""Three `tribune serve` processes behind nginx on a fresh PostgreSQL database, checked the way
a site runs them: through nginx, and process against process.

    deploy/three_processes.py TRIBUNE_BINARY

Run by `deploy/test` (which installs nginx when missing). Exits non-zero on the first check
that fails; everything it started is stopped and its database dropped either way.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
PG_HOST = os.environ.get("PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("PG_PORT", "5432")
PG_USER = os.environ.get("PG_USER", "postgres")
PASSWORD = "deploy-violet-harbour-42"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql, db="postgres"):
    out = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", db, "-tAqc", sql],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


# Requests stand for readers' browsers: views count only for readers, not for scripts
# (Python-urllib is one).
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def call(base, method, path, body=None, token=None, xff=None):
    """(status, JSON or text) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("User-Agent", BROWSER)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if xff:
        req.add_header("X-Forwarded-For", xff)
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def check(ok, what):
    if not ok:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", flush=True)


class Site:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="tribune-deploy-")
        self.db = f"tribune_deploy_{os.getpid()}"
        self.procs = {}
        self.nginx = None
        psql(f"CREATE DATABASE {self.db}")
        self.env = dict(
            PATH=os.environ.get("PATH", ""),
            TRIBUNE_CONFIG="/dev/null",
            DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.db}",
            TRIBUNE_TRUSTED_PROXIES="127.0.0.1",
            TRIBUNE_MAIL_DIR=os.path.join(self.work, "mail"),
            TRIBUNE_AUTH_RATE="1000",
            TRIBUNE_COMMENT_RATE="1000",
            TRIBUNE_DB_POOL_SIZE="4",
            TRIBUNE_MAIL_RATE="100",
            TRIBUNE_WORKERS="1",
            RUST_LOG="warn",
        )
        subprocess.run([BIN, "migrate"], env=self.env, check=True, capture_output=True)
        subprocess.run(
            [BIN, "user", "create", "--username", "chief", "--email", "chief@example.com",
             "--role", "admin"],
            env=dict(self.env, TRIBUNE_PASSWORD=PASSWORD), check=True, capture_output=True,
        )
        self.ports = [free_port() for _ in range(3)]
        for port in self.ports:
            self.start(port)
        self.start_nginx()

    def start(self, port):
        log = open(os.path.join(self.work, f"tribune-{port}.log"), "ab")
        env = dict(self.env, TRIBUNE_LISTEN=f"127.0.0.1:{port}")
        self.procs[port] = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
        self.wait_up(f"http://127.0.0.1:{port}")

    def wait_up(self, base):
        for _ in range(200):
            try:
                if call(base, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"FAILED: {base} did not come up")

    def start_nginx(self):
        self.nginx_port = free_port()
        site = open(os.path.join(HERE, "nginx.conf")).read()
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.nginx_port};")
        for old, port in zip(("8081", "8082", "8083"), self.ports):
            site = site.replace(f"127.0.0.1:{old}", f"127.0.0.1:{port}")
        with open(os.path.join(self.work, "site.conf"), "w") as f:
            f.write(site)
        w = self.work
        main = f"""
user root;
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/nginx-error.log;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {w}/client;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    include {w}/site.conf;
}}
"""
        conf = os.path.join(w, "nginx.conf")
        with open(conf, "w") as f:
            f.write(main)
        subprocess.run(["nginx", "-t", "-c", conf, "-p", w], check=True, capture_output=True)
        self.nginx = subprocess.Popen(["nginx", "-g", "daemon off;", "-c", conf, "-p", w])
        self.base = f"http://127.0.0.1:{self.nginx_port}"
        self.wait_up(self.base)

    def direct(self, i):
        return f"http://127.0.0.1:{self.ports[i]}"

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
        for proc in list(self.procs.values()) + ([self.nginx] if self.nginx else []):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        finally:
            shutil.rmtree(self.work, ignore_errors=True)


def signed_up(base, name):
    status, body = call(base, "POST", "/api/v1/auth/register",
                        {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    check(status == 201, f"{name} registers through nginx")
    return body["access_token"], body["user"]["id"]


def concurrently(count, work):
    results = [None] * count
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, work(i)))
               for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main(site):
    base = site.base
    writer, writer_id = signed_up(base, "writer")
    status, topic = call(base, "POST", "/api/v1/discussions",
                         {"title": "Busy", "body": "Read and written"}, writer)
    check(status == 201, "a topic through nginx")
    topic = topic["id"]

    # Views and replies add up exactly under load spread over the processes.
    views = concurrently(30, lambda i: [call(base, "GET", f"/api/v1/discussions/{topic}",
                                             xff=f"198.51.100.{i + 1}")[0] for _ in range(3)])
    check(all(s == 200 for v in views for s in v), "90 reads by 30 readers answered")
    posted = concurrently(30, lambda i: call(base, "POST", f"/api/v1/discussions/{topic}/comments",
                                             {"body": f"comment {i}"}, writer)[0])
    check(all(s == 201 for s in posted), "30 comments at once answered 201")
    time.sleep(1.8)
    counted = psql(f"SELECT views, replies FROM discussions WHERE id = {topic}", site.db)
    check(counted == "30|30", f"views and replies are exactly 30 and 30 ({counted})")

    # A stream on one process hears a comment posted through another, within a second.
    lines = []
    stream = urllib.request.urlopen(site.direct(0) + "/api/v1/discussions/stream", timeout=10)

    def read():
        try:
            for line in stream:
                lines.append(line.decode())
        except (OSError, ValueError):
            pass  # closed, or quiet past the timeout: the check below decides
    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    sent = time.time()
    status, _ = call(site.direct(1), "POST", f"/api/v1/discussions/{topic}/comments",
                     {"body": "heard elsewhere"}, writer)
    check(status == 201, "a comment through the second process")
    while time.time() - sent < 1.0 and not any(f'"id":{topic}' in l for l in lines):
        time.sleep(0.02)
    check(any(f'"id":{topic}' in l for l in lines),
          f"the first process's stream had the event within 1 s ({time.time() - sent:.2f} s)")
    stream.close()

    # A ban through one process stops writes through the others at once.
    target, target_id = signed_up(base, "troll")
    status, body = call(base, "POST", "/api/v1/auth/login", {"login": "chief", "password": PASSWORD})
    admin = body["access_token"]
    status, _ = call(site.direct(0), "POST", f"/api/v1/admin/users/{target_id}/ban",
                     {"reason": "spam"}, admin)
    check(status == 200, "a ban through the first process")
    for i in (1, 2):
        status, _ = call(site.direct(i), "POST", f"/api/v1/discussions/{topic}/comments",
                         {"body": "still here?"}, target)
        check(status == 403, f"the banned account's write through process {i + 1} is refused")

    # The 11th failed login from one address is refused, whichever processes served the rest.
    statuses = [call(base, "POST", "/api/v1/auth/login",
                     {"login": "writer", "password": "wrong-guess-here"}, xff="203.0.113.9")[0]
                for _ in range(11)]
    check(statuses == [401] * 10 + [429], f"10 failures, then 429 ({statuses})")

    # The day's digest goes once to each subscriber, with all three processes sending.
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    status, _ = call(base, "POST", "/api/v1/articles",
                     {"title": "Inside the window", "lead": "Lead.", "body": "Body.",
                      "published_at": f"{day}T05:00:00Z"}, admin)
    check(status == 201, "an article of yesterday's digest")
    rows = ", ".join(f"('s{n}@example.com', 's{n}@example.com', 'confirmed', 'u{n}', now())"
                     for n in range(40))
    psql("INSERT INTO newsletter_subscribers (email, email_key, status, unsubscribe_token, "
         f"created_at) VALUES {rows}", site.db)
    subprocess.run([BIN, "newsletter", "send-digest", "--enqueue-only", "--date", day],
                   env=site.env, check=True, capture_output=True)
    deadline = time.time() + 30
    while time.time() < deadline and psql(
            "SELECT count(*) FROM outbox WHERE digest_day IS NOT NULL AND status <> 'sent'",
            site.db) != "0":
        time.sleep(0.2)
    mail_dir = site.env["TRIBUNE_MAIL_DIR"]
    recipients = []
    for name in os.listdir(mail_dir):
        with open(os.path.join(mail_dir, name), errors="replace") as f:
            for line in f:
                if line.startswith("To: s") and "@example.com" in line:
                    recipients.append(line.strip())
    check(len(recipients) == 40 and len(set(recipients)) == 40,
          f"40 subscribers got the digest once each ({len(recipients)} mails)")

    # A process killed mid-load loses no acknowledged write, and nginx routes around it.
    acknowledged = []
    stop = time.time() + 2.0

    def post(i):
        n = 0
        while time.time() < stop:
            status, body = call(base, "POST", f"/api/v1/discussions/{topic}/comments",
                                {"body": f"load {i} {n}"}, writer)
            if status == 201:
                acknowledged.append(body["id"])
            n += 1
    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.7)
    killed = site.procs[site.ports[2]]
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    for t in threads:
        t.join()
    ids = ",".join(str(i) for i in acknowledged)
    stored = psql(f"SELECT count(*) FROM comments WHERE id IN ({ids})", site.db)
    check(int(stored) == len(acknowledged),
          f"every one of {len(acknowledged)} acknowledged comments is stored")
    after = [call(base, "GET", f"/api/v1/discussions/{topic}")[0] for _ in range(12)]
    check(all(s == 200 for s in after), f"nginx routes around the killed process ({after})")


if __name__ == "__main__":
    site = Site()
    try:
        main(site)
    finally:
        site.stop()
    print("all deployment checks passed")
