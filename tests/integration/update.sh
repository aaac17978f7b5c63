#!/bin/bash
# `healthdog update` (issue 17) on a booted OSTree sysroot (tests/ostree/boot-into) whose origin
# is an update server on 127.0.0.1 (tests/ostree/remote.sh), with a redundant U-Boot environment
# made by mkenvimage: the order that survives a power cut (the trial armed in one
# compare-and-store before the deployment becomes the default, and the note of what it is for
# written before that), the refusals that change nothing (an armed update waiting for its reboot,
# an unconfirmed trial, a rollback not cleaned up, a quarantined commit, a configuration that
# does not load, a remote that is down, an unsigned remote), and a failed deployment that leaves
# the environment disarmed again. Each is checked from outside: `ostree admin status`,
# fw_printenv, the state directory.
source "$(dirname "$0")/../ostree/lib.sh"
source "$(dirname "$0")/../ostree/remote.sh"

can_boot || skip "cannot make private mount + PID namespaces here"
source "$(dirname "$0")/../ostree/uboot-env.sh"
S=$T/sysroot

write_conf() {
        cat >"$T/healthdog.conf" <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
runtime-directory = $T/run

[bootloader]
type = uboot
fw-env-config = $T/fw_env.config

[assessment]
confirm-after = 1s
hooks-directory = $T/hooks

[ostree]
helper = ${HELPER_PATH:-/run/healthdog-ostree}
sysroot = /
keep-rollback = 1

[update]
bootlimit = 2
$*

[check.root]
type = file
path = /usr
interval = 200ms
EOF
}

# update ARGS...: `healthdog update ARGS` with the first deployment booted; OUT, ERR, RC.
update() {
        BOOT_INTO_SHARE=$T booted "$S" "$B1" "$T/bin/healthdog" update -c "$T/healthdog.conf" "$@"
}
expect_refused() {
        local want=$1 sig
        shift
        sig=$(env_sig)
        update --no-reboot
        expect_rc "$want" "$*"
        grep -q -- "$1" <<<"$OUT$ERR" || fail "not said: /$1/ in: $OUT $ERR"
        [ "$(env_sig)" = "$sig" ] || fail "$*: the environment was written"
}

remote_start
sysroot_from_remote "$S" 1
B1=$(deployments "$S" | awk 'NR == 1 { print $1 }')
write_conf
env_image upgrade_available=0 bootcount=0 bootlimit=3

echo "== nothing new"
update --no-reboot
expect_rc 0 "update with nothing new"
grep -q "Already up to date with origin:$REF: 1 " <<<"$OUT$ERR" || fail "$OUT $ERR"
update --check
expect_rc 3 "update --check with nothing new"

echo "== version 2: --check and --download-only change nothing"
remote_commit 2
C2=$(remote_csum 2)
sig=$(env_sig)
update --check --json
expect_rc 0 "update --check"
[ "$(json_get "$OUT" 'j["outcome"]')" = available ] || fail "$OUT"
[ "$(json_get "$OUT" 'j["checksum"]')" = "$C2" ] || fail "$OUT"
update --download-only
expect_rc 0 "update --download-only"
[ -e "$S/ostree/repo/state/$C2.commitpartial" ] && fail "--download-only left the commit partial"
expect_deployments "$S" 1
[ "$(env_sig)" = "$sig" ] || fail "--check or --download-only wrote the environment"
[ -e "$STATE/update-armed" ] && fail "--download-only wrote the update note"

echo "== update: armed, then deployed; no reboot asked"
update --no-reboot --json
expect_rc 0 "update --no-reboot"
[ "$(json_get "$OUT" 'j["outcome"]')" = armed ] || fail "$OUT"
grep -q "Armed the trial: upgrade_available=1 bootcount=0 bootlimit=2" <<<"$ERR" || fail "arming not said: $ERR"
expect_env upgrade_available 1
expect_env bootcount 0
expect_env bootlimit 2
expect_deployments "$S" 2 1
[ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["checksum"])' "$STATE/update-armed")" = "$C2" ] ||
        fail "update note: $(cat "$STATE/update-armed")"
