# A good upgrade: the trial boot's checks pass for confirm-after, healthdog clears the variables in
# one store, prunes the rollback deployment (keep-rollback = 0 in the image) and runs the green
# hook, without any reset. A plain reboot afterwards boots the same deployment and writes nothing
# to the environment (its two files keep their bytes).
SET=fast
TIMEOUT=360

guest() {
        cat <<'GUEST'
sums=/var/lib/healthdog-vm/env.sha256
case $boot in
1) update vm/good ;;
2)
        wait_status verdict confirmed 60 || abort "not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        sha256sum /uboot/uboot.env /uboot/uboot-redund.env >"$sums"
        say "confirmed; a plain reboot now"
        reboot_now
        ;;
3)
        wait_status verdict steady 60 || abort "not steady"
        sleep 8 # longer than confirm-after: a trial would have been confirmed by now
        sha256sum -c --quiet "$sums" && echo "@@env-untouched yes" || echo "@@env-untouched no"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_eq "confirmed trial boots in the verdict history" \
                "$(vm_report "$VM_DIR" verdict | grep -c '"phase":"trial".*"verdict":"confirmed"')" 1
        expect_match "green hook" "$(vm_report "$VM_DIR" hook)" "^green.d verdict=confirmed phase=trial"
        # realtime.conf: systemd sets the policy, healthdog locks its memory, hooks run normally.
        expect_eq "healthdog's scheduling" "$(vm_report "$VM_DIR" sched)" "SCHED_FIFO|SCHED_RESET_ON_FORK 20"
        expect_match "healthdog's locked memory (kB)" "$(vm_report "$VM_DIR" vmlck)" "^[1-9][0-9]*$"
        expect_match "the green hook's scheduling" "$(vm_report "$VM_DIR" hook)" "sched=SCHED_OTHER$"
        expect_eq "phase of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["phase"]')" steady
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 2$"
        expect_eq "environment untouched by the steady boot" "$(vm_report "$VM_DIR" env-untouched)" yes
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
