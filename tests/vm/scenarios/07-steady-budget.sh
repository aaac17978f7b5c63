# A steady device whose required check keeps failing: steady-action = reset, limited by the reboot
# budget (max-resets = 2 in the image): two watchdog resets, then the device stays up, degraded,
# and says so.
TIMEOUT=400

guest() {
        cat <<'GUEST'
case $boot in
1)
        broken_check
        ;;
2) ;; # fails again
3)
        wait_status degraded true 60 || abort "not degraded"
        sleep 6 # more than the watchdog's timeout: still fed
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 2
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_eq "degraded" "$(vm_status "$VM_DIR" 'j["boot"]["degraded"]')" true
        expect_match "verdict reason" "$(vm_status "$VM_DIR" 'j["boot"]["verdict_reason"]')" "reboot budget spent"
        expect_eq "feeding" "$(vm_status "$VM_DIR" 'j["watchdog"]["feeding"]')" true
}
