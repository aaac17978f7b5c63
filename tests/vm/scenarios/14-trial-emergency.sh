# An update whose boot never reaches healthdog: its /etc/fstab has a line that cannot be mounted,
# so local-fs.target fails and systemd isolates emergency.target, which waits on the console for
# a root password for ever; healthdog.service (after local-fs.target) is never started.
# `healthdog arm` ran before, once /uboot was mounted: the i6300esb resets the VM after
# boot-deadline= (45 s), and U-Boot boots the previous deployment.
TIMEOUT=600

guest() {
        cat <<'GUEST'
if [ ! -e "$state/updated" ]; then
        touch "$state/updated"
        deploy vm/good
        echo '/dev/vda1 /srv ext4 defaults 0 2' >>"$NEW_ROOT/etc/fstab"
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
        expect_console "emergency mode"
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
