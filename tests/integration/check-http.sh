#!/bin/bash
# type=http against a scripted HTTP server on 127.0.0.1 that answers by path: 200 with a length,
# chunked (the expected text split across chunks), to the end of the connection, 500, 1xx then
# 200, headers then a stall (the timeout; under the daemon every abandoned connection is closed
# at once), an endless body (the read stops at max-body), 1-byte chunks with long extensions
# (the framing is bounded; the pings stay regular), something that is not HTTP; and a port with
# nothing behind it.
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"

# The server: one thread per connection; logs each request's first lines to requests.log and,
# for /stall and /huge, how the connection ended to conns.log. Ends by itself after 60 s.
cat >"$T/server.py" <<'EOF'
import socket, sys, os, time, threading
portfile, reqlog, connlog = sys.argv[1:4]
lock = threading.Lock()
def log(path, line):
    with lock, open(path, "a") as f:
        f.write(line + "\n")

def handle(c):
    start = time.monotonic()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            return
        data += chunk
    head = data.split(b"\r\n\r\n")[0].decode()
    lines = head.split("\r\n")
    log(reqlog, " | ".join(lines))
    path = lines[0].split(" ")[1]
    if path == "/ok":
        body = b'{"status":"ok","uptime":3}'
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    elif path == "/chunked":
        # "all systems nominal" only exists once the chunks are put together.
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b"state: all sys", b"tems nom", b"inal\n"):
            c.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            time.sleep(0.02)
        c.sendall(b"0\r\n\r\n")
    elif path == "/close":
        c.sendall(b"HTTP/1.0 200 OK\nServer: old\n\nready to serve")
    elif path == "/500":
        c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 8\r\n\r\ndatabase")
    elif path == "/continue":
        c.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    elif path == "/stall":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        c.settimeout(30)
        try:
            c.recv(1)  # returns when the client closes
        except OSError:
            pass
        log(connlog, "stall %.3f" % (time.monotonic() - start))
    elif path.startswith("/huge"):
        # An endless body; "needle" only after the first MiB.
        c.sendall(b"HTTP/1.1 200 OK\r\n\r\nhay" + b"." * (1 << 20) + b"needle")
        sent = (1 << 20) + 9
        block = b"x" * 65536
        try:
            while time.monotonic() - start < 20:
                c.sendall(block)
                sent += len(block)
        except OSError:
            pass
        log(connlog, "huge %d %.3f" % (sent, time.monotonic() - start))
    elif path == "/chunky":
        # A broken or hostile server: 1-byte chunks, each with an 8000-byte chunk extension, as
        # fast as the socket takes them, for up to 20 s (a reader that takes all of it in one go
        # never gets back to its event loop).
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = (b"1;ext=" + b"e" * 8000 + b"\r\nx\r\n") * 128
        sent = 0
        try:
            while time.monotonic() - start < 20:
                c.sendall(block)
                sent += len(block)
        except OSError:
            pass
        log(connlog, "chunky %d %.3f" % (sent, time.monotonic() - start))
    elif path == "/ssh":
        c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        time.sleep(0.2)
    c.close()

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

"$PY" "$T/server.py" "$T/port" "$T/requests.log" "$T/conns.log" 2>"$T/server.log" &
lib_pids+=($!)
wait_until 10 test -s "$T/port" || fail "the server did not start"
PORT=$(cat "$T/port")
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_config <<EOF
[watchdog]
device = none

[check.ok]
type = http
url = http://127.0.0.1:$PORT/ok
expect-body = "status":"ok"

[check.ok-by-name]
type = http
url = http://localhost:$PORT/ok#fragment

[check.wrong-body]
type = http
url = http://127.0.0.1:$PORT/ok
expect-body = degraded

[check.chunked]
type = http
url = http://127.0.0.1:$PORT/chunked
expect-body = all systems nominal

[check.to-close]
type = http
url = http://127.0.0.1:$PORT/close
expect-body = ready

[check.error]
type = http
url = http://127.0.0.1:$PORT/500

[check.error-expected]
type = http
url = http://127.0.0.1:$PORT/500
expect-status = 200 500
expect-body = database

[check.interim]
type = http
url = http://127.0.0.1:$PORT/continue
expect-status = 204

[check.stall]
type = http
url = http://127.0.0.1:$PORT/stall
timeout = 500ms

[check.huge]
type = http
url = http://127.0.0.1:$PORT/huge?1
expect-body = hay

[check.huge-needle]
type = http
url = http://127.0.0.1:$PORT/huge?2
expect-body = needle

[check.chunky]
type = http
url = http://127.0.0.1:$PORT/chunky
timeout = 1s
max-body = 16777216

[check.not-http]
type = http
url = http://127.0.0.1:$PORT/ssh

[check.refused]
type = http
url = http://127.0.0.1:$CLOSED/
EOF

