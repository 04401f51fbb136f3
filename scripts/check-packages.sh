#!/usr/bin/env bash
# Checks the packages scripts/package.sh left in dist/: lintian and rpmlint (clean but for the
# warnings packaging/README.md justifies), systemd-analyze verify and security (exposure at most
# 2.0) on every packaged unit, the file lists and conffiles of both packages, the rpm's Requires, and
# an install of the .deb into a throwaway root that holds nothing but the package's declared
# dependencies, where `hvagent --version` must run. Nothing on this machine is changed: roots are
# temporary directories and the one mount is made in a private mount namespace.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PKG=$REPO/packaging
MAX_EXPOSURE=2.0

passed=0
failed=0
pass() { echo "ok    $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
die() { echo "check-packages.sh: $*" >&2; exit 1; }

for tool in lintian rpmlint rpm dpkg dpkg-deb systemd-analyze readelf; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done
shopt -s nullglob
debs=("$REPO"/dist/hvagent_*.deb)
rpms=("$REPO"/dist/hvagent-*.rpm)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] && [ ${#rpms[@]} -eq 1 ] || die "expected one .deb and one .rpm in dist/: run scripts/package.sh"
DEB=${debs[0]}
RPM=${rpms[0]}
VERSION=$(dpkg-deb -f "$DEB" Version)
VERSION=${VERSION%-*}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# ---- lintian and rpmlint -----------------------------------------------------------------------
if out=$(lintian --fail-on error,warning "$DEB" 2>&1); then
  pass "lintian: no errors or warnings (overrides: packaging/debian/lintian-overrides)"
else
  fail "lintian:"; echo "$out"
fi
out=$(rpmlint -c "$PKG/rpm/rpmlint.toml" "$RPM" 2>&1)
summary=$(grep -E '[0-9]+ errors, [0-9]+ warnings' <<<"$out" | tail -1)
if [[ "$summary" =~ \ 0\ errors,\ 0\ warnings ]]; then
  pass "rpmlint: $summary"
else
  fail "rpmlint:"; echo "$out"
fi

# ---- The packaged units ------------------------------------------------------------------------
DEBX=$TMP/deb-x
dpkg-deb -x "$DEB" "$DEBX"
UNITDIR=$DEBX/usr/lib/systemd/system
UNIT=$UNITDIR/hvagent.service
UNITS=("$UNITDIR"/*.service "$UNITDIR"/*.socket)
if [ "$IS_ROOT" = 1 ] && command -v unshare >/dev/null; then
  # Full check, executables and man pages included: the packaged binaries are overlaid on
  # /usr/sbin and /usr/bin in a private mount namespace only.
  out=$(unshare -m sh -c '
    set -e
    x=$1; shift
    for d in /usr/sbin /usr/bin; do
      if [ -d "$x$d" ]; then mount -t overlay overlay -o "lowerdir=$x$d:$d" "$d"; fi
    done
    MANPATH="$x/usr/share/man:" systemd-analyze verify "$@"' sh "$DEBX" "${UNITS[@]}" 2>&1)
  rc=$?
  note="executables and man pages resolved"
else
  # Without root the packaged binary cannot be put on /usr/sbin: that one message is expected.
  out=$(systemd-analyze verify --man=no "${UNITS[@]}" 2>&1 | grep -Ev '^hvagent(-freeze|-ip)?.service: Command /usr/sbin/hvagent is not executable')
  rc=0
  [ -z "$out" ] || rc=1
  note="not root: /usr/sbin/hvagent and man pages not resolved"
fi
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
  pass "systemd-analyze verify ${UNITS[*]##*/} ($note)"
else
  fail "systemd-analyze verify ${UNITS[*]##*/}:"; echo "$out"
fi
# Every shipped service is scored; each must stay at or below MAX_EXPOSURE (the agent's own unit
# scores 2.0, the freeze helper, which alone holds CAP_SYS_ADMIN, 1.2, the IP helper, which alone
# holds CAP_NET_ADMIN, 1.6: packaging/README.md).
for unit in "$UNITDIR"/*.service; do
  name=${unit##*/}
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>&1 | sed -n "s/.*Overall exposure level for $name: \([0-9][0-9.]*\).*/\1/p")
  if [ -z "$exposure" ]; then
    fail "systemd-analyze security $name: no overall exposure level in its output"
  elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    pass "systemd-analyze security --offline=yes $name: exposure $exposure (at most $MAX_EXPOSURE)"
  else
    fail "systemd-analyze security --offline=yes $name: exposure $exposure is above $MAX_EXPOSURE"
    systemd-analyze security --offline=yes "$unit" 2>&1 | grep '✗'
  fi
