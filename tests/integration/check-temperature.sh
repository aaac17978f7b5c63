#!/bin/bash
# type=temperature through a sysfs-like tree the test writes (millidegrees, as the kernel's
# thermal and hwmon files hold them): by path, and by thermal zone type under sysfs-root.
source "$(dirname "$0")/lib.sh"

SYS=$T/sys
HWMON=$SYS/class/hwmon/hwmon0
THERMAL=$SYS/class/thermal
mkdir -p "$HWMON"
# zone(N, TYPE, MILLIDEGREES): a thermal zone directory as the kernel lays it out.
zone() {
        mkdir -p "$THERMAL/thermal_zone$1"
        echo "$2" >"$THERMAL/thermal_zone$1/type"
        echo "$3" >"$THERMAL/thermal_zone$1/temp"
}
zone 0 acpitz 30000
zone 1 cpu-thermal 45000
zone 2 gpu-thermal 80000

write_config <<EOF
[watchdog]
device = none

[check.hwmon]
type = temperature
path = $HWMON/temp1_input
max = 60

[check.cpu]
type = temperature
zone-type = cpu-thermal
sysfs-root = $SYS
max = 72.5

[check.gpu]
type = temperature
zone-type = gpu-thermal
sysfs-root = $SYS
max = 72.5

[check.npu]
type = temperature
zone-type = npu-thermal
sysfs-root = $SYS
max = 72.5
EOF

echo 45000 >"$HWMON/temp1_input"
expect_check hwmon 0 "45\.0°C <= max 60\.0°C"
echo 75000 >"$HWMON/temp1_input"
expect_check hwmon 1 "75\.0°C > max 60\.0°C"
# At the limit still passes; a thousandth of a degree over does not.
echo 60000 >"$HWMON/temp1_input"
expect_check hwmon 0 "60\.0°C <= max 60\.0°C"
echo 60001 >"$HWMON/temp1_input"
expect_check hwmon 1 "60\.001°C > max 60\.0°C"
echo -12500 >"$HWMON/temp1_input"
expect_check hwmon 0 "-12\.5°C <= max 60\.0°C"
echo garbage >"$HWMON/temp1_input"
expect_check hwmon 1 "$HWMON/temp1_input does not hold a temperature"
rm "$HWMON/temp1_input"
expect_check hwmon 1 "$HWMON/temp1_input: No such file or directory"

# By type, whatever its number.
expect_check cpu 0 "thermal_zone1 \(cpu-thermal\) 45\.0°C <= max 72\.5°C"
expect_check gpu 1 "thermal_zone2 \(gpu-thermal\) 80\.0°C > max 72\.5°C"
echo 72500 >"$THERMAL/thermal_zone2/temp"
expect_check gpu 0 "thermal_zone2 \(gpu-thermal\) 72\.5°C <= max 72\.5°C"
mv "$THERMAL/thermal_zone1" "$THERMAL/thermal_zone7"
expect_check cpu 0 "thermal_zone7 \(cpu-thermal\) 45\.0°C <= max 72\.5°C"
rm "$THERMAL/thermal_zone7/temp"
expect_check cpu 1 "thermal_zone7 \(cpu-thermal\): No such file or directory"
expect_check npu 1 "no thermal zone of type 'npu-thermal'"
rm -r "$THERMAL"
expect_check npu 1 "$THERMAL: No such file or directory"

# The real sensors, when this machine has any: read and shown, with a limit nothing reaches.
real=$(ls /sys/class/thermal/thermal_zone*/temp 2>/dev/null | head -n 1)
if [ -n "$real" ] && cat "$real" >/dev/null 2>&1; then
        write_config <<EOF
[watchdog]
device = none

[check.real]
type = temperature
path = $real
max = 300
EOF
        expect_check real 0 "-?[0-9]+\.[0-9]+°C <= max 300\.0°C"
else
        note "no readable thermal zone on this machine: only the written tree was used"
fi

check_sanitizers
echo "PASS"
