# After a reset healthdog decided, the next boot reports both sides: the watchdog's boot status
# (WDIOF_CARDRESET from the i6300esb: the card reset the machine) and healthdog's own recorded
# reason (check, detail), written before it stopped feeding.
TIMEOUT=240

guest() {
        cat <<'GUEST'
case $boot in
1)
        broken_check
        this_boot_only broken
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
        expect_eq "last reset by the watchdog (boot status)" "$(vm_status "$VM_DIR" 'j["watchdog"]["last_reset_by_watchdog"]')" true
        expect_eq "boot record: watchdog_reset" "$(vm_status "$VM_DIR" 'j["boot"]["watchdog_reset"]')" true
        expect_eq "recorded reason: check" "$(vm_status "$VM_DIR" 'j["boot"]["previous_reset"]["check"]')" broken
        expect_match "recorded reason: detail" "$(vm_status "$VM_DIR" 'j["boot"]["previous_reset"]["detail"]')" "never-there"
}
