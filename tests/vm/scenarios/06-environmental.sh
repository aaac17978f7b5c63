# An environmental check (a TCP uplink, marked environmental) fails during a trial: it holds the
# confirmation back but never stops the feeding: no reset. After trial-timeout (20 s here)
# trial-timeout-action = wait applies: still fed, still unconfirmed, upgrade_available stays 1.
TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1)
        # Added before the update: ostree admin deploy carries /etc into the new deployment.
        dropin uplink <<'CONF'
[assessment]
trial-timeout = 20s
trial-timeout-action = wait

[check.uplink]
type = tcp
host = 127.0.0.1
port = 9
interval = 1s
environmental = yes
CONF
        update vm/good
        ;;
2)
        timed_out() { healthdog status --json --no-deployments | grep -q '"verdict_reason":"not confirmed within 20s; waiting"'; }
        wait_for 60 timed_out || abort "the trial timeout did not apply"
        sleep 6 # more than the watchdog's timeout: still fed
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_eq "verdict" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" pending
        expect_eq "uplink check" "$(vm_status "$VM_DIR" '[[c["state"], c["environmental"]] for c in j["checks"] if c["name"] == "uplink"][0]')" '["failing", true]'
        expect_eq "feeding" "$(vm_status "$VM_DIR" 'j["watchdog"]["feeding"]')" true
        expect_eq "upgrade_available (fw_printenv on the host)" "$(vm_env "$VM_DIR" upgrade_available)" 1
}
