# An update in which healthdog cannot start at all: its unit's ExecStart names a program that is
# not there (as a missing library or a crash at start-up would), and systemd restarts it every
# second for ever. Nothing of the daemon ever runs, so only `healthdog arm` stands between this
# trial and a device that stays on it unsupervised: it armed the i6300esb with boot-deadline=
# (45 s) before, nobody takes it over, the VM resets and U-Boot boots the previous deployment.
TIMEOUT=600

guest() {
        cat <<'GUEST'
no_daemon() {
        mkdir -p "$NEW_ROOT/etc/systemd/system/healthdog.service.d"
        printf '[Service]\nExecStart=\nExecStart=/usr/sbin/healthdog-missing run\n' \
                >"$NEW_ROOT/etc/systemd/system/healthdog.service.d/broken.conf"
}
broken_trial no_daemon
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_console "\[healthdog\] Trial boot: armed '/dev/watchdog0' with 45s"
        expect_console "watchdog: watchdog0: watchdog did not stop!"
        expect_console "\[healthdog\] healthdog.service: .*status=203/EXEC"
        expect_rolled_back_once
}
