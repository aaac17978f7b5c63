# An update ships a healthdog configuration that healthdog refuses (a drop-in with a typo in the
# new deployment's /etc). On the trial boot healthdog runs on the last configuration that loaded
# and fails closed: it records "configuration invalid: FILE:LINE: ..." and stops feeding, the
# i6300esb resets the VM, and with bootlimit=1 U-Boot boots the previous deployment next. That
# boot clears the variables and removes the failed deployment; the known-good one stays.
TIMEOUT=480

guest() {
        cat <<'GUEST'
if [ -e /etc/healthdog-vm-broken ]; then
        say "the trial boot: healthdog refuses its configuration and lets the watchdog reset it"
        return
fi
if [ ! -e "$state/updated" ]; then
        touch "$state/updated"
        deploy vm/good
        printf '[check.app]\ntimout = 5s\n' >"$NEW_ROOT/etc/healthdog/conf.d/50-update.conf"
        touch "$NEW_ROOT/etc/healthdog-vm-broken"
        arm_trial 1
fi
wait_status verdict rolled-back 60 || abort "not seen as rolled back"
wait_for 60 deploy_settled || abort "the failed deployment was not removed"
finish
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_console "\[healthdog\] .*/etc/healthdog/conf.d/50-update.conf:2: unknown key 'timout'"
        expect_console "\[healthdog\] Trial boot: armed '/dev/watchdog0' with 45s"
        expect_eq "trial boots rejected for their configuration" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"configuration invalid: /etc/healthdog/conf.d/50-update.conf:2: unknown key')" 1
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "reset reason the rollback boot took" \
                "$(vm_status "$VM_DIR" 'j["boot"]["previous_reset"]["reason"]')" "configuration invalid"
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