expect_check ok 0 "HTTP 200 in [0-9.]+m?s"
assert_grep "$T/requests.log" "^GET /ok HTTP/1\\.1 \\| Host: 127\\.0\\.0\\.1:$PORT \\| User-Agent: healthdog/[^ ]+ \\| Accept: \\*/\\* \\| Connection: close$"
expect_check ok-by-name 0 "HTTP 200 in [0-9.]+m?s"
assert_grep "$T/requests.log" "^GET /ok HTTP/1\\.1 \\| Host: localhost:$PORT \\|"
expect_check wrong-body 1 'HTTP 200 but body lacks "degraded"'
expect_check chunked 0 "HTTP 200 in [0-9.]+m?s"
expect_check to-close 0 "HTTP 200 in [0-9.]+m?s"
expect_check error 1 "HTTP 500 \\(expected 200\\) in [0-9.]+m?s"
expect_check error-expected 0 "HTTP 500 in [0-9.]+m?s"
expect_check interim 0 "HTTP 204 in [0-9.]+m?s"
expect_check not-http 1 "127\\.0\\.0\\.1:$PORT: not an HTTP response: \"SSH-2\\.0-OpenSSH_9\\.2p1 Debian-2\""
expect_check refused 1 "127\\.0\\.0\\.1:$CLOSED: Connection refused"

# Headers, then nothing: the probe gives up at its timeout and closes the connection.
expect_check stall 1 "timed out after 500ms"
assert_gave_up stall 0.5

# An endless body: only max-body (64 KiB) is read, then the connection is closed on the server,
# long before the 20 s it would keep sending.
expect_check huge 0 "HTTP 200 in [0-9.]+m?s"
assert_cmp "huge: probe time (s)" "$RUN_SECS" "<" 2
expect_check huge-needle 1 'HTTP 200 but body lacks "needle" in its first 65536 bytes'
assert_cmp "huge-needle: probe time (s)" "$RUN_SECS" "<" 2
wait_until 10 test "$(grep -c '^huge ' "$T/conns.log" 2>/dev/null)" -ge 2 || fail "the server still sends the huge bodies"
note "huge bodies: bytes the server got to send, seconds: $(grep '^huge ' "$T/conns.log" | cut -d' ' -f2- | tr '\n' ' ')"
for sent in $(awk '$1 == "huge" { print $2 }' "$T/conns.log"); do
        # What loopback socket buffers absorb is a few MiB; 20 s of sending would be gigabytes.
        assert_cmp "huge: bytes the server could send" "$sent" "<" $((64 << 20))
done

# 1-byte chunks with 8000-byte extensions, sent as fast as loopback goes (16 MiB of body would
# take 128 GiB): the probe fails within its timeout (at a bound on the framing, or at the
# timeout), and the server's connection is closed then, not after the 20 s it would keep sending.
expect_check chunky 1 "127\\.0\\.0\\.1:$PORT: the chunked body's framing \\(chunk sizes and extensions\\) exceeds 1 MiB"
assert_cmp "chunky: probe time (s; timeout 1s)" "$RUN_SECS" "<" 2
wait_until 5 grep -q '^chunky ' "$T/conns.log" || fail "the server still sends its chunks"
note "chunky: bytes the server got to send, seconds: $(grep '^chunky ' "$T/conns.log" | cut -d' ' -f2-)"
assert_cmp "chunky: seconds the server sent" "$(awk '$1 == "chunky" { print $3 }' "$T/conns.log")" "<" 5
assert_cmp "chunky: bytes the server could send" "$(awk '$1 == "chunky" { print $2 }' "$T/conns.log")" "<" $((64 << 20))

# Under the daemon: every run of the stalled request is abandoned at 100 ms and its connection
# closed then, not left open; and the pings never stop.
: >"$T/conns.log"
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.stall]
type = http
url = http://127.0.0.1:$PORT/stall
interval = 250ms
timeout = 100ms
required = no
EOF
start_standin 1
start_daemon
t0=$(now)
wait_until 30 log_count_ge "$T/conns.log" '^stall ' 6 || fail "fewer than 6 stalled connections were closed within 30 s"
t1=$(now)
stop_daemon 0
stop_standin
note "stalled connections, seconds open: $(awk '$1 == "stall" { print $2 }' "$T/conns.log" | tr '\n' ' ')"
# Closed at the 100 ms timeout, with a second of scheduling delay allowed: the server would keep
# a connection 30 s.
assert_cmp "longest a stalled connection stayed open (s)" "$(awk '$1 == "stall" { print $2 }' "$T/conns.log" | sort -n | tail -n 1)" "<" 1.1
assert_fed "stalled connections" "$t0" "$t1" 0.1

# Under the daemon, the chunky server again, run after run: each run ends within its timeout and
# the pings stay regular (a reader that never returns to the event loop would starve them).
: >"$T/conns.log"
DAEMON_LOG=$T/daemon-chunky.log
STANDIN_LOG=$T/standin-chunky.log
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.chunky]
type = http
url = http://127.0.0.1:$PORT/chunky
interval = 1s
timeout = 500ms
max-body = 16777216
fail-after = 1
required = no
EOF
# A 1 s device: the reader that never returned to the loop held the pings for ~1 s.
start_standin 1
LOG_LEVEL=debug start_daemon
t0=$(now)
sleep 4
t1=$(now)
stop_daemon 0
stop_standin
runs=$(grep -c "^<7>Check 'chunky': " "$DAEMON_LOG")
note "chunky runs: $runs: $(grep -m1 "^<7>Check 'chunky': " "$DAEMON_LOG")"
assert_cmp "chunky runs in 4 s (interval 1s)" "$runs" ">=" 3
assert_fed "the chunky server" "$t0" "$t1" 0.1
echo "PASS"
