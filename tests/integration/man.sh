#!/bin/bash
# The manuals render without a single groff warning and document what the binaries know, as the
# binaries tell it (no hand list of keys or verbs here):
#  - healthdog(8): every verb of `healthdog --help`, every option of `healthdog VERB --help`;
#  - healthdog-ostree(8): every verb, option and exit code of `healthdog-ostree --help`;
#  - healthdog.conf(5): every [section] and key that `healthdog config dump` prints, for a config
#    with one check of every kind the binary knows, each key described under its own section (and
#    a check kind's keys under the kind), with the default the dump shows; its EXAMPLES are valid.
set -euo pipefail
cd "${SRCDIR:-$(dirname "$0")/../..}"
T=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for tool in man groff scdoc; do
        if ! command -v $tool >/dev/null; then
                echo "$tool missing (Debian packages man-db, groff-base, scdoc; make check installs them)"
                exit 77
        fi
done
make -s build/healthdog build/healthdog-ostree build/man/healthdog.8 build/man/healthdog.conf.5 \
        build/man/healthdog-ostree.8 >/dev/null
healthdog=build/healthdog
ostree_helper=build/healthdog-ostree

# The text a reader sees, without hyphenation or justification, so every word stays whole.
render() { LC_ALL=C.UTF-8 MANWIDTH=100 man --nh --nj -l "$1"; }

# block PAGE HEADING: the section (.SH, at column 0) whose heading contains HEADING, ignoring case.
block() {
        awk -v h="$2" 'BEGIN { h = tolower(h) }
                /^[^ ]/ { inside = index(tolower($0), h) > 0; next }
                inside' "$1"
}
# subblock NAME: of a block on stdin, the subsection (.SS, indented 3) headed exactly NAME.
subblock() {
        awk -v h="$1" '{ indent = match($0, /[^ ]/) - 1 }
                indent >= 0 && indent <= 3 { inside = ($0 == "   " h); next }
                inside'
}
# item KEY: of a block on stdin, the entry whose term starts with KEY= (indented 7), on one line
# (lines broken after a hyphen, as in /run/healthdog-ostree.sock, joined back).
item() {
        awk -v k="$1=" '{ indent = match($0, /[^ ]/) - 1 }
                indent >= 0 && indent <= 7 { inside = (indent == 7 && index($0, k) == 8) }
                inside { sub(/^ +/, ""); printf "%s%s", $0, /-$/ ? "" : " " }'
}

# 1. No warnings, in the two usual locales (groff's ASCII and UTF-8 devices).
for page in build/man/*.[0-9]; do
        for locale in C C.UTF-8; do
                warnings=$(LC_ALL=$locale MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null)
                [ -z "$warnings" ] || fail "$page renders with warnings ($locale):
$warnings"
        done
        render "$page" >"$T/$(basename "$page").txt"
done
echo "rendered without warnings: $(cd build/man && echo *.[0-9])"

# verbs HELP: the first word of each line of HELP's "Verbs:" list.
verbs() { awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$1"; }
# options HELP: the options in the "Options:" list of a verb's help.
options() {
        awk '/^Options:/ { on = 1; next } on && /^$/ { exit } on' <<<"$1" |
                grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ ,]*//' | sort -u
}
# has_term BLOCK WORD: BLOCK has an entry whose term starts with WORD.
has_term() { grep -qE "^       $2( |\$)" <<<"$1"; }
# has_word TEXT WORD: WORD appears in TEXT, not as part of a longer option or word.
has_word() { grep -qE -- "(^|[^a-zA-Z0-9-])$2(\$|[^a-zA-Z0-9-])" <<<"$1"; }

