#!/bin/bash
# `healthdog status` while and after `healthdog update` runs (issue 17): the update's step from
# RUNTIME/update (pulling with the figures healthdog-ostree pull --progress-file keeps, armed once
# deployed, interrupted once the update is killed), the helper's peak RSS in the update's --json
# outcome, and the OSTree deployments that the command line lists through healthdog-ostree status
# (booted, pending, quarantined; left out with --no-deployments; null with the reason when the
# helper is missing, fails or hangs). A booted sysroot (tests/ostree/boot-into) whose origin is an
# update server on 127.0.0.1 that can hold back the file objects: the test sees the pull under way
# and then lets it go, so only the order of what it sees is asserted, never a time.
source "$(dirname "$0")/../ostree/lib.sh"
source "$(dirname "$0")/../ostree/remote.sh"

can_boot || skip "cannot make private mount + PID namespaces here"
source "$(dirname "$0")/../ostree/uboot-env.sh"
S=$T/sysroot
RUN=$T/run
GATE=$T/gate

write_conf() {
        cat >"$T/healthdog.conf" <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
runtime-directory = $RUN

[bootloader]
type = uboot
fw-env-config = $T/fw_env.config

[assessment]
hooks-directory = $T/hooks

[ostree]
enable = ${OSTREE_ENABLE:-auto}
helper = ${HELPER_PATH:-/run/healthdog-ostree}
sysroot = /

[check.root]
type = file
path = /usr
EOF
}

# status_in ARGS...: `healthdog status` with the first deployment booted (the deployments can be
# listed there); OUT, ERR, RC.
status_in() {
        BOOT_INTO_SHARE=$T booted "$S" "$B1" "$T/bin/healthdog" status -c "$T/healthdog.conf" "$@"
}
# status_out ARGS...: `healthdog status` from outside the booted namespace; OUT, ERR, RC.
status_out() {
        "$T/bin/healthdog" status -c "$T/healthdog.conf" "$@" >"$T/out" 2>"$T/err"
        RC=$?
        OUT=$(cat "$T/out")
        ERR=$(cat "$T/err")
        grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err" && fail "sanitizer report: $ERR"
        return 0
}
# js EXPR: EXPR in Python on the JSON document in OUT (d).
js() { json_get "$OUT" "$(sed 's/\bd\b/j/g' <<<"$1")"; }
expect_js() {
        local got
        got=$(js "$1")
        [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'; document: $OUT"
        note "ok: $1 = $got"
}
expect_line() {
        grep -Eq -- "$1" <<<"$OUT" || fail "no line matching /$1/ in healthdog status:
$OUT"
        note "ok: status shows: $(grep -Em1 -- "$1" <<<"$OUT" | sed 's/^ *//')"
}

remote_start
sysroot_from_remote "$S" 1
B1=$(deployments "$S" | awk 'NR == 1 { print $1 }')
C1=$(remote_csum 1)
write_conf
env_image upgrade_available=0 bootcount=0 bootlimit=3

echo "== before any update: no update, the booted deployment"
status_in --json
expect_rc 0 "status --json (booted)"
expect_js 'd["update"]' None
expect_js 'len(d["deployments"])' 1
expect_js '[d["deployments"][0][k] for k in ("checksum", "deployserial", "version", "booted", "pending")]' \
        "['$C1', 0, '1', True, False]"
status_in
expect_rc 0 "status (booted)"
expect_line "Deployments: 1$"
expect_line "^ +\* os $B1  1 +booted, default$"

echo "== an update under way: pulling, with the pull's figures, then armed"
remote_commit 2
C2=$(remote_csum 2)
touch "$GATE"
remote_start_gated "$GATE"
( BOOT_INTO_SHARE=$T "$ostree_top/tests/ostree/boot-into" "$S" "$B1" "$HELPER" "$T/bin/healthdog" update \
        -c "$T/healthdog.conf" --no-reboot --json >"$T/update.out" 2>"$T/update.err"; echo $? >"$T/update.rc" ) &
update_job=$!
pulling() {
        status_out --json --no-deployments
        [ "$RC" = 0 ] && [ "$(js '(d["update"] or {}).get("step") == "pulling" and d["update"]["running"] and (d["update"]["pull"] or {}).get("objects_requested", 0) > 0')" = True ]
}
for _ in $(seq 1200); do
        pulling && break
        [ -e "$T/update.rc" ] && fail "the update ended before its pull was seen: $(cat "$T/update.rc") $(cat "$T/update.err")"
        sleep 0.1
done
pulling || fail "the pull was never seen under way in 120 s: $OUT $ERR"
expect_js '[d["update"][k] for k in ("version", "checksum", "refspec", "interrupted", "reason")]' \
        "['2', '$C2', 'origin:$REF', False, None]"
expect_js 'd["update"]["pull"]["objects_fetched"] < d["update"]["pull"]["objects_requested"]' True
status_out --no-deployments
expect_line "Update: pulling [0-9]+% \([0-9]+ of [0-9]+ objects, [0-9.]+ (bytes|KiB|MiB)\) of 2 \(${C2:0:12}\)$"
[ -e "$RUN/update-pull" ] || fail "no $RUN/update-pull while pulling"
rm "$GATE"
wait "$update_job"
[ "$(cat "$T/update.rc")" = 0 ] || fail "update exited $(cat "$T/update.rc"): $(cat "$T/update.err")"
OUT=$(cat "$T/update.out")
expect_js 'd["outcome"]' armed
expect_js 'isinstance(d["helper_max_rss_kb"], int) and d["helper_max_rss_kb"] > 0' True
note "healthdog-ostree pull: peak RSS $(js 'd["helper_max_rss_kb"]') kB"
grep -Eq "Pulled 2: [0-9]+ objects, [0-9]+ bytes \(healthdog-ostree peak RSS [0-9.]+ (KiB|MiB)\)" "$T/update.err" ||
        fail "no peak RSS in the step line: $(cat "$T/update.err")"
status_out --json --no-deployments
expect_js '[d["update"][k] for k in ("step", "running", "interrupted", "version", "checksum")]' \
        "['armed', False, False, '2', '$C2']"
expect_js 'd["update"]["pull"]["objects_fetched"] > 0' True
[ -e "$RUN/update-pull" ] && fail "$RUN/update-pull stayed after the pull"
status_out --no-deployments
expect_line "Update: armed: 2 is deployed, the trial starts at the next boot$"

echo "== the deployments after it: 1 booted, 2 pending; a quarantined commit marked"
B2=$(deployments "$S" | awk 'NR == 1 { print $1 }')
echo "$C2" >"$STATE/quarantine"
status_in --json
expect_rc 0 "status --json after the update"
expect_js '[(x["version"], x["booted"], x["pending"], x["default"], x["quarantined"]) for x in d["deployments"]]' \
        "[('2', False, True, True, True), ('1', True, False, False, False)]"
status_in
expect_line "Deployments: 2$"
expect_line "^ +  os $B2  2 +pending, default, quarantined$"
expect_line "^ +\* os $B1  1 +booted$"
rm "$STATE/quarantine"

echo "== --no-deployments leaves them out"
status_in --json --no-deployments
expect_rc 0 "status --json --no-deployments"
expect_js '"deployments" in d or "deployments_error" in d' False
status_in --no-deployments
grep -q "Deployments" <<<"$OUT" && fail "--no-deployments showed them: $OUT"

echo "== a helper missing, failing, hanging: no deployments, the reason, exit 0"
cat >"$T/bin/failing" <<'EOF'
#!/bin/sh
echo "healthdog-ostree status: no sysroot today" >&2
exit 3
EOF
printf '#!/bin/sh\nexec sleep 60\n' >"$T/bin/hanging"
chmod 0755 "$T/bin/failing" "$T/bin/hanging"
for h in missing failing hanging; do
        OSTREE_ENABLE=yes HELPER_PATH=$T/bin/$h write_conf
        t0=$(date +%s)
        status_out --json
        expect_rc 0 "status --json with a $h helper"
        [ $(($(date +%s) - t0)) -lt 30 ] || fail "status waited $(($(date +%s) - t0)) s for a $h helper"
        expect_js 'd["deployments"]' None
        case $h in
        missing) want="cannot run '$T/bin/missing'" ;;
        failing) want="not an OSTree system, or nothing booted from it (exit 3): healthdog-ostree status: no sysroot today" ;;
        hanging) want="timed out after 5s: killed" ;;
        esac
        [[ $(js 'd["deployments_error"]') == *"$want"* ]] || fail "deployments_error: $(js 'd["deployments_error"]'), expected *$want*"
        note "ok: $h: $(js 'd["deployments_error"]')"
        status_out
        expect_rc 0 "status with a $h helper"
        grep -F -- "Deployments: unknown: " <<<"$OUT" | grep -qF -- "$want" || fail "no line Deployments: unknown: ...$want: $OUT"
        note "ok: status shows: Deployments: unknown: ...$want"
