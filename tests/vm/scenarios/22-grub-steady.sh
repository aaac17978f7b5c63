# The GRUB image (issue 20): steady boots write nothing to grubenv. Two boots of the image as
# built, a plain reboot between them; grubenv's bytes on the disk after the run (read on the host)
# are those of the image before it, and the guest saw the same bytes in both boots.
BOOT=grub
SET=fast
TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 60 || abort "not steady"
        sleep 8 # longer than confirm-after
        sha256sum /boot/grub/grubenv >/var/lib/healthdog-vm/grubenv.sha256
        say "steady; a plain reboot now"
        reboot_now
        ;;
2)
        wait_status verdict steady 60 || abort "not steady"
        sleep 8
        sha256sum -c --quiet /var/lib/healthdog-vm/grubenv.sha256 && echo "@@grubenv-untouched yes" ||
                echo "@@grubenv-untouched no"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_eq "GRUB's steady boots" "$(tr -d '\r' <"$VM_DIR/console.log" | grep -c 'healthdog: steady boot')" 2
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" steady
        expect_eq "grubenv untouched between the boots (in the guest)" "$(vm_report "$VM_DIR" grubenv-untouched)" yes
        expect_eq "grubenv on the disk after the run (host): the image's bytes" \
                "$(vm_grubenv_cat "$VM_DIR/disk.img" | sha256sum | cut -d' ' -f1)" \
                "$(vm_grubenv_cat "$VM/disk-grub.img" | sha256sum | cut -d' ' -f1)"
}
