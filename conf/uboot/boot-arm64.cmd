# Boot counting in a U-Boot script for an arm64 board booting a Linux Image with `booti` (the arm64
# device in a box): conf/uboot/boot.cmd with the last line changed, zboot (x86 bzImage) to
# booti with the initramfs as address:size and the device tree U-Boot runs with
# (fdtcontroladdr: on QEMU's virt board the one QEMU made; on a real board yours, or OSTree's
# uEnv.txt fdt_file/fdtdir loaded to fdt_addr_r). Same semantics as U-Boot's own
# CONFIG_BOOTCOUNT_ENV counter, for a U-Boot built without CONFIG_BOOTCOUNT_LIMIT:
#  - upgrade_available=1: bootcount is incremented and saved on every boot (it keeps counting on
#    rollback boots until Linux clears it); upgrade_available=0: nothing is written;
#  - bootcount > bootlimit (bootlimit 0 or unset: no limit): rollback=1 is saved with the same
#    store and the previous OSTree deployment (uEnv.txt's *2 entry) boots.
#
# Build: mkimage -A arm64 -T script -C none -d boot-arm64.cmd boot.scr; the environment's bootcmd
# loads it and runs `source`. It needs setexpr (CONFIG_CMD_SETEXPR), saveenv to the same place
# fw_env.config points at (here the NOR flash), and from the environment: devtype, devnum,
# bootpart (the OSTree sysroot), kernel_addr_r, ramdisk_addr_r.

if test "${upgrade_available}" = 1; then
	if test -z "${bootcount}"; then
		setenv bootcount 0
	fi
	# setexpr reads and prints hex: count in BCD so that bootcount stays a decimal number
	# (9 + 1 = 0xa, + 6 = 0x10, printed "10"); it stops at 99.
	if test ${bootcount} -lt 99; then
		setexpr bootcount ${bootcount} + 1
		setexpr bootcount_digit ${bootcount} % 10
		if test "${bootcount_digit}" = a; then
			setexpr bootcount ${bootcount} + 6
		fi
		setenv bootcount_digit
	fi
	if test -n "${bootlimit}" && test ${bootlimit} -gt 0 && test ${bootcount} -gt ${bootlimit}; then
		echo "Warning: Bootlimit (${bootlimit}) exceeded. Booting the previous deployment."
		setenv rollback 1
	fi
	# One store for the count and the rollback flag, before uEnv.txt is imported, so that
	# OSTree's variables never end up in the stored environment.
	saveenv
fi

# OSTree's U-Boot backend writes /boot/loader/uEnv.txt: kernel_image, ramdisk_image, bootargs
# (default deployment) and kernel_image2, ramdisk_image2, bootargs2 (the previous one), relative
# to /boot. Loaded at kernel_addr_r: the memory at scriptaddr holds this script.
load ${devtype} ${devnum}:${bootpart} ${kernel_addr_r} /boot/loader/uEnv.txt
env import -t ${kernel_addr_r} ${filesize}

if test "${upgrade_available}" = 1 && test -n "${bootlimit}" && test ${bootlimit} -gt 0 && test ${bootcount} -gt ${bootlimit}; then
	# With only one deployment there is nothing to roll back to: boot it.
	if test -n "${kernel_image2}"; then
		setenv kernel_image ${kernel_image2}
		setenv ramdisk_image ${ramdisk_image2}
		setenv bootargs ${bootargs2}
	fi
fi

# Returns only when the boot failed: the environment's bootcmd then resets a trial boot, so that
# it is counted too.
echo "Booting ${kernel_image}"
# (One line: U-Boot's hush does not continue a line after &&.)
load ${devtype} ${devnum}:${bootpart} ${kernel_addr_r} /boot${kernel_image} && load ${devtype} ${devnum}:${bootpart} ${ramdisk_addr_r} /boot${ramdisk_image} && booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