done
for key in 'ConditionVirtualization=microsoft' 'Type=notify' 'Restart=on-failure' \
           'Conflicts=hv-kvp-daemon.service hypervkvpd.service' 'ExecStart=/usr/sbin/hvagent run' \
           'CapabilityBoundingSet=CAP_SYS_TIME' 'Wants=hvagent-freeze.socket' 'Wants=hvagent-ip.socket'; do
  if grep -qxF "$key" "$UNIT"; then pass "unit has $key"; else fail "unit lacks $key"; fi
done
# The freeze and IP helpers: only the agent may ask them, and they are stopped with the agent.
for pair in 'hvagent-freeze.service:ExecStart=/usr/sbin/hvagent freeze-helper --peer-unit hvagent.service' \
            'hvagent-freeze.service:CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_PTRACE' \
            'hvagent-freeze.service:PartOf=hvagent.service' 'hvagent-freeze.socket:PartOf=hvagent.service' \
            'hvagent-freeze.socket:ListenSequentialPacket=/run/hvagent/freeze.sock' 'hvagent-freeze.socket:SocketMode=0600' \
            'hvagent-ip.service:ExecStart=/usr/sbin/hvagent ip-helper --peer-unit hvagent.service' \
            'hvagent-ip.service:CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN' \
            'hvagent-ip.service:PartOf=hvagent.service' 'hvagent-ip.socket:PartOf=hvagent.service' \
            'hvagent-ip.socket:ListenSequentialPacket=/run/hvagent/ip.sock' 'hvagent-ip.socket:SocketMode=0600'; do
  if grep -qxF "${pair#*:}" "$UNITDIR/${pair%%:*}"; then pass "${pair%%:*} has ${pair#*:}"; else fail "${pair%%:*} lacks ${pair#*:}"; fi
done

# ---- Completions and tmpfiles ------------------------------------------------------------------
for c in "$DEBX"/usr/share/bash-completion/completions/*; do
  name=${c##*/}
  if out=$(bash -c 'source "$1" && complete -p "$2"' sh "$c" "$name" 2>&1) && [ -n "$out" ]; then
    pass "bash completion for $name loads and registers"
  else
    fail "bash completion for $name: $out"
  fi
done
if [ "$IS_ROOT" = 1 ]; then
  TMPFILES_ROOT=$TMP/tmpfiles-root
  mkdir -p "$TMPFILES_ROOT"
  if out=$(systemd-tmpfiles --root="$TMPFILES_ROOT" --create "$DEBX/usr/lib/tmpfiles.d/hvagent.conf" 2>&1) &&
     [ "$(stat -c '%a %U' "$TMPFILES_ROOT/var/lib/hyperv" "$TMPFILES_ROOT/run/hvagent" 2>&1 | tr '\n' ' ')" = "755 root 755 root " ]; then
    pass "tmpfiles.d/hvagent.conf creates /var/lib/hyperv and /run/hvagent (0755 root)"
  else
    fail "tmpfiles.d/hvagent.conf: $out"
  fi
fi

# ---- File lists --------------------------------------------------------------------------------
# check_list NAME LISTFILE PATH...: every PATH is in the package's file list.
check_list() {
  local name=$1 list=$2 missing=()
  shift 2
  for f in "$@"; do grep -qxF "$f" "$list" || missing+=("$f"); done
  if [ ${#missing[@]} -eq 0 ]; then pass "$name file list: the $# expected paths are there"
  else fail "$name file list lacks: ${missing[*]}"; fi
}
# Paths every package carries; $1 = zsh completion directory, $2 = chrony drop-in.
common_paths() {
  local bins=() b
  echo /usr/lib/systemd/system/hvagent.service /usr/lib/systemd/system/hvagent-freeze.service \
       /usr/lib/systemd/system/hvagent-freeze.socket /usr/lib/systemd/system/hvagent-ip.service \
       /usr/lib/systemd/system/hvagent-ip.socket /usr/share/doc/hvagent/examples/vss.d/10-sync-and-log \
       /usr/lib/tmpfiles.d/hvagent.conf \
       /usr/lib/udev/rules.d/70-hvagent.rules /etc/hvagent/hvagent.conf "$2" /var/lib/hyperv \
       /usr/share/man/man5/hvagent.conf.5.gz /usr/sbin/hvagent
  # Each shipped executable comes with its man page and completions.
  for b in $(grep -E '^/usr/s?bin/[^/]+$' "$3"); do
    case $b in
      /usr/sbin/*) echo "/usr/share/man/man8/${b##*/}.8.gz" ;;
      /usr/bin/*) echo "/usr/share/man/man1/${b##*/}.1.gz" ;;
    esac
    echo "/usr/share/bash-completion/completions/${b##*/}" "$1/_${b##*/}"
  done
}
DEBLIST=$TMP/deb.list
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed -e 's|^\.||' -e 's|/$||' | grep -v '^$' >"$DEBLIST"
# shellcheck disable=SC2046
check_list deb "$DEBLIST" $(common_paths /usr/share/zsh/vendor-completions /etc/chrony/conf.d/hvagent.conf "$DEBLIST") \
  /usr/share/doc/hvagent/copyright /usr/share/doc/hvagent/changelog.Debian.gz
