# The "application" the benchmark's checks probe: a TCP listener, an HTTP server, a unix socket
# answering PING with PONG, a heartbeat file touched every second and a pidfile.
# Usage: server.py DIR. Writes DIR/ports ("TCP HTTP"), DIR/app.pid, DIR/alive, DIR/app.sock;
# DIR/ready last. Runs until killed, at most an hour.
import http.server
import os
import socket
import sys
import threading
import time

d = sys.argv[1]


def tcp_loop(s):
    while True:
        c, _ = s.accept()
        c.close()


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status":"ok"}\n'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def unix_client(c):
    data = b""
    while b"\n" not in data:
        chunk = c.recv(100)
        if not chunk:
            break
        data += chunk
    try:
        c.sendall(b"PONG\n")
    except OSError:
        pass
    c.close()


def unix_loop(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=unix_client, args=(c,), daemon=True).start()


def heartbeat():
    while True:
        with open(os.path.join(d, "alive"), "a"):
            os.utime(os.path.join(d, "alive"))
        time.sleep(1)


tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0))
tcp.listen(64)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
ux_path = os.path.join(d, "app.sock")
if os.path.exists(ux_path):
    os.unlink(ux_path)
ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ux.bind(ux_path)
ux.listen(64)

with open(os.path.join(d, "app.pid"), "w") as f:
    f.write("%d\n" % os.getpid())
with open(os.path.join(d, "ports"), "w") as f:
    f.write("%d %d\n" % (tcp.getsockname()[1], httpd.server_address[1]))
for target, args in ((tcp_loop, (tcp,)), (unix_loop, (ux,)), (httpd.serve_forever, ()), (heartbeat, ())):
    threading.Thread(target=target, args=args, daemon=True).start()
time.sleep(0.2)
open(os.path.join(d, "ready"), "w").close()
time.sleep(3600)
