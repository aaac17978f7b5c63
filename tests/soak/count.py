# Asks the running daemon for its status over its control socket (the documented protocol: send
# "status", read one line of JSON) and keeps a running total of completed check runs in a state
# file, across reloads.
#
# Usage: count.py SOCKET STATE-FILE
# Prints "total N", then "kind KIND N" and "check NAME N" (runs over the whole soak so far), then
# "feeding true|false" and "check-state NAME STATE RESULT DETAIL" for the current status.
#
# A check's "runs" survives a reload only when the new config has a check of the same name and
# type. A check that disappeared, or whose count went down (removed and added again between two
# samples), has its last count banked. Runs between the last sample and a removal are not seen,
# so the total errs on the low side.
import json
import os
import socket
import sys

sock_path, state_path = sys.argv[1], sys.argv[2]

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sock_path)
s.sendall(b"status\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
reply = json.loads(data)
if not reply.get("ok"):
    sys.exit("status refused: %s" % reply.get("error"))
status = reply["status"]

try:
    with open(state_path) as f:
        st = json.load(f)
except FileNotFoundError:
    st = {"bank": {}, "last": {}}

now = {}
for c in status["checks"]:
    now["%s/%s" % (c["name"], c["type"])] = c["runs"]
for key, runs in st["last"].items():
    if key not in now or now[key] < runs:
        st["bank"][key] = st["bank"].get(key, 0) + runs
st["last"] = now

with open(state_path + ".tmp", "w") as f:
    json.dump(st, f)
os.rename(state_path + ".tmp", state_path)

per_check = dict(st["bank"])
for key, runs in now.items():
    per_check[key] = per_check.get(key, 0) + runs
kinds = {}
for key, runs in per_check.items():
    kind = key.rsplit("/", 1)[1]
    kinds[kind] = kinds.get(kind, 0) + runs

print("total", sum(per_check.values()))
for kind in sorted(kinds):
    print("kind", kind, kinds[kind])
names = {}
for key, runs in per_check.items():
    name = key.rsplit("/", 1)[0]
    names[name] = names.get(name, 0) + runs
for name in sorted(names):
    print("check", name, names[name])
print("feeding", "true" if status["watchdog"]["feeding"] else "false")
for c in status["checks"]:
    print("check-state", c["name"], c["state"], c["result"], " ".join((c.get("detail") or "").split()))