stray=$(grep -Ev '^/(usr(/(sbin|bin|lib|share))?|usr/sbin/.*|usr/bin/.*|usr/lib/(systemd|tmpfiles.d|udev)(/.*)?|usr/share/(man|doc|bash-completion|zsh|lintian)(/.*)?|etc(/(hvagent|chrony)(/.*)?)?|var(/lib(/hyperv)?)?)$' "$DEBLIST")
if [ -z "$stray" ]; then pass "deb installs nothing outside its directories"; else fail "deb installs unexpected paths: $stray"; fi
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles 2>/dev/null | sort)
expected_conf=$(grep '^/etc/' "$DEBLIST" | while read -r f; do [ -f "$DEBX$f" ] && echo "$f"; done | sort)
if [ -n "$conffiles" ] && [ "$conffiles" = "$expected_conf" ]; then
  pass "deb conffiles: $(echo $conffiles)"
else
  fail "deb conffiles '$(echo $conffiles)' differ from the files in /etc '$(echo $expected_conf)'"
fi
depends=$(dpkg-deb -f "$DEB" Depends)
if [[ "$depends" =~ ^(libc6|libnl-3-200|libnl-route-3-200)(\ \([^\)]*\))?(,\ (libc6|libnl-3-200|libnl-route-3-200)(\ \([^\)]*\))?)*$ ]]; then
  pass "deb Depends only on glibc and libnl: $depends"
else
  fail "deb Depends on more than glibc and libnl: $depends"
fi

