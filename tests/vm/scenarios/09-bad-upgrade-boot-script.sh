# The bad upgrade again, with a U-Boot that has no CONFIG_BOOTCOUNT_LIMIT: conf/uboot/boot.cmd
# (boot.scr on the FAT partition) counts the boots and rolls back instead.
ROM=u-boot-script.rom
TIMEOUT=600
source "$(dirname "${BASH_SOURCE[0]}")/01-bad-upgrade.sh"
