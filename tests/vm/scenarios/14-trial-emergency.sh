# An update whose boot never reaches healthdog: its /etc/fstab has a line that cannot be mounted,
# so local-fs.target fails and systemd isolates emergency.target, which waits on the console for
# a root password for ever; healthdog.service (after local-fs.target) is never started.
# `healthdog arm` ran before, once /uboot was mounted, and left the i6300esb running without the
# magic close (the kernel says "watchdog did not stop!"): it resets the VM after boot-deadline=
# (45 s), and U-Boot boots the previous deployment.
TIMEOUT=600

guest() {
        cat <<'GUEST'
bad_fstab() { echo '/dev/vda1 /srv ext4 defaults 0 2' >>"$NEW_ROOT/etc/fstab"; }
broken_trial bad_fstab
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_console "You are in emergency mode"
        expect_console "watchdog: watchdog0: watchdog did not stop!"
        expect_rolled_back_once
}