# The libc6 minimum must cover every glibc version the binaries need, including needs that name no
# symbol (GLIBC_ABI_DT_RELR, packed relocations): each is looked up in libc6's symbols file.
LIBC_SYMBOLS=$(dpkg-query --control-path libc6 symbols 2>/dev/null || true)
libc_min=$(sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p' <<<"$depends")
uncovered=""
for need in $(find "$DEBX/usr/bin" "$DEBX/usr/sbin" -type f -exec readelf -V {} \; 2>/dev/null \
              | sed -n 's/.*Name: \(GLIBC_[A-Z0-9_.]*\).*/\1/p' | sort -u); do
  case $need in
    GLIBC_ABI_*) min=$(awk -v n="$need@$need" '$1 == n { print $2 }' "$LIBC_SYMBOLS" 2>/dev/null) ;;
    GLIBC_PRIVATE) min="" ;;
    *) min=${need#GLIBC_} ;;
  esac
  if [ -n "$need" ] && { [ -z "$libc_min" ] || { [ -n "$min" ] && dpkg --compare-versions "$libc_min" lt "$min"; }; }; then
    uncovered+=" $need(${min:-?})"
  fi
done
if [ -n "$libc_min" ] && [ -z "$uncovered" ]; then
  pass "deb libc6 (>= $libc_min) covers every glibc version the binaries need"
else
  fail "deb libc6 minimum '${libc_min:-none}' does not cover:$uncovered"
fi

RPMLIST=$TMP/rpm.list
rpm -qlp "$RPM" 2>/dev/null >"$RPMLIST"
# shellcheck disable=SC2046
check_list rpm "$RPMLIST" $(common_paths /usr/share/zsh/site-functions /etc/chrony.d/hvagent.conf "$RPMLIST") \
  /usr/share/licenses/hvagent/copyright /usr/lib/systemd/system-preset/50-hvagent.preset
rpmconf=$(rpm -qcp "$RPM" 2>/dev/null | sort)
if [ "$rpmconf" = "$(printf '/etc/chrony.d/hvagent.conf\n/etc/hvagent/hvagent.conf' | sort)" ]; then
  pass "rpm %config files: $(echo $rpmconf)"
else
  fail "rpm %config files are '$(echo $rpmconf)'"
fi
requires=$(rpm -qp --requires "$RPM" 2>/dev/null | grep -Ev '^(rpmlib\(|config\(hvagent\) = |/bin/sh$|rtld\(GNU_HASH\)$|(libc|libm|libpthread|libdl|librt)\.so\.[0-9]+(\(.*\))*$|ld-linux[-a-z0-9_.]*\.so\.[0-9]+(\(.*\))*$|libnl-(route-)?3\.so\.200(\(.*\))*$)')
if [ -z "$requires" ]; then
  pass "rpm Requires only glibc, libnl and /bin/sh: $(rpm -qp --requires "$RPM" 2>/dev/null | grep -Ev '^(rpmlib|config)\(' | sed 's/(.*//' | sort -u | tr '\n' ' ')"
else
  fail "rpm Requires more than glibc and libnl: $(echo $requires)"
fi

# ---- Install into a throwaway root -------------------------------------------------------------
# The root holds the declared dependencies (copied from this machine's installed packages) and a
# shell for the maintainer scripts, nothing else: if hvagent needed any other library it would
# fail to start there.
ROOT=$TMP/root
copy_package() { # copy_package PKG: the installed files of Debian package PKG into $ROOT.
  dpkg -L "$1" | while read -r f; do
    # Directories are made as real directories (this machine's /bin and /lib may be symlinks).
    if [ -d "$f" ] && [ ! -L "$f" ] || { [ -L "$f" ] && [ -d "$f" ]; }; then continue; fi
    if [ -L "$f" ] || [ -f "$f" ]; then
      mkdir -p "$ROOT$(dirname "$f")"
      cp -a "$f" "$ROOT$f"
    fi
  done
}
if [ "$IS_ROOT" = 1 ]; then
  mkdir -p "$ROOT"/var/lib/dpkg/{info,updates,triggers} "$ROOT/tmp" "$ROOT/bin"
  : >"$ROOT/var/lib/dpkg/status"
  : >"$ROOT/var/lib/dpkg/available"
  for p in $(sed -e 's/([^)]*)//g' -e 's/[,|]/ /g' <<<"$depends") dash; do copy_package "$p"; done
  [ -e "$ROOT/bin/sh" ] || ln -s dash "$ROOT/bin/sh"
  if out=$(dpkg --root="$ROOT" --force-depends --log=/dev/null -i "$DEB" 2>&1); then
    pass "dpkg --root -i: installed, maintainer scripts ran in the root"
  else
    fail "dpkg --root -i:"; echo "$out"
  fi
  status=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status} ${Version}' hvagent 2>&1)
  if [ "$status" = "install ok installed $VERSION-1" ]; then pass "dpkg status in the root: $status"
  else fail "dpkg status in the root: $status"; fi
  mode=$(stat -c '%a %U:%G' "$ROOT/var/lib/hyperv" 2>&1)
  if [ "$mode" = "755 root:root" ]; then pass "/var/lib/hyperv in the root: $mode"
  else fail "/var/lib/hyperv in the root: $mode"; fi
  # The Swift runtime reads its arguments from /proc/self/cmdline: give the root a /proc, in a
  # private mount namespace.
  in_root() { unshare -m sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$ROOT" "$@"; }
  mkdir -p "$ROOT/proc"
  got=$(in_root /usr/sbin/hvagent --version 2>&1)
  if [ "$got" = "$VERSION" ]; then pass "chroot ROOT hvagent --version: $got (only the declared dependencies present)"
  else fail "chroot ROOT hvagent --version: $got"; fi
  for b in $(grep -E '^/usr/bin/[^/]+$' "$DEBLIST"); do
    if in_root "$b" --help >/dev/null 2>&1; then pass "chroot ROOT $b --help runs"
    else fail "chroot ROOT $b --help: $(in_root "$b" --help 2>&1 | tail -1)"; fi
  done
  if out=$(dpkg --root="$ROOT" --force-depends --log=/dev/null --purge hvagent 2>&1) &&
     [ ! -e "$ROOT/usr/sbin/hvagent" ] && [ ! -e "$ROOT/etc/hvagent/hvagent.conf" ]; then
    pass "dpkg --root --purge: removed, conffiles gone"
  else
    fail "dpkg --root --purge:"; echo "$out"
  fi
  RPMROOT=$TMP/rpm-root
  if out=$(rpm --root="$RPMROOT" --initdb 2>&1 && rpm --root="$RPMROOT" -i --nodeps --noscripts "$RPM" 2>&1) &&
     [ -x "$RPMROOT/usr/sbin/hvagent" ] && [ "$("$RPMROOT/usr/sbin/hvagent" --version 2>&1)" = "$VERSION" ]; then
    pass "rpm --root -i: installed, its hvagent --version prints $VERSION"
  else
    fail "rpm --root -i:"; echo "$out"
  fi
else
  echo "note  not root: the .deb is unpacked with dpkg -x and run there instead of installed with dpkg --root"
  got=$("$DEBX/usr/sbin/hvagent" --version 2>&1)
  if [ "$got" = "$VERSION" ]; then pass "unpacked hvagent --version: $got"
  else fail "unpacked hvagent --version: $got"; fi
fi

echo "packages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
