# healthdog update and the power (issue 17): three power cuts (QMP system_reset), each leaving a
# consistent device. Right after the pull (--download-only): the next boot is steady, nothing
# armed or deployed. Right after arming, before the deployment exists (the helper asked to deploy
# has the host cut the power): the next boot is an armed trial of the old deployment, which
# healthdog confirms at once as "update not applied", no reset, no rollback. During the reboot
# into the trial: the next boot is the trial of version 3, confirmed.
SERVE=1
SET=fast
TIMEOUT=600

guest() {
        cat <<'GUEST'
cut=/etc/healthdog/conf.d/90-power-cut.conf
report_boot() {
        echo "@@boot$boot phase=$(status_field phase) verdict=$(status_field verdict)" \
                "deployments=$(ostree admin status | grep -c '^[* ] debian ')" \
                "$(fw_printenv upgrade_available bootcount | paste -sd' ')"
}
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update --download-only
        echo "@@downloaded $UPDATE_EXIT"
        sync
        power_cut "after the pull"
        ;;
2)
        wait_status verdict steady 30 || abort "boot 2 is not steady"
        report_boot
        mkdir -p /etc/healthdog/conf.d
        printf '[ostree]\nhelper = /usr/lib/healthdog-vm/helper-cut\n' >"$cut"
        sync
        hd_update
        abort "the update went on past the cut"
        ;;
3)
        rm -f "$cut"
        sync
        wait_status verdict confirmed 60 || abort "boot 3 was not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        report_boot
        power_cut_when_stopping
        hd_update
        sleep infinity
        ;;
4)
        wait_status verdict confirmed 60 || abort "the update was not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        report_boot
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "power cuts" "$(vm_json "$VM_DIR" power_cuts)" 3
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 4
        expect_eq "download-only" "$(vm_report "$VM_DIR" downloaded)" 0
        expect_match "after the cut after the pull" "$(vm_report "$VM_DIR" boot2)" \
                "^phase=steady verdict=steady deployments=1 upgrade_available=0 bootcount=0$"
        expect_console "@@power-cut between arming and deploying"
        expect_match "after the cut between arming and deploying" "$(vm_report "$VM_DIR" boot3)" \
                "^phase=trial verdict=confirmed deployments=1 upgrade_available=0 bootcount=0$"
        expect_eq "boots confirmed as 'update not applied' (verdict history)" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"confirmed","verdict_reason":"update not applied: the update to 3 ')" 1
        expect_console "\[healthdog\] Confirming this boot at once: update not applied"
        expect_console "@@power-cut during the reboot"
        expect_match "after the cut during the reboot" "$(vm_report "$VM_DIR" boot4)" \
                "^phase=trial verdict=confirmed deployments=1 upgrade_available=0 bootcount=0$"
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 3$"
        expect_eq "rolled-back boots in the verdict history" "$(vm_report "$VM_DIR" verdict | grep -c '"verdict":"rolled-back"')" 0
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
