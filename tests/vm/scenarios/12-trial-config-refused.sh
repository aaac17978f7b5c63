# An update ships a healthdog configuration that healthdog refuses (a drop-in with a typo in the
# new deployment's /etc). On the trial boot healthdog runs on the last configuration that loaded
# and fails closed: it records "configuration invalid: FILE:LINE: ..." and stops feeding, the
# i6300esb resets the VM, and with bootlimit=1 U-Boot boots the previous deployment next. That
# boot clears the variables and removes the failed deployment; the known-good one stays.
SET=fast
TIMEOUT=480

guest() {
        cat <<'GUEST'
typo() { printf '[check.app]\ntimout = 5s\n' >"$NEW_ROOT/etc/healthdog/conf.d/50-update.conf"; }
broken_trial typo
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_console "\[healthdog\] Trial boot: armed '/dev/watchdog0' with 45s"
        expect_console "\[healthdog\] .*/etc/healthdog/conf.d/50-update.conf:2: unknown key 'timout'"
        expect_eq "trial boots rejected for their configuration" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"configuration invalid: /etc/healthdog/conf.d/50-update.conf:2: unknown key')" 1
        expect_eq "reset reason the rollback boot took" \
                "$(vm_status "$VM_DIR" 'j["boot"]["previous_reset"]["reason"]')" "configuration invalid"
        expect_rolled_back_once
}
