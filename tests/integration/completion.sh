#!/bin/bash
# The bash completion (conf/bash-completion/healthdog): verbs as `healthdog --help` lists them,
# each verb's options, --json=short|pretty, hold --for/--cancel, config check|dump, files for -c,
# and the check names of the configuration given with -c for `healthdog check`. Driven the way
# bash drives it: COMP_WORDS split at blanks and at '=' (as readline does), then COMPREPLY.
set -uo pipefail
cd "${SRCDIR:-$(dirname "$0")/../..}"
T=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

make -s build/healthdog >/dev/null || exit 1
hd=$PWD/build/healthdog
source conf/bash-completion/healthdog

[ "$(complete -p healthdog)" = "complete -F _healthdog healthdog" ] || fail "registered as: $(complete -p healthdog)"

# comp LINE: what completing at the end of LINE offers, sorted, on one line.
comp() {
        local line=$1 word
        COMP_WORDS=()
        for word in $line; do
                # "--json=p" is three words to bash: --json, = and p.
                while [[ $word == *=* ]]; do
                        [ -n "${word%%=*}" ] && COMP_WORDS+=("${word%%=*}")
                        COMP_WORDS+=("=")
                        word=${word#*=}
                done
                [ -n "$word" ] && COMP_WORDS+=("$word")
        done
        # After a blank, the word being completed is empty; after "=", it is the "=" itself.
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$line
        COMP_POINT=${#line}
        COMPREPLY=()
        _healthdog healthdog "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | xargs
}
# expect LINE OFFERS: completing LINE offers exactly OFFERS.
expect() {
        local got
        got=$(comp "$1")
        [ "$got" = "$2" ] || fail "'$1<TAB>' offers '$got', expected '$2'"
}
# expect_has LINE WORD...: completing LINE offers at least these.
expect_has() {
        local got w line=$1
        shift
        got=" $(comp "$line") "
        for w in "$@"; do
                [[ $got == *" $w "* ]] || fail "'$line<TAB>' offers '$got', missing '$w'"
        done
}

cat >"$T/h.conf" <<EOF
[watchdog]
device = none
[check.alpha]
type = file
path = /etc/hostname
[check.beta]
type = exec
command = /bin/true
EOF
chmod 644 "$T/h.conf"

verbs=$("$hd" --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' | sort | xargs)
[ -n "$verbs" ] || fail "no verbs in healthdog --help"
expect "$hd " "$verbs"
expect "$hd sta" "status"
expect "$hd -" "--help --version"
expect_has "$hd status --" --json --json= --config --help
expect "$hd status --json=" "pretty short"
expect "$hd status --no" "--no-deployments"
expect "$hd status --json=pretty --no" "--no-deployments"
expect "$hd status --json=p" "pretty"
expect_has "$hd hold --" --for --cancel --config
expect "$hd hold --for 1" "10min 1h"
expect "$hd config " "check dump"
expect "$hd config d" "dump"
expect "$hd config check " ""
expect "$hd check -c $T/h.conf " "alpha beta"
expect "$hd check -c $T/h.conf alpha " "beta"
expect "$hd check --config=$T/h.conf b" "beta"
expect "$hd run -c $T/h." "$T/h.conf"
expect "$hd run --config=$T/h." "$T/h.conf"
# Every verb completes its own options, as its --help lists them.
for v in $verbs; do
        expect_has "$hd $v -" -c --config -h --help
done

[ $failures -eq 0 ] || { echo "$failures failures"; exit 1; }
echo "completion OK: verbs $verbs"
