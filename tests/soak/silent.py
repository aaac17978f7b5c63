# A peer that accepts and then says nothing, for the soak's tcp/http/unix probes that must time
# out: a TCP listener and a unix socket that take every connection, hold it for 2 s without
# reading or answering, and close it.
# Usage: silent.py DIR. Writes DIR/silent.port, serves DIR/silent.sock; DIR/silent.ready last.
# Runs until killed, at most two hours.
import os
import socket
import sys
import threading
import time

d = sys.argv[1]
held = []
lock = threading.Lock()


def accept_loop(s):
    while True:
        c, _ = s.accept()
        with lock:
            held.append((time.monotonic() + 2, c))


def reaper():
    while True:
        time.sleep(0.2)
        now = time.monotonic()
        with lock:
            for item in [h for h in held if h[0] <= now]:
                item[1].close()
                held.remove(item)


tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0))
tcp.listen(128)
path = os.path.join(d, "silent.sock")
if os.path.exists(path):
    os.unlink(path)
ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ux.bind(path)
ux.listen(128)
with open(os.path.join(d, "silent.port"), "w") as f:
    f.write("%d\n" % tcp.getsockname()[1])
for target, args in ((accept_loop, (tcp,)), (accept_loop, (ux,)), (reaper, ())):
    threading.Thread(target=target, args=args, daemon=True).start()
open(os.path.join(d, "silent.ready"), "w").close()
time.sleep(7200)
