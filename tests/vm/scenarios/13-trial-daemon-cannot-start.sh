# An update in which healthdog cannot start at all: its unit's ExecStart names a program that is
# not there (as a missing library or a crash at start-up would), and systemd restarts it every
# second for ever. Nothing of the daemon ever runs, so only `healthdog arm` stands between this
# trial and a device that stays on it unsupervised: it armed the i6300esb with boot-deadline=
# (45 s) before, nobody takes it over, the VM resets and U-Boot boots the previous deployment.
TIMEOUT=600

guest() {
        cat <<'GUEST'
if [ -e /etc/healthdog-vm-broken ]; then
        say "the trial boot: healthdog cannot start; waiting for the watchdog armed at boot"
        return
fi
if [ ! -e "$state/updated" ]; then
        touch "$state/updated"
        deploy vm/good
        mkdir -p "$NEW_ROOT/etc/systemd/system/healthdog.service.d"
        printf '[Service]\nExecStart=\nExecStart=/usr/sbin/healthdog-missing run\n' \
                >"$NEW_ROOT/etc/systemd/system/healthdog.service.d/broken.conf"
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
        expect_console "\[healthdog\] Trial boot: armed '/dev/watchdog0' with 45s"
        expect_console "\[healthdog\] healthdog.service: .*status=203/EXEC"
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 1
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