# 2. healthdog(8): verbs and options.
page=$T/healthdog.8.txt
commands=$(block "$page" COMMANDS)
opts=$(block "$page" OPTIONS)
help=$("$healthdog" --help)
n=0
for v in $(verbs "$help"); do
        n=$((n + 1))
        has_term "$commands" "$v" || fail "healthdog(8): verb '$v' (healthdog --help) is not under COMMANDS"
        for o in $(options "$("$healthdog" "$v" --help)"); do
                has_word "$opts" "$o" || fail "healthdog(8): option '$o' of 'healthdog $v --help' is not under OPTIONS"
        done
        # Literal words of the usage line (config check|dump, --json=pretty) are explained somewhere.
        for w in $("$healthdog" "$v" --help | sed -n '1s/^Usage: healthdog [a-z-]*//p' | tr '|[]= ' '\n\n\n\n\n' |
                   grep -E '^[a-z][a-z-]*$' || true); do
                has_word "$(cat "$page")" "$w" || fail "healthdog(8): '$w' of 'healthdog $v' is not explained"
        done
done
[ $n -ge 5 ] || fail "found only $n verbs in healthdog --help"
echo "healthdog(8): $n verbs and their options"

# 3. healthdog-ostree(8): verbs, options, exit codes.
page=$T/healthdog-ostree.8.txt
commands=$(block "$page" COMMANDS)
opts=$(block "$page" OPTIONS)
status=$(block "$page" "EXIT STATUS")
help=$("$ostree_helper" --help)
n=0
for v in $(verbs "$help"); do
        n=$((n + 1))
        has_term "$commands" "$v" || fail "healthdog-ostree(8): verb '$v' is not under COMMANDS"
        for o in $(options "$("$ostree_helper" "$v" --help)"); do
                has_word "$opts" "$o" || fail "healthdog-ostree(8): option '$o' of '$v --help' is not under OPTIONS"
        done
done
[ $n -ge 4 ] || fail "found only $n verbs in healthdog-ostree --help"
codes=$(awk '/^Exit codes:/ { on = 1; next } on && /^$/ { exit } on && /^  [0-9]/ { print $1 }' <<<"$help")
for c in $codes; do
        has_term "$status" "$c" || fail "healthdog-ostree(8): exit code $c is not under EXIT STATUS"
done
echo "healthdog-ostree(8): $n verbs, their options, exit codes $(echo $codes)"

# 4. healthdog.conf(5). The kinds, from the binary's own error for a check without a type.
mkdir -p "$T/conf"
printf '[check.x]\n' >"$T/conf/kinds.conf"
kinds=$("$healthdog" config check -c "$T/conf/kinds.conf" 2>&1 || true)
kinds=$(sed -n 's/.*needs type= (one of: \(.*\))$/\1/p' <<<"$kinds" | tr -d ,)
[ -n "$kinds" ] || fail "cannot read the check kinds from healthdog config check"

# What each kind needs to be valid; a kind missing here fails the test. Keys set here are not
# compared with their defaults.
declare -A sample=(
        [exec]="command = /bin/true"
        [file]="path = /etc/hostname"
        [process]="pidfile = /run/x.pid"
        [systemd-unit]="unit = x.service"
        [systemd-system]=""
        [link]="interface = lo"
        [ping]="host = 127.0.0.1"
        [tcp]="host = localhost|port = 22"
        [http]="url = http://localhost/"
        [unix]="path = /run/x.sock"
        [dns]="name = localhost"
        [loadavg]="max-load = 10"
        [memory]="min-available = 1M"
        [disk]="path = /|min-free = 1%"
        [temperature]="path = /sys/class/thermal/thermal_zone0/temp|max = 90"
        [fds]="max-used = 90%"
)
conf=$T/conf/all.conf
: >"$conf"
for k in $kinds; do
        if [ -z "${sample[$k]+set}" ]; then
                fail "check kind '$k' is new: add what it needs to 'sample' in $0 and document it in healthdog.conf(5)"
                continue
        fi
        printf '[check.%s]\ntype = %s\n%s\n\n' "$k" "$k" "$(tr '|' '\n' <<<"${sample[$k]}")" >>"$conf"
done
chmod 644 "$conf"
"$healthdog" config dump -c "$conf" >"$T/dump" || { cat "$T/dump"; fail "config dump of $conf failed"; exit 1; }

