# healthdog update, the good case (issue 17): the device asks the update server (the host's
# loopback, through QEMU's user network with restrict=on and one guestfwd) whether its branch
# origin:stable has moved, pulls version 3, arms the trial in one store, deploys it and reboots.
# The trial is confirmed, the previous deployment pruned, and a second `healthdog update` finds
# nothing to do.
SERVE=1
TIMEOUT=420

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update --check
        echo "@@check $UPDATE_EXIT"
        hd_update
        echo "@@update $UPDATE_EXIT"
        sleep infinity
        ;;
2)
        wait_status verdict confirmed 60 || abort "the update was not confirmed"
        wait_for 60 deploy_settled || abort "the prune did not finish"
        hd_update
        echo "@@again $UPDATE_EXIT"
        hd_update --check
        echo "@@again-check $UPDATE_EXIT"
        finish
        ;;
esac
GUEST
}

expect() {
        expect_eq "watchdog resets (QMP)" "$(vm_json "$VM_DIR" watchdog_resets)" 0
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 2
        expect_eq "update --check before (0: an update is available)" "$(vm_report "$VM_DIR" check)" 0
        expect_console "Update available from origin:stable: 3 "
        expect_console "Pulled 3: [1-9][0-9]* objects, [1-9][0-9]* bytes"
        expect_console "Armed the trial: upgrade_available=1 bootcount=0 bootlimit=3"
        expect_console "Deployed 3 .* as the new default"
        expect_match "objects fetched over HTTP (the server's log)" \
                "$(grep -c '"GET /repo/objects/.*" 200 ' "$VM_DIR/server.log")" "^[1-9]"
        # (.commitmeta, a commit's detached metadata, is asked for and absent when it is unsigned)
        expect_eq "objects the server did not have" \
                "$(grep '"GET /repo/objects/.*" 404 ' "$VM_DIR/server.log" | grep -vc '\.commitmeta ')" 0
        expect_eq "verdict of the update's boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 3$"
        expect_match "its origin" "$(vm_report "$VM_DIR" ostree)" "origin refspec: origin:stable"
        expect_eq "update again (0: already up to date)" "$(vm_report "$VM_DIR" again)" 0
        expect_console "Already up to date with origin:stable: 3 "
        expect_eq "update --check again (3: up to date)" "$(vm_report "$VM_DIR" again-check)" 3
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