# The order: the note, then the environment, then the deployment (the log says it as it goes).
order=$(grep -o 'Armed the trial\|Deployed 2' <<<"$ERR" | paste -sd,)
[ "$order" = "Armed the trial,Deployed 2" ] || fail "order: $order"

echo "== a second update before the reboot is refused"
remote_commit 3
expect_refused 4 "armed and deployed already, waiting for its reboot"

echo "== an unconfirmed trial, a rollback or a prune not done yet: refused"
rm "$STATE/update-armed"
env_image upgrade_available=1 bootcount=1 bootlimit=2
expect_refused 4 "this boot is an unconfirmed trial"
env_image upgrade_available=1 bootcount=3 bootlimit=2 rollback=1
expect_refused 4 "the last update was rolled back"
env_image upgrade_available=0 bootcount=0 bootlimit=3
echo prune >"$STATE/deploy-pending"
expect_refused 4 "Refusing to update: healthdog's OSTree prune has not finished ('$STATE/deploy-pending')"
rm "$STATE/deploy-pending"

echo "== a quarantined commit: refused with when and why, unless --force"
C3=$(remote_csum 3)
echo "$C3" >"$STATE/quarantine"
printf '{"boot_id":"x","started_usec":1796000000000000,"phase":"rolled-back","failed_deployment":"%s.0","previous_reset":{"reason":"check failed","check":"app","detail":"app.service failed"},"verdict":"rolled-back"}\n' \
        "$C3" >"$STATE/verdicts.jsonl"
expect_refused 1 "Refusing to update: commit $C3 failed its trial on 2026-1[12]-[0-9]* (check failed app: app.service failed); use --force"
update --no-reboot --force
expect_rc 0 "update --force of a quarantined commit"
expect_deployments "$S" 3 1
rm "$STATE/quarantine" "$STATE/update-armed"
env_image upgrade_available=0 bootcount=0 bootlimit=3

echo "== a configuration that does not load: refused"
write_conf "no-such-key = 1"
expect_refused 1 "refusing to update while the configuration does not load"
write_conf

echo "== the remote is down: try later (75)"
remote_commit 4
remote_stop
expect_refused 75 "Couldn't connect to server"
remote_start_again

echo "== require-signature and an unsigned remote: refused"
write_conf "require-signature = yes"
expect_refused 1 "it verifies no signature"
write_conf

echo "== an environment that cannot be written: nothing deployed"
chattr +i "$ENV"
at_exit "chattr -i '$ENV'"
update --no-reboot
chattr -i "$ENV"
expect_rc 1 "update with an immutable environment file"
grep -q "Failed to arm the trial" <<<"$ERR" || fail "$ERR"
expect_deployments "$S" 3 1
expect_env upgrade_available 0
[ -e "$STATE/update-armed" ] && fail "the update note stayed after a failed arming"

echo "== a deployment that fails: the trial is disarmed again"
remote_commit_without_kernel 5
update --no-reboot
expect_rc 1 "update to a commit without a kernel"
grep -q "The deployment failed: disarming the trial, nothing deployed" <<<"$ERR" || fail "$ERR"
expect_env upgrade_available 0
expect_env bootcount 0
expect_env bootlimit 3
expect_deployments "$S" 3 1
[ -e "$STATE/update-armed" ] && fail "the update note stayed after a failed deployment"

# new_boot: what follows runs in another boot (a new boot id).
new_boot() { cat /proc/sys/kernel/random/uuid >"$T/boot_id"; }
new_boot
export BOOT_INTO_BOOT_ID=$T/boot_id

