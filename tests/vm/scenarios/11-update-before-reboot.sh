# An OTA client deploys an update (without staging), arms the trial, and healthdog restarts before
# the reboot (issue 15 #1): the old daemon took "the default deployment is not the booted one" for
# a rollback, cleared the variables and removed the update that had not booted yet. The boot's
# phase is decided once, when it starts, and kept across restarts; a left-over note to remove a
# failed deployment that no boot identified is dropped, not acted on. The update then boots as a
# trial and is confirmed.
TIMEOUT=400

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        say "deploying vm/good without staging, arming the trial, then restarting healthdog"
        ostree admin deploy --os=debian vm/good | sed 's/^/[device]   /'
        printf 'upgrade_available=1\nbootcount=0\n' >/run/healthdog-vm-trial
        fw_setenv -s /run/healthdog-vm-trial
        # What an earlier boot might have left: a removal whose deployment it never identified.
        echo remove-failed >/var/lib/healthdog/deploy-pending
        systemctl restart healthdog
        sleep 8
        echo "@@before-reboot-deployments $(ostree admin status | grep -c '^[* ] debian ')"
        echo "@@before-reboot-phase $(status_field phase)"
        echo "@@before-reboot-env $(fw_printenv upgrade_available)"
        [ -e /var/lib/healthdog/deploy-pending ] && echo "@@before-reboot-note kept" || echo "@@before-reboot-note dropped"
        reboot_now
        ;;
2)
        wait_status verdict confirmed 60 || abort "the update was not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_eq "deployments before the reboot" "$(vm_report "$VM_DIR" before-reboot-deployments)" 2
        expect_eq "phase after the restart" "$(vm_report "$VM_DIR" before-reboot-phase)" steady
        expect_eq "upgrade_available after the restart" "$(vm_report "$VM_DIR" before-reboot-env)" "upgrade_available=1"
        expect_eq "the unproven removal note" "$(vm_report "$VM_DIR" before-reboot-note)" dropped
        expect_console "\[healthdog\] Boot phase: steady .*as decided when this boot started"
        expect_console "could not tell which OSTree deployment failed: keeping them all"
        expect_eq "verdict of the update's boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 2$"
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 0
        expect_eq "rolled-back boots in the verdict history" "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rolled-back"')" 0
}
