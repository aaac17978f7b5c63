# The GRUB image (issue 20): `healthdog update` installs version 3 and arms GRUB's trial; GRUB
# boots it with boot_counter 3 -> 2, healthdog confirms it (boot_success=1, boot_counter unset in
# one store) and prunes version 1 (grub-mkconfig drops its entry), without a reset. A plain reboot
# afterwards writes nothing to grubenv, neither GRUB nor healthdog: its bytes before that reboot
# (in the guest) are its bytes on the disk after the run (on the host).
BOOT=grub
SET=fast
SERVE=1
TIMEOUT=900
BOOT_TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update
        sleep infinity
        ;;
2)
        wait_status verdict confirmed 60 || abort "the update was not confirmed"
        wait_for 180 deploy_settled || abort "the prune did not finish"
        echo "@@grubenv-sum $(sha256sum </boot/grub/grubenv | cut -d' ' -f1)"
        sha256sum /boot/grub/grubenv >/var/lib/healthdog-vm/grubenv.sha256
        say "confirmed; a plain reboot now"
        reboot_now
        ;;
3)
        wait_status verdict steady 60 || abort "not steady"
        sleep 8 # longer than confirm-after: a trial would have been confirmed by now
        sha256sum -c --quiet /var/lib/healthdog-vm/grubenv.sha256 && echo "@@grubenv-untouched yes" ||
                echo "@@grubenv-untouched no"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_console "Armed the trial: .*boot_counter=3"
        expect_console "healthdog: trial boot, 2 more after this one"
        expect_eq "GRUB's trial boots" "$(tr -d '\r' <"$VM_DIR/console.log" | grep -c 'healthdog: trial boot, [0-9] more')" 1
        expect_eq "confirmed trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"phase":"trial".*"verdict":"confirmed"')" 1
        expect_eq "phase of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" steady
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 3$"
        expect_eq "GRUB menu entries left (grub-mkconfig on the prune)" "$(vm_report "$VM_DIR" grubmenu | grep -c .)" 1
        expect_eq "grubenv untouched by the steady boot (in the guest)" "$(vm_report "$VM_DIR" grubenv-untouched)" yes
        expect_eq "grubenv on the disk after the run: the bytes before the steady boot" \
                "$(vm_grubenv_cat "$VM_DIR/disk.img" | sha256sum | cut -d' ' -f1)" "$(vm_report "$VM_DIR" grubenv-sum)"
        expect_eq "boot_counter (grubenv read on the host)" "$(vm_grubenv "$VM_DIR/disk.img" boot_counter)" "(unset)"
        expect_eq "boot_success (grubenv read on the host)" "$(vm_grubenv "$VM_DIR/disk.img" boot_success)" 1
}
