# A bad upgrade: the new deployment's application cannot start, so its required check fails in
# every trial boot. healthdog stops feeding, the i6300esb resets the VM, U-Boot counts; after
# bootlimit (3) resets altbootcmd boots the previous deployment, and healthdog clears the
# variables, removes the failed deployment (ostree admin status, uEnv.txt), records the verdict
# and runs the red hook. On both machines: the arm64 one (VM_ARCH=arm64) counts in its NOR flash.
ARCH=${VM_ARCH:-x86_64}
TIMEOUT=600
# In `make check` on arm64 (on x86 18 and 20 make the same claim there, through healthdog update).
[ "$ARCH" != arm64 ] || { TIMEOUT=900; SET=fast; }

guest() {
        cat <<'GUEST'
case $boot in
1) update vm/bad ;;
*)
        [ "$version" = 2-bad ] && return # healthdog lets the watchdog reset it
        wait_status verdict rolled-back 60 || abort "not seen as rolled back"
        wait_for 60 deploy_settled || abort "the failed deployment was not removed"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 3
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 5
        expect_console "\[healthdog\] Required check 'app' is failing .*no longer feeding /dev/watchdog0"
        expect_eq "rejected trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"[^"]*check app')" 3
        expect_eq "phase of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" rolled-back
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        expect_eq "kernels in uEnv.txt" "$(vm_report "$VM_DIR" uenv | grep -c '^kernel_image')" 1
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 1
        expect_match "red hook" "$(vm_report "$VM_DIR" hook)" "^red.d verdict=rolled-back phase=rolled-back"
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
