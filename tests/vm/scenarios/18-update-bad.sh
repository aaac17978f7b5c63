# healthdog update, the bad case (issue 17): version 3-bad (branch origin:broken) is pulled,
# armed and deployed; its application cannot start, healthdog lets the watchdog reset each trial
# boot, U-Boot rolls back after bootlimit (3, written by the update), healthdog removes the
# failed deployment and quarantines its commit, and the next `healthdog update` of that branch is
# refused, saying when and why the commit failed.
SERVE=1
SET=fast
TIMEOUT=700

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update --ref origin:broken
        sleep infinity
        ;;
*)
        [ "$version" = 3-bad ] && return # healthdog lets the watchdog reset it
        wait_status verdict rolled-back 60 || abort "not seen as rolled back"
        wait_for 60 deploy_settled || abort "the failed deployment was not removed"
        hd_update --ref origin:broken
        echo "@@again $UPDATE_EXIT"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 3
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 5
        expect_console "Armed the trial: upgrade_available=1 bootcount=0 bootlimit=3"
        expect_eq "rejected trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rejected","verdict_reason":"[^"]*check app')" 3
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 1
        expect_eq "the same update again (1: refused)" "$(vm_report "$VM_DIR" again)" 1
        expect_console "Refusing to update: commit $(vm_report "$VM_DIR" quarantine | cut -c1-64) failed its trial on [0-9-]+ \(.*app"
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
