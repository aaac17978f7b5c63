# healthdog update, the good case (issue 17): the device asks the update server (the host's
# loopback, through QEMU's user network with restrict=on and one guestfwd) whether its branch
# origin:stable has moved, pulls version 3, arms the trial in one store and deploys it
# (--no-reboot, so that the daemon's RSS is read after the update: the agent reboots).
# The trial is confirmed, the previous deployment pruned, and a second `healthdog update` finds
# nothing to do.
SERVE=1
SET=fast
TIMEOUT=420

guest() {
        cat <<'GUEST'
case $boot in
1)
        wait_status verdict steady 30 || abort "boot 1 is not steady"
        hd_update --check
        echo "@@check $UPDATE_EXIT"
        rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$(systemctl show -P MainPID healthdog)/status"; }
        echo "@@daemon-rss-before $(rss)"
        hd_update --no-reboot
        echo "@@update $UPDATE_EXIT"
        echo "@@daemon-rss-after $(rss)"
        reboot_now
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
        expect_eq "update (0: armed and deployed)" "$(vm_report "$VM_DIR" update)" 0
        # Figures, not bounds: the daemon's RSS around the update, and the helper's peak.
        echo "  daemon VmRSS before and after the update: $(vm_report "$VM_DIR" daemon-rss-before) kB," \
                "$(vm_report "$VM_DIR" daemon-rss-after) kB"
        echo "  $(tr -d '\r' <"$VM_DIR/console.log" | grep -o 'Pulled 3: .*' | head -n 1)"
        expect_eq "verdict of the update's boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" confirmed
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 3$"
        expect_match "its origin" "$(vm_report "$VM_DIR" ostree)" "origin refspec: origin:stable"
        expect_eq "healthdog status: deployments" "$(vm_status "$VM_DIR" 'len(j["deployments"])')" 1
        expect_eq "healthdog status: the booted one's version" \
                "$(vm_status "$VM_DIR" '[d["version"] for d in j["deployments"] if d["booted"]][0]')" 3
        expect_eq "update again (0: already up to date)" "$(vm_report "$VM_DIR" again)" 0
        expect_console "Already up to date with origin:stable: 3 "
        expect_eq "update --check again (3: up to date)" "$(vm_report "$VM_DIR" again-check)" 3
        for v in upgrade_available bootcount; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
