# arm64, the environment in NOR flash: a good upgrade confirmed and pruned with no reset, then a
# plain reboot that leaves the flash's bytes as they were. The host copies the flash bank (QEMU
# stopped) once the confirmation's store and the prune are done, and again after the steady boot;
# the copies must be equal, and QEMU's flash traces must show no erase and no programmed word from
# the steady boot's U-Boot, kernel or healthdog.
ARCH=arm64
SET=fast
TIMEOUT=480

guest() {
        cat <<'GUEST'
case $boot in
1) update vm/good ;;
2)
        wait_status verdict confirmed 90 || abort "not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        echo "@@flash-copy confirmed"
        sleep 2 # the host stops the VM to copy the flash, after the line reached the console
        say "confirmed; a plain reboot now"
        reboot_now
        ;;
3)
        wait_status verdict steady 90 || abort "not steady"
        sleep 8 # longer than confirm-after: a trial would have been confirmed by now
        echo "@@flash-copy steady"
        sleep 2
        finish
        ;;
esac
GUEST
}

expect() {
        local boot3
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_eq "confirmed trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"phase":"trial".*"verdict":"confirmed"')" 1
        expect_match "green hook" "$(vm_report "$VM_DIR" hook)" "^green.d verdict=confirmed phase=trial"
        expect_eq "phase of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" steady
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 2$"
        # Who wrote the flash, per boot: the update's fw_setenv (boot 1), U-Boot's count and
        # healthdog's confirmation (boot 2), one 256 KiB erase block each; nobody (boot 3).
        expect_eq "flash erases in boots 1 and 2" \
                "$(python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["boot_times"]; print(b[0]["flash_erases"], b[1]["flash_erases"])' "$VM_DIR/run.json")" \
                "1 2"
        expect_match "the trial boot as healthdog saw it (U-Boot's count in the flash)" "$(vm_report "$VM_DIR" hook)" \
                "^green.d .* bootcount=1 "
        boot3=$(python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["boot_times"][2]; print(b["flash_erases"], b["flash_writes"])' "$VM_DIR/run.json")
        expect_eq "flash erases and programmed words in the steady boot (QEMU's traces)" "$boot3" "0 0"
        [ -f "$VM_DIR/confirmed.img" ] && [ -f "$VM_DIR/steady.img" ] || vm_fail "the host did not copy the flash twice"
        cmp -s "$VM_DIR/confirmed.img" "$VM_DIR/steady.img" || vm_fail "the steady boot changed the flash: $(cmp "$VM_DIR/confirmed.img" "$VM_DIR/steady.img" | head -n1)"
        echo "  ok: the flash bank after the confirmation and after the steady boot: the same $(stat -c %s "$VM_DIR/steady.img") bytes"
        # The other copy is obsolete. Linux programs its flag byte as a 32-bit word with 0xff
        # around it, which on NOR leaves the other bytes as they are; QEMU's flash overwrites
        # them, so under QEMU the obsolete copy's CRC is wrong (U-Boot rewrites the flag with
        # the bytes it read: that copy stays valid).
        expect_match "the active copy after the confirmation" "$(vm_flash_copies "$VM_DIR/confirmed.img")" \
                " valid flag=1 upgrade_available=0 bootcount=0$"
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
