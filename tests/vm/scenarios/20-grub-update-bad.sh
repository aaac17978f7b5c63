# The GRUB image (issue 20): `healthdog update` installs 3-bad and arms GRUB's trial
# (boot_counter=3, boot_success=0 in one store of /boot/grub/grubenv); its application cannot
# start, healthdog starves the watchdog in every trial boot, GRUB counts 3, 2, 1 and the fourth
# boot is menu entry 1, the previous deployment, with boot_counter=-1. healthdog sees the
# rollback, clears the variables (boot_success=1, boot_counter unset), removes 3-bad (grub-mkconfig
# drops its menu entry) and quarantines it.
BOOT=grub
SERVE=1
SET=fast
TIMEOUT=1200
BOOT_TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update --ref origin:broken
        sleep infinity
        ;;
*)
        [ "$version" = 3-bad ] && return # healthdog lets the watchdog reset it
        wait_status verdict rolled-back 60 || abort "not seen as rolled back"
        wait_for 180 deploy_settled || abort "the failed deployment was not removed"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 3
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 5
        expect_console "Armed the trial: .*boot_counter=3"
        expect_eq "GRUB's trial boots" "$(tr -d '\r' <"$VM_DIR/console.log" | grep -c 'healthdog: trial boot, [0-9] more')" 3
        expect_eq "GRUB's rollbacks" "$(tr -d '\r' <"$VM_DIR/console.log" | grep -c 'healthdog: trial boots used up')" 1
        expect_eq "rejected trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"[^"]*check app')" 3
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        expect_eq "GRUB menu entries left (grub-mkconfig on the removal)" "$(vm_report "$VM_DIR" grubmenu | grep -c .)" 1
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 1
        expect_eq "boot_counter (grubenv read on the host)" "$(vm_grubenv "$VM_DIR/disk.img" boot_counter)" "(unset)"
        expect_eq "boot_success (grubenv read on the host)" "$(vm_grubenv "$VM_DIR/disk.img" boot_success)" 1
}
