# An update whose kernel panics early in its boot (a unit crashes it through sysrq, as a bad
# driver would). The image boots with panic=5 in its kernel arguments: the kernel reboots after
# 5 s instead of waiting for ever (Debian's default, panic=0), U-Boot counts that boot like any
# other, and with bootlimit=1 boots the previous deployment next. No watchdog reset is needed.
TIMEOUT=480

guest() {
        cat <<'GUEST'
if [ ! -e "$state/updated" ]; then
        touch "$state/updated"
        deploy vm/good
        units=$NEW_ROOT/etc/systemd/system
        printf '%s\n' '[Unit]' 'DefaultDependencies=no' '[Service]' 'Type=oneshot' \
                "ExecStart=/bin/sh -c 'echo c >/proc/sysrq-trigger'" >"$units/healthdog-vm-panic.service"
        mkdir -p "$units/sysinit.target.wants"
        ln -s ../healthdog-vm-panic.service "$units/sysinit.target.wants/"
        arm_trial 1
fi
wait_status verdict rolled-back 60 || abort "not seen as rolled back"
wait_for 60 deploy_settled || abort "the failed deployment was not removed"
finish
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_console "Kernel panic - not syncing: sysrq triggered crash"
        expect_console "Rebooting in 5 seconds"
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
