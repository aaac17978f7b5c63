# shellcheck shell=bash
# Sourced by tests/demo and tests/demo-without-ostree: the simulated device under build/demo/.
# A watchdog stand-in takes the place of /dev/watchdog0 and reports every ping; U-Boot's
# environment is an image made with mkenvimage, read and written by healthdog through libubootenv
# exactly as on a board; the integrators' hooks print the verdicts.
#
# Globals: top, demo (build/demo), healthdog, standin, conf, pids (killed by device_cleanup),
# standin_log.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$top/build/demo
healthdog=$top/build/healthdog
standin=$top/build/tests/wdt-standin
conf=$demo/healthdog.conf
pids=()
standin_pid=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
env_get() { fw_printenv -c "$demo/fw_env.host" -n "$1" 2>/dev/null || true; }
show_env() {
        printf '  U-Boot environment: %s\n' "$(fw_printenv -c "$demo/fw_env.host" upgrade_available bootcount \
                bootlimit rollback 2>/dev/null | tr '\n' ' ')"
}
# Priority prefixes (<N>) are for the journal; the demo shows plain lines, named after WHO
# (other lines, such as the OSTree helper's progress, indented).
prefixed() { sed -u -E "s/^<[0-9]>/  $1: /; t; s/^/  /"; }

device_cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null || continue
                wait "$p" 2>/dev/null || true
        done
}

# device_new DEVICE-DIR RUN-DIR VAR=VALUE...: a fresh build/demo/ (with its deployments made
# mutable again, see tests/ostree/lib.sh); the configuration from conf/demo.conf.in for a device
# that sees build/demo/ as DEVICE-DIR and has its /run at RUN-DIR; U-Boot's environment with
# these variables; the hooks.
device_new() {
        local dir=$1 run=$2 set
        shift 2
        find "$demo" -xdev -path '*/ostree/deploy/*/deploy/*' -prune -type d -exec chattr -i {} + 2>/dev/null || true
        rm -rf "$demo"
        mkdir -p "$demo/state" "$demo/hooks/green.d" "$demo/hooks/red.d"
        sed -e "s|@DEMO_DIR@|$dir|g" -e "s|@RUN_DIR@|$run|g" "$top/conf/demo.conf.in" >"$conf"
        printf '%s\n' "$@" >"$demo/env.txt"
        mkenvimage -s 0x4000 -o "$demo/uboot.env" "$demo/env.txt"
        echo "$dir/uboot.env 0x0 0x4000" >"$demo/fw_env.config"
        echo "$demo/uboot.env 0x0 0x4000" >"$demo/fw_env.host"
        for set in green red; do
                cat >"$demo/hooks/$set.d/50-report" <<EOF
#!/bin/sh
echo "  [$set hook] verdict=\$HEALTHDOG_VERDICT phase=\$HEALTHDOG_PHASE check=\${HEALTHDOG_CHECK:--}"
EOF
                chmod 755 "$demo/hooks/$set.d/50-report"
        done
}

# describe_checks: the checks of the demo's configuration, indented.
describe_checks() {
        "$healthdog" config dump -c "$conf" | awk '/^\[/ { in_check = /^\[check/ } in_check && /^\[check/ { print "                 " $0 }
                in_check && /^(type|path|command|max-age|interval|timeout|required) =/ { print "                   " $0 }'
}

# standin_start [LOG]: the watchdog stand-in at build/demo/watchdog (a 3 s timeout), logging to
# build/demo/LOG (watchdog.log), its lines indented. standin_stop ends it.
standin_start() {
        standin_log=$demo/${1:-watchdog.log}
        "$standin" --device "$demo/watchdog" --timeout 3 --human --log "$standin_log" > >(sed -u 's/^/  /') &
        standin_pid=$!
        pids+=("$standin_pid")
        for _ in $(seq 50); do grep -q READY "$standin_log" 2>/dev/null && break; sleep 0.1; done
}
standin_stop() {
        kill "$standin_pid" 2>/dev/null || return 0
        wait "$standin_pid" 2>/dev/null || true
}

# fact WHAT COMMAND...: reports a key fact of the story: ok when COMMAND succeeds.
missing=0
fact() {
        if "${@:2}"; then
                printf '  ok: %s\n' "$1"
        else
                printf '  MISSING: %s\n' "$1"
                missing=$((missing + 1))
        fi
}
# verdict PHASE VERDICT: a boot with that phase ended with that verdict (build/demo/state/verdicts.jsonl).
verdict() { grep -q "\"phase\":\"$1\".*\"verdict\":\"$2\"" "$demo/state/verdicts.jsonl" 2>/dev/null; }
# facts_end: exits 0 when every fact was there, 1 with a message otherwise.
facts_end() {
        if [ "$missing" -gt 0 ]; then
                echo "demo: it did not go as told: $missing fact(s) missing; the logs are in build/demo/" >&2
                exit 1
        fi
        exit 0
}
