# An update whose kernel panics early in its boot (a unit crashes it through sysrq, as a bad
# driver would). The image boots with panic=5 in its kernel arguments: the kernel reboots after
# 5 s instead of waiting for ever (Debian's default, panic=0), U-Boot counts that boot like any
# other, and with bootlimit=1 boots the previous deployment next. No watchdog reset is needed.
TIMEOUT=480

guest() {
        cat <<'GUEST'
panic_unit() {
        local units=$NEW_ROOT/etc/systemd/system
        printf '%s\n' '[Unit]' 'DefaultDependencies=no' '[Service]' 'Type=oneshot' \
                "ExecStart=/bin/sh -c 'echo c >/proc/sysrq-trigger'" >"$units/healthdog-vm-panic.service"
        mkdir -p "$units/sysinit.target.wants"
        ln -s ../healthdog-vm-panic.service "$units/sysinit.target.wants/"
}
broken_trial panic_unit
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_console "Kernel panic - not syncing: sysrq triggered crash"
        expect_console "Rebooting in 5 seconds"
        expect_rolled_back_once
}