done
write_conf

echo "== the update killed while it pulls: interrupted"
rm "$STATE/update-armed"
env_image upgrade_available=0 bootcount=0 bootlimit=3
remote_commit 3
C3=$(remote_csum 3)
touch "$GATE"
# Not as PID 1 of the namespace (SIGKILL from inside does not reach that); the helper left behind
# goes with the namespace.
BOOT_INTO_SHARE=$T booted "$S" "$B1" /bin/bash -c '
        "$0" update -c "$1" --no-reboot 2>"$2/killed.err" &
        pid=$!
        for _ in $(seq 1200); do
                grep -q "\"step\":\"pulling\"" "$2/run/update" 2>/dev/null && [ -e "$2/run/update-pull" ] && break
                sleep 0.1
        done
        kill -9 "$pid"
        wait "$pid"
        echo "$pid"' "$T/bin/healthdog" "$T/healthdog.conf" "$T"
[ "$RC" = 0 ] || fail "the killed update's namespace: $RC $ERR"
killed=$OUT
rm "$GATE"
status_out --json --no-deployments
expect_rc 0 "status --json after the kill"
expect_js '[d["update"][k] for k in ("step", "running", "interrupted", "pid", "version")]' \
        "['pulling', False, True, $killed, '3']"
status_out --no-deployments
expect_line "Update: interrupted while pulling 3 \(${C3:0:12}\) \(healthdog update, PID $killed, is gone\)$"

echo "== damaged files: left out with a warning that names them"
echo 'not json' >"$RUN/update"
status_out --json --no-deployments
expect_rc 0 "status with a damaged $RUN/update"
expect_js 'd["update"]' None
grep -q "Failed to read '$RUN/update': not an update's progress, ignoring" <<<"$ERR" || fail "no warning: $ERR"
note "ok: $(head -n 1 <<<"$ERR")"
printf '{"step":"pulling","pid":%d,"version":"3","checksum":"%s","pull":null}\n' "$killed" "$C3" >"$RUN/update"
echo '{"objects_fetched":"many"}' >"$RUN/update-pull"
status_out --json --no-deployments
expect_rc 0 "status with a damaged $RUN/update-pull"
expect_js '[d["update"]["step"], d["update"]["pull"]]' "['pulling', None]"
grep -q "Failed to read '$RUN/update-pull': not a pull's progress, ignoring" <<<"$ERR" || fail "no warning: $ERR"
note "ok: $(head -n 1 <<<"$ERR")"
echo "PASS"