# run_daemon DEPLOYMENT UNTIL: the daemon in that booted deployment until its log matches UNTIL
# (30 s at most), then SIGTERM; its log in ERR. A confirmation starts a prune: wait for its
# outcome ("OSTree prune"), else the prune stays pending and the next update waits for it.
run_daemon() {
        BOOT_INTO_SHARE=$T booted "$S" "$1" /usr/bin/env UNTIL="$2" HD="$T/bin/healthdog" CONF="$T/healthdog.conf" \
                /bin/bash -c '"$HD" run -c "$CONF" 2>/run/hd.log &
                pid=$!
                for _ in $(seq 300); do grep -Eq -- "$UNTIL" /run/hd.log && break; sleep 0.1; done
                kill -TERM "$pid"; wait "$pid"; rc=$?; cat /run/hd.log >&2; exit "$rc"'
        [ "$RC" = 0 ] || fail "the daemon exited $RC: $ERR"
        grep -Eq -- "$2" <<<"$ERR" || fail "the daemon never said /$2/: $ERR"
}
verdict_reason() { tail -n 1 "$STATE/verdicts.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["verdict_reason"])'; }

echo "== a power cut between arming and deploying: the next boot is confirmed as \"update not applied\""
rm -f "$STATE/verdicts.jsonl"
B3=$(deployments "$S" | awk 'NR == 1 { print $1 }')
remote_commit 6
C6=$(remote_csum 6)
# The helper of this run "loses power" when asked to deploy: it kills the update, and itself.
cat >"$T/bin/cut-at-deploy" <<EOF
#!/bin/sh
for a in "\$@"; do [ "\$a" = deploy ] && { kill -9 \$PPID; exit 1; }; done
exec /run/healthdog-ostree "\$@"
EOF
chmod 0755 "$T/bin/cut-at-deploy"
HELPER_PATH=$T/bin/cut-at-deploy write_conf
# Not as PID 1 of the namespace, which SIGKILL from inside does not reach.
BOOT_INTO_SHARE=$T booted "$S" "$B3" /bin/sh -c '"$@"; exit $?' sh "$T/bin/healthdog" update -c "$T/healthdog.conf" --no-reboot
[ "$RC" = 137 ] || fail "the update was not cut off at deploy: exit $RC: $ERR"
expect_env upgrade_available 1
expect_deployments "$S" 3 1
[ -e "$STATE/update-armed" ] || fail "no update note after arming"
write_conf
new_boot
run_daemon "$B3" "OSTree prune"
grep -q "Confirming this boot at once: update not applied: the update to 6 ($C6) was armed, but never became the default deployment" <<<"$ERR" ||
        fail "not recognised as an update not applied: $ERR"
expect_env upgrade_available 0
expect_env bootcount 0
case "$(verdict_reason)" in "update not applied: the update to 6"*) note "ok: verdict: $(verdict_reason)" ;;
*) fail "verdict reason: $(verdict_reason)" ;; esac
[ -e "$STATE/update-armed" ] && fail "the update note stayed"
expect_deployments "$S" 3 1

echo "== the update again, whole: its boot is a trial of the new deployment, confirmed by its checks"
update_from() { BOOT_INTO_SHARE=$T booted "$S" "$1" "$T/bin/healthdog" update -c "$T/healthdog.conf" --no-reboot; }
update_from "$B3"
expect_rc 0 "update to 6"
expect_deployments "$S" 6 3 1
B6=$(deployments "$S" | awk 'NR == 1 { print $1 }')
new_boot
run_daemon "$B6" "OSTree prune"
grep -q "Boot phase: trial" <<<"$ERR" || fail "not a trial: $ERR"
grep -q "Boot confirmed" <<<"$ERR" || fail "not confirmed: $ERR"
case "$(verdict_reason)" in "required checks healthy for 1s") note "ok: verdict: $(verdict_reason)" ;;
*) fail "verdict reason: $(verdict_reason)" ;; esac
[ -e "$STATE/update-armed" ] && fail "the update note stayed"
expect_env upgrade_available 0
echo "PASS"
