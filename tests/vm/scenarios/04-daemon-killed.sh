# healthdog killed with SIGKILL during a trial: systemd restarts it after RestartSec=1s, well
# inside the 5 s watchdog timeout, and the new process takes the device over and carries on with
# the same trial: no reset, the boot is confirmed, one record for the boot.
TIMEOUT=300

guest() {
        cat <<'GUEST'
case $boot in
1) update vm/good ;;
2)
        old=$(systemctl show -P MainPID healthdog)
        say "kill -9 healthdog ($old) during the trial"
        kill -9 "$old"
        new_pid() { new=$(systemctl show -P MainPID healthdog); [ "$new" != 0 ] && [ "$new" != "$old" ]; }
        wait_for 10 new_pid || abort "healthdog was not restarted"
        echo "@@restarted $old $new"
        wait_status verdict confirmed 60 || abort "not confirmed"
        echo "@@restarts $(systemctl show -P NRestarts healthdog)"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_match "restarted by systemd" "$(vm_report "$VM_DIR" restarted)" "^[0-9]+ [0-9]+$"
        expect_eq "NRestarts" "$(vm_report "$VM_DIR" restarts)" 1
        expect_eq "the restarted healthdog's scheduling" "$(vm_report "$VM_DIR" sched)" "SCHED_FIFO|SCHED_RESET_ON_FORK 20"
        expect_eq "verdict of the trial" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "records of the trial boot" "$(vm_report "$VM_DIR" verdict | grep -c '"phase":"trial"')" 1
        expect_eq "upgrade_available (fw_printenv on the host)" "$(vm_env "$VM_DIR" upgrade_available)" 0
}
