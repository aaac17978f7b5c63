# The opposite: a steady device whose configuration stops loading (a drop-in with a typo, put
# there by hand and noticed only at the next boot). It must not reset over it: healthdog runs on
# the last configuration that loaded, says it is degraded (status, journal), `healthdog config
# check` names the file and line, `healthdog arm` leaves the steady boot alone, and the VM keeps
# running with no watchdog reset.
SET=fast
TIMEOUT=360

guest() {
        cat <<'GUEST'
case $boot in
1)
        printf '[check.app]\ntimout = 5s\n' >/etc/healthdog/conf.d/50-typo.conf
        say "added a drop-in with a typo; rebooting"
        reboot_now
        ;;
*)
        wait_status degraded true 60 || abort "not degraded"
        healthdog config check 2>&1 | sed 's/^/@@configcheck /'
        say "running for 30 s (6 watchdog timeouts) on the last configuration that loaded"
        sleep 30
        [ "$(status_field feeding)" = true ] || abort "not feeding"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_console "\[healthdog\] A steady boot .*: the watchdog is left alone"
        expect_console "\[healthdog\] .*does not load .*: running with the last one that loaded"
        expect_match "healthdog config check" "$(vm_report "$VM_DIR" configcheck)" \
                "^/etc/healthdog/conf.d/50-typo.conf:2: unknown key 'timout'"
        expect_match "config_error in the status" "$(vm_status "$VM_DIR" 'j["config_error"]')" \
                "^/etc/healthdog/conf.d/50-typo.conf:2: unknown key 'timout'"
        expect_eq "phase" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" steady
        expect_eq "degraded" "$(vm_status "$VM_DIR" 'j["boot"]["degraded"]')" true
        expect_eq "feeding" "$(vm_status "$VM_DIR" 'j["watchdog"]["feeding"]')" true
        expect_eq "upgrade_available (fw_printenv on the host)" "$(vm_env "$VM_DIR" upgrade_available)" 0
}
