# arm64, the environment in NOR flash: the power is cut in the middle of healthdog's confirmation
# store. The trial boot's checks pass, healthdog stores upgrade_available=0 bootcount=0: the host
# stops QEMU at that store's erase (QEMU's flash trace), copies the flash and resets the VM: the
# block of the copy being stored is erased and none of it written yet (its CRC is wrong), the
# other copy still holds the trial (upgrade_available=1, bootcount=1). The next boot's U-Boot takes that one (no "default
# environment"), counts the boot (bootcount=2), and healthdog confirms the trial again.
ARCH=arm64
SET=fast
TIMEOUT=480
VM_RUN_ARGS=(--power-cut-in-flash-store '@@cut-the-next-store' --flash-at-cut "$VM_DIR/flash-at-cut.img")

guest() {
        cat <<'GUEST'
case $boot in
1)
        deploy vm/good
        # The trial waits 20 s for its confirmation, so that the host is ready for the store.
        mkdir -p "$NEW_ROOT/etc/healthdog/conf.d"
        printf '[assessment]\nconfirm-after = 20s\n' >"$NEW_ROOT/etc/healthdog/conf.d/90-slow-confirm.conf"
        arm_trial
        ;;
2)
        echo "@@cut-the-next-store $(fw_printenv upgrade_available bootcount | paste -sd' ')"
        sleep infinity # the power is cut in healthdog's confirmation
        ;;
3)
        echo "@@boot3 $(fw_printenv upgrade_available bootcount | paste -sd' ')"
        wait_status verdict confirmed 90 || abort "the trial was not confirmed after the cut"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        finish
        ;;
esac
GUEST
}

expect() {
        local copies
        expect_eq "power cuts" "$(vm_json "$VM_DIR" power_cuts)" 1
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_match "the trial boot before the cut" "$(vm_report "$VM_DIR" cut-the-next-store)" \
                "^upgrade_available=1 bootcount=1$"
        [ -f "$VM_DIR/flash-at-cut.img" ] || vm_fail "no copy of the flash at the cut"
        copies=$(vm_flash_copies "$VM_DIR/flash-at-cut.img")
        echo "  the flash at the cut: $(paste -sd';' <<<"$copies")"
        expect_eq "valid copies at the cut" "$(grep -c ' valid ' <<<"$copies")" 1
        expect_match "the valid copy at the cut" "$copies" " valid flag=1 upgrade_available=1 bootcount=1$"
        expect_match "the copy being stored at the cut" "$copies" " invalid$"
        if tr -d '\r' <"$VM_DIR/console.log" | grep -q 'using default environment'; then
                vm_fail "U-Boot fell back to its default environment"
        fi
        echo "  ok: U-Boot never fell back to its default environment"
        expect_match "the next boot, counted from the surviving copy" "$(vm_report "$VM_DIR" boot3)" \
                "^upgrade_available=1 bootcount=2$"
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "phase of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" trial
        expect_eq "rolled-back boots in the verdict history" "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rolled-back"')" 0
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 2$"
        expect_match "the active copy at the end" "$(vm_flash_copies "$VM_DIR/flash.img")" \
                " valid flag=1 upgrade_available=0 bootcount=0$"
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
