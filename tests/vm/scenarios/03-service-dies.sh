# The application dies during a trial and cannot start again: healthdog first restarts it over
# D-Bus (repair = restart-unit, once), then rejects the boot: one watchdog reset. The next trial
# boot (the application starts again) is confirmed.
TIMEOUT=360

guest() {
        cat <<'GUEST'
case $boot in
1) update vm/good ;;
2)
        mkdir -p /run/healthdog-vm
        touch /run/healthdog-vm/break-app
        say "killing the application during the trial; it will not start again"
        systemctl kill -s KILL healthdog-vm-app.service
        while :; do
                echo "@@app $(systemctl is-active healthdog-vm-app.service) repairs=$(check_field app repairs) state=$(check_field app state)"
                sleep 1
        done
        ;;
3)
        wait_status verdict confirmed 60 || abort "not confirmed"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_match "repairs before the rejection" "$(vm_report "$VM_DIR" app)" "repairs=1"
        expect_eq "rejected trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"[^"]*check app')" 1
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "bootcount (fw_printenv on the host)" "$(vm_env "$VM_DIR" bootcount)" 0
}
