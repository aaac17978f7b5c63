# A probe that never returns (a shell and two sleeps): healthdog kills its whole process group at
# its timeout, every run, so healthdog.service's cgroup never holds more than one probe. The
# check's policy (required, fail-after 2) then makes a steady device reset, once, within its reboot
# budget. The next boot reports why.
TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1)
        dropin hung <<'CONF'
[check.hung]
type = exec
command = /bin/sh -c "sleep 1000 & sleep 1000"
timeout = 2s
interval = 2s
fail-after = 2
CONF
        this_boot_only hung
        while :; do
                echo "@@hung state=$(check_field hung state) detail=$(check_field hung detail) procs=$(wc -l </sys/fs/cgroup/system.slice/healthdog.service/cgroup.procs)"
                sleep 1
        done
        ;;
2)
        wait_status verdict steady 30 || abort "no steady verdict"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_match "the probe, killed at its timeout" "$(vm_report "$VM_DIR" hung)" "detail=timed out after 2s"
        # healthdog + at most one probe's group (sh and its sleeps): a killed probe leaves nothing.
        local most
        most=$(vm_report "$VM_DIR" hung | sed 's/.*procs=//' | sort -n | tail -n 1)
        expect_eq "healthdog.service's cgroup held one probe at most (most processes: $most)" \
                "$([ "$most" -ge 2 ] && [ "$most" -le 4 ] && echo yes)" yes
        expect_eq "check that caused the reset" "$(vm_status "$VM_DIR" 'j["boot"]["previous_reset"]["check"]')" hung
        expect_eq "reset verdicts in the history" "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"reset"')" 1
}