page=$T/healthdog.conf.5.txt
checks=$(block "$page" "[check.NAME] SECTIONS")
n_keys=0
# check_key BLOCK-TEXT WHERE KEY VALUE SET-BY-TEST
check_key() {
        local text after
        text=$(item "$3" <<<"$1")
        n_keys=$((n_keys + 1))
        if [ -z "$text" ]; then
                fail "healthdog.conf(5): $3= is not described under $2"
                return
        fi
        [ -n "$4" ] && [ "$5" = no ] || return 0
        after=${text#*Default: }
        if [ "$after" = "$text" ] || ! grep -qFw -- "$4" <<<"$after"; then
                fail "healthdog.conf(5): $3= under $2 does not give the default '$4' (config dump) after 'Default:': $text"
        fi
}

section= kind=
declare -A common_count=()
n_checks=$(grep -c '^\[check\.' "$T/dump")
while IFS= read -r line; do
        case $line in
        '#'* | '') continue ;;
        '[check.'*']')
                kind=${line#[check.}; kind=${kind%]}; section=check ;;
        '['*']')
                section=${line#[}; section=${section%]}; kind=
                text=$(block "$page" "[$section] SECTION")
                [ -n "$text" ] || fail "healthdog.conf(5): no section [$section] SECTION" ;;
        *' = '* | *' =')
                key=${line%% =*}; value=${line#* =}; value=${value# }
                if [ "$section" = check ]; then
                        common_count[$key]=$((${common_count[$key]:-0} + 1))
                        echo "$kind $key $value" >>"$T/check-keys"
                else
                        check_key "$text" "[$section]" "$key" "$value" no
                fi ;;
        esac
done <"$T/dump"

# Keys every check has are described once; each kind's own keys under the kind.
common=$(subblock "Keys of every check" <<<"$checks")
[ -n "$common" ] || fail "healthdog.conf(5): no 'Keys of every check' under [check.NAME] SECTIONS"
declare -A done_common=()
while read -r kind key value; do
        if [ "${common_count[$key]}" = "$n_checks" ]; then
                [ -n "${done_common[$key]:-}" ] && continue
                done_common[$key]=1
                # type= is the kind itself, set by this test.
                check_key "$common" "Keys of every check" "$key" "$value" "$([ "$key" = type ] && echo yes || echo no)"
                continue
        fi
        own=$(subblock "$kind" <<<"$checks")
        if [ -z "$own" ]; then
                [ -n "${done_common[kind:$kind]:-}" ] ||
                        fail "healthdog.conf(5): check kind '$kind' has no subsection under [check.NAME] SECTIONS"
                done_common[kind:$kind]=1
                continue
        fi
        set_here=no
        [[ "|${sample[$kind]}" == *"|$key = "* ]] && set_here=yes
        check_key "$own" "'$kind'" "$key" "$value" "$set_here"
done <"$T/check-keys"
type_item=$(item type <<<"$common")
for k in $kinds; do
        has_word "$type_item" "$k" || fail "healthdog.conf(5): kind '$k' is not listed under type="
done
echo "healthdog.conf(5): $n_keys keys of $(grep -c '^\[' "$T/dump") sections, kinds: $kinds"

# The EXAMPLES of healthdog.conf(5) (main file and drop-ins, no section twice) are valid together.
block "$page" EXAMPLES | awk '{ indent = match($0, /[^ ]/) - 1 } indent >= 11 { print substr($0, 12) }' \
        >"$T/conf/examples.conf"
chmod 644 "$T/conf/examples.conf"
grep -q '^\[check\.' "$T/conf/examples.conf" || fail "healthdog.conf(5): no check in EXAMPLES"
out=$("$healthdog" config check -c "$T/conf/examples.conf" 2>&1) ||
        fail "healthdog.conf(5): the EXAMPLES do not pass config check: $out"

[ $failures -eq 0 ] || { echo "$failures failures"; exit 1; }
echo "manuals OK"
