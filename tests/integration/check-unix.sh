#!/bin/bash
# type=unix against scripted unix stream servers: one answering a line, one greeting on connect,
# one closing at once, one that never answers (the timeout), one that floods (the read is
# bounded), one whose accept queue is full; and a path with no socket.
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"

# The server: MODE SOCKET-PATH; logs what it received to SOCKET-PATH.log. Ends after 60 s.
cat >"$T/server.py" <<'EOF'
import socket, sys, os, time, threading
mode, path = sys.argv[1:3]
def handle(c):
    if mode == "answer":
        data = b""
        while b"\n" not in data:
            chunk = c.recv(100)
            if not chunk:
                break
            data += chunk
        with open(path + ".log", "ab") as f:
            f.write(data)
        c.sendall(b"PONG ready, 3 workers\n")
        time.sleep(30)  # keeps the connection open: the reply alone must be enough
    elif mode == "greet":
        c.sendall(b"OK hello\r\n")
        time.sleep(30)
    elif mode == "silent":
        time.sleep(30)
    elif mode == "flood":
        try:
            while True:
                c.sendall(b"z" * 65536)
        except OSError:
            pass
    c.close()

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
if mode == "full":
    s.listen(0)
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    filler.connect(path)
else:
    s.listen(16)
open(path + ".ready", "w").close()
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    if mode == "full":
        time.sleep(1)
        continue
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    if mode == "close":
        c.close()
        continue
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

for mode in answer greet silent flood close full; do
        "$PY" "$T/server.py" "$mode" "$T/$mode.sock" 2>>"$T/server.log" &
        lib_pids+=($!)
done
for mode in answer greet silent flood close full; do
        wait_until 10 test -e "$T/$mode.sock.ready" || fail "the $mode server did not start"
done

write_config <<EOF
[watchdog]
device = none

[check.ping-pong]
type = unix
path = $T/answer.sock
send = PING
expect = PONG

[check.ping-wrong]
type = unix
path = $T/answer.sock
send = PING
expect = OK

[check.greeting]
type = unix
path = $T/greet.sock
expect = OK

[check.connect-only]
type = unix
path = $T/silent.sock

[check.send-only]
type = unix
path = $T/silent.sock
send = STATUS

[check.silent]
type = unix
path = $T/silent.sock
send = PING
expect = PONG
timeout = 500ms

[check.flood]
type = unix
path = $T/flood.sock
expect = PONG

[check.closes]
type = unix
path = $T/close.sock
expect = PONG

[check.closes-before-send]
type = unix
path = $T/close.sock
send = PING
expect = PONG

[check.backlog-full]
type = unix
path = $T/full.sock

[check.missing]
type = unix
path = $T/missing.sock
EOF

S=${T//./\\.}
expect_check ping-pong 0 "$S/answer\\.sock replied \"PONG ready, 3 workers\" in [0-9.]+ms"
# The server got exactly the line, newline included.
printf 'PING\n' | cmp -s - "$T/answer.sock.log" || fail "the server received '$(od -c "$T/answer.sock.log")'"
note "ok: the server received exactly \"PING\\n\""
expect_check ping-wrong 1 "$S/answer\\.sock replied \"PONG ready, 3 workers\" \\(expected \"OK\"\\)"
expect_check greeting 0 "$S/greet\\.sock replied \"OK hello\" in [0-9.]+ms"
expect_check connect-only 0 "$S/silent\\.sock connected in [0-9.]+ms"
expect_check send-only 0 "$S/silent\\.sock connected and took the line in [0-9.]+ms"
expect_check closes 1 "$S/close\\.sock closed the connection without a reply \\(expected \"PONG\"\\)"
# Whether the server closes before or after the line went out is a race: either message.
expect_check closes-before-send 1 "$S/close\\.sock closed the connection (before taking the line|without a reply \\(expected \"PONG\"\\))"
expect_check backlog-full 1 "$S/full\\.sock: not accepting connections \\(listen backlog full\\)"
expect_check missing 1 "$S/missing\\.sock: No such file or directory"

# A reply that never ends: decided on its first bytes, the detail stays short.
expect_check flood 1 "$S/flood\\.sock replied \"z{80}\" \\(expected \"PONG\"\\)"
assert_cmp "flood: probe time (s)" "$RUN_SECS" "<" 2

# Nothing comes back: abandoned at the timeout.
expect_check silent 1 "timed out after 500ms"
assert_gave_up silent 0.5

# Under the daemon, every abandoned run must release its socket: 12 timeouts later the daemon
# holds no more descriptors than after the first few, and the pings never stopped.
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.silent]
type = unix
path = $T/silent.sock
send = PING
expect = PONG
interval = 200ms
timeout = 100ms
required = no
EOF
start_standin 1
LOG_LEVEL=debug start_daemon
assert_fds_flat silent 10
stop_daemon 0
stop_standin
echo "PASS"
