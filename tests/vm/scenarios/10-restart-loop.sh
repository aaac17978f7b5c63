# A trial fails, and then healthdog restarts again and again (issue 15 #6): every restart of the
# old daemon opened and programmed the watchdog, which pings it, so a crash loop kept the board
# alive for ever with nothing supervised. A reset decided in this boot stands: the restarted
# daemon learns it from the state directory before it touches the device, leaves the device
# alone, and the i6300esb resets the VM within its timeout however often systemd restarts it.
TIMEOUT=480

guest() {
        cat <<'GUEST'
case $boot in
1) update vm/good ;;
2)
        broken_check
        this_boot_only broken
        wait_status feeding false 30 || abort "healthdog did not stop feeding"
        say "healthdog stopped feeding; now killing it again and again until the watchdog resets the VM"
        # Each new daemon gets 2 s after systemd restarts it (RestartSec=1s): a restart every ~3 s,
        # well inside the 5 s timeout, so a daemon that pinged at start would keep the VM alive.
        for i in $(seq 1 40); do
                old=$(systemctl show -P MainPID healthdog)
                [ "$old" != 0 ] && kill -9 "$old" && echo "@@killed $i"
                restarted() { new=$(systemctl show -P MainPID healthdog); [ "$new" != 0 ] && [ "$new" != "$old" ]; }
                wait_for 10 restarted
                sleep 2
        done
        abort "the watchdog did not reset the VM while healthdog was restarted"
        ;;
*)
        wait_status verdict confirmed 60 || abort "the update was not confirmed"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 1
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_console "\[healthdog\] A reset was decided earlier in this boot"
        expect_console "\[healthdog\] Not opening '/dev/watchdog0': it was left armed"
        expect_eq "rejected trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"[^"]*check broken')" 1
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "upgrade_available (fw_printenv on the host)" "$(vm_env "$VM_DIR" upgrade_available)" 0
}
