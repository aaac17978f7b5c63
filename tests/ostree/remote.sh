# shellcheck shell=bash
# Sourced after lib.sh by the update tests: an update server on this machine. An archive-mode
# repository in $T/srv/repo, served by python3 -m http.server on 127.0.0.1 (a free port), with
# the commits of $REF made by remote_commit; a sysroot whose deployment has it as its origin
# ("origin:$REF"); GPG keys made here to sign commits with.
#
# Globals: SRV (the served directory), REMOTE_URL, REMOTE_PORT, GNUPGHOME_SRV.

SRV=$T/srv
REMOTE_PORT=
REMOTE_PID=
GNUPGHOME_SRV=$T/gnupg

command -v python3 >/dev/null || skip "python3 is not installed (make test-deps)"

# remote_start: a new archive repository and its server.
remote_start() {
        mkdir -p "$SRV"
        ostree init --repo="$SRV/repo" --mode=archive || fail "ostree init $SRV/repo"
        REMOTE_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        REMOTE_URL=http://127.0.0.1:$REMOTE_PORT/repo
        remote_start_again
}

# remote_start_again: the server, on the same port, after remote_stop.
remote_start_again() {
        python3 -m http.server --bind 127.0.0.1 --directory "$SRV" "$REMOTE_PORT" >>"$T/http.out" 2>&1 &
        REMOTE_PID=$!
        at_exit "kill $REMOTE_PID 2>/dev/null"
        for _ in $(seq 100); do
                curl_ok && return 0
                sleep 0.1
        done
        fail "the update server did not start on 127.0.0.1:$REMOTE_PORT"
}
# remote_start_gated GATE: the server again, on the same port, holding back every file object
# (objects/*.filez) for as long as the file GATE exists (60 s at most): a pull that a test can
# watch under way, and let go of.
remote_start_gated() {
        remote_stop
        python3 - "$SRV" "$REMOTE_PORT" "$1" >>"$T/http.out" 2>&1 <<'PY' &
import functools, http.server, os, sys, time
srv, port, gate = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith(".filez"):
            for _ in range(600):
                if not os.path.exists(gate):
                    break
                time.sleep(0.1)
        return super().do_GET()
handler = functools.partial(Handler, directory=srv)
http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
PY
        REMOTE_PID=$!
        at_exit "kill $REMOTE_PID 2>/dev/null"
        for _ in $(seq 100); do
                curl_ok && return 0
                sleep 0.1
        done
        fail "the gated update server did not start on 127.0.0.1:$REMOTE_PORT"
}
curl_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$REMOTE_URL/config" 2>/dev/null; }

remote_stop() {
        kill "$REMOTE_PID" 2>/dev/null
        wait "$REMOTE_PID" 2>/dev/null
        REMOTE_PID=
}

# remote_commit VERSION [--sign|--sign-with-other-key]: commits VERSION of $REF on the server
# (built as commit_version builds it), signed with the key the sysroot trusts, or another one.
remote_commit() {
        local v=$1 c
        c=$(commit_version "$T/srv-sysroot" "$v")
        ostree pull-local --repo="$SRV/repo" "$T/srv-sysroot/ostree/repo" "$REF" >/dev/null || fail "pull-local $v"
        case "${2:-}" in
        --sign) ostree gpg-sign --repo="$SRV/repo" --gpg-homedir="$GNUPGHOME_SRV" "$c" "$GPG_KEY" ||
                fail "gpg-sign $v" ;;
        --sign-with-other-key) ostree gpg-sign --repo="$SRV/repo" --gpg-homedir="$GNUPGHOME_SRV" "$c" "$GPG_OTHER_KEY" ||
                fail "gpg-sign $v" ;;
        esac
        ostree summary --repo="$SRV/repo" -u >/dev/null 2>&1
}

# remote_csum VERSION: the checksum of that version on the server.
remote_csum() { csum_of "$T/srv-sysroot" "$1"; }

# sysroot_from_remote SYSROOT N: versions 1..N committed on the server; a new sysroot with the
# remote "origin" (no signature verification), version N pulled and deployed from it with
# panic=5 in its kernel arguments.
sysroot_from_remote() {
        local s=$1 n=$2 i
        mkdir -p "$T/srv-sysroot/ostree"
        ostree init --repo="$T/srv-sysroot/ostree/repo" --mode=bare-user >/dev/null || fail "ostree init"
        for i in $(seq 1 "$n"); do
                remote_commit "$i"
        done
        sysroot_new "$s"
        ostree remote add --repo="$s/ostree/repo" --no-gpg-verify origin "$REMOTE_URL" || fail "ostree remote add"
        ostree pull --repo="$s/ostree/repo" origin "$REF" >>"$T/ostree.log" 2>&1 || fail "ostree pull"
        ostree admin deploy --sysroot="$s" --os="$OSNAME" --karg=panic=5 "origin:$REF" >>"$T/ostree.log" 2>&1 ||
                fail "ostree admin deploy origin:$REF"
}

# remote_sign_setup SYSROOT: two GPG keys (GPG_KEY, which SYSROOT's remote now trusts and
# verifies, and GPG_OTHER_KEY).
remote_sign_setup() {
        local s=$1
        command -v gpg >/dev/null || skip "gpg is not installed (make test-deps)"
        mkdir -p -m 0700 "$GNUPGHOME_SRV"
        at_exit "gpgconf --homedir '$GNUPGHOME_SRV' --kill gpg-agent 2>/dev/null"
        for who in trusted other; do
                gpg --homedir "$GNUPGHOME_SRV" --batch --passphrase '' --quick-gen-key "$who <$who@example.invalid>" \
                        ed25519 sign never 2>>"$T/gpg.log" || fail "gpg --quick-gen-key"
        done
        GPG_KEY=$(gpg --homedir "$GNUPGHOME_SRV" --list-keys --with-colons trusted@example.invalid | awk -F: '$1 == "fpr" { print $10; exit }')
        GPG_OTHER_KEY=$(gpg --homedir "$GNUPGHOME_SRV" --list-keys --with-colons other@example.invalid | awk -F: '$1 == "fpr" { print $10; exit }')
        gpg --homedir "$GNUPGHOME_SRV" --export "$GPG_KEY" >"$T/trusted.gpg"
        ostree remote gpg-import --repo="$s/ostree/repo" -k "$T/trusted.gpg" origin >/dev/null || fail "gpg-import"
        ostree config --repo="$s/ostree/repo" set 'remote "origin".gpg-verify' true
}

# remote_commit_without_kernel VERSION: a commit that pulls fine and cannot be deployed.
remote_commit_without_kernel() {
        local t=$T/tree.nokernel c
        mkdir -p "$t/usr/etc" "$t/usr/lib"
        printf 'ID=testos\nVERSION_ID=%s\n' "$1" >"$t/usr/lib/os-release"
        c=$(ostree commit --repo="$T/srv-sysroot/ostree/repo" -b "$REF" --tree=dir="$t" \
                --add-metadata-string=version="$1" -s "version $1 (no kernel)") || fail "ostree commit"
        ostree pull-local --repo="$SRV/repo" "$T/srv-sysroot/ostree/repo" "$REF" >/dev/null || fail "pull-local"
        ostree summary --repo="$SRV/repo" -u >/dev/null 2>&1
        rm -rf "$t"
}
