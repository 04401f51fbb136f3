#!/usr/bin/env bash
# Builds dist/hvagent_<version>_<arch>.deb and dist/hvagent-<version>-1.<arch>.rpm from one release
# build (`swift build -c release --static-swift-stdlib`). What goes where, and why: packaging/README.md.
#
# Every executable product of Package.swift is shipped unless packaging/not-shipped lists it; a
# shipped product needs packaging/man/NAME.8 (installed in /usr/sbin) or NAME.1 (/usr/bin). The
# binaries may need only glibc and libnl at run time: anything else stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PKG=$REPO/packaging
DIST=$REPO/dist
WORK=$DIST/work
# --disable-local-rpath: no RUNPATH $ORIGIN in an installed system binary (the packages' checkers
# reject it, and nothing is loaded from beside the binary). -z now: full RELRO (bind at load).
# The link is also what keeps the daemon small (docs/PERFORMANCE.md, KVP RSS), measured per item:
# - lld (packaging/lld.toolset.json; the driver's default, gold, cannot do the next item) with
#   -z pack-relative-relocs: the ~42,000 relative relocations of a static-stdlib PIE shrink from a
#   1 MB .rela.dyn, which the loader reads at every start, to 8 KB of DT_RELR (glibc >= 2.36,
#   which the binaries required already);
# - --no-export-dynamic: the driver exports every symbol of an executable (6,000+ here), which
#   only costs load-time hashing and resident pages; nothing dlopens or dlsyms into hvagent;
# - packaging/rodata.ld: the read-only inputs of .rodata (1.8 MB) in the read-only segment, not
#   in the writable one that swiftc's writable ".rodata" inputs would otherwise pull them into.
BUILD=(-c release --static-swift-stdlib --disable-local-rpath --toolset "$PWD/packaging/lld.toolset.json"
       -Xlinker -z -Xlinker now -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
       -Xlinker -T -Xlinker "$PWD/packaging/rodata.ld")

die() { echo "package.sh: $*" >&2; exit 1; }
note() { echo "package.sh: $*"; }

for tool in swift python3 readelf strip gzip dpkg-deb dpkg-shlibdeps rpmbuild; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done

# ---- Which executables ship --------------------------------------------------------------------
DESCRIPTION=$(swift package describe --type json) || die "swift package describe failed"
mapfile -t PRODUCTS < <(python3 -c '
import json, sys
for p in json.load(sys.stdin)["products"]:
    if "executable" in p["type"]:
        print(p["name"])' <<<"$DESCRIPTION")
NOT_SHIPPED=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]].*//' "$PKG/not-shipped")
SHIPPED=()
declare -A SECTION
for p in "${PRODUCTS[@]}"; do
  if grep -qxF "$p" <<<"$NOT_SHIPPED"; then
    note "not shipping $p (packaging/not-shipped)"
  elif [ -f "$PKG/man/$p.8" ]; then
    SHIPPED+=("$p"); SECTION[$p]=8
  elif [ -f "$PKG/man/$p.1" ]; then
    SHIPPED+=("$p"); SECTION[$p]=1
  else
    die "executable product '$p' has no man page: add packaging/man/$p.1 (or .8 for an admin command), or list it in packaging/not-shipped with the reason"
  fi
done
[ -n "${SECTION[hvagent]:-}" ] || die "the hvagent product is missing from Package.swift"
note "shipping ${SHIPPED[*]}"

# ---- Release build -----------------------------------------------------------------------------
# libstdc++ and the unwinder are linked statically, so that the Swift runtime's C++ parts add no
# run-time dependency: ld takes the first directory on -L that holds the library, and this one
# holds only the static archives (libgcc_s.a is GCC's libgcc_eh.a, what -static-libgcc links).
CLANG="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
[ -x "$CLANG" ] || CLANG=gcc
STATIC_LIBS=$REPO/.build/hvagent-static-libs
mkdir -p "$STATIC_LIBS"
for pair in libstdc++.a:libstdc++.a libgcc_eh.a:libgcc_s.a; do
  archive=$("$CLANG" -print-file-name="${pair%%:*}")
  [ -f "$archive" ] || die "${pair%%:*} not found by $CLANG (install libstdc++-12-dev / gcc)"
  ln -sfn "$archive" "$STATIC_LIBS/${pair##*:}"
done
for p in "${SHIPPED[@]}"; do
  swift build "${BUILD[@]}" -Xlinker -L"$STATIC_LIBS" --product "$p"
done
BIN=$(swift build "${BUILD[@]}" --show-bin-path)

# Run-time libraries: glibc's and libnl's only.
ALLOWED='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9]+|libnl-3\.so\.200|libnl-route-3\.so\.200)$'
for p in "${SHIPPED[@]}"; do
  ! readelf -d "$BIN/$p" | grep -Eq '\((RPATH|RUNPATH)\)' || die "$p has an RPATH/RUNPATH"
  needed=$(readelf -d "$BIN/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(grep -Ev "$ALLOWED" <<<"$needed" || true)
  [ -z "$bad" ] || die "$p needs $(echo $bad) at run time; only glibc and libnl are allowed"
  note "$p needs $(echo $needed)"
done

VERSION=$("$BIN/hvagent" --version)
[[ "$VERSION" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "unusable version from 'hvagent --version': '$VERSION'"
DEBARCH=$(dpkg --print-architecture)
RPMARCH=$(uname -m)
MAINTAINER=$(sed -n '1p' "$PKG/maintainer")
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
note "version $VERSION ($DEBARCH / $RPMARCH)"

rm -rf "$WORK"
mkdir -p "$WORK" "$DIST"
rm -f "$DIST"/hvagent_*.deb "$DIST"/hvagent-*.rpm

# ---- One staged tree per package format --------------------------------------------------------
# install_file MODE SRC DEST: copy the text file SRC to DEST (creating parents), @VERSION@ filled in.
install_file() {
  mkdir -p "$(dirname "$3")"
  sed "s/@VERSION@/$VERSION/g" "$2" >"$3"
  chmod "$1" "$3"
}
man_page() { # man_page SRC DESTDIR
  local name=${1##*/} section=${1##*.}
  mkdir -p "$2/usr/share/man/man$section"
  sed "s/@VERSION@/$VERSION/g" "$1" | gzip -9n >"$2/usr/share/man/man$section/$name.gz"
  chmod 0644 "$2/usr/share/man/man$section/$name.gz"
}

# stage ROOT FLAVOUR: the files both packages carry, with each distribution's paths.
stage() {
  local root=$1 flavour=$2 zshdir chronyconf
  case $flavour in
    deb) zshdir=/usr/share/zsh/vendor-completions; chronyconf=/etc/chrony/conf.d/hvagent.conf ;;
    rpm) zshdir=/usr/share/zsh/site-functions; chronyconf=/etc/chrony.d/hvagent.conf ;;
  esac
  for p in "${SHIPPED[@]}"; do
    local dir=/usr/bin
    [ "${SECTION[$p]}" = 8 ] && dir=/usr/sbin
    mkdir -p "$root$dir"
    strip --strip-unneeded --remove-section=.comment -o "$root$dir/$p" "$BIN/$p"
    chmod 0755 "$root$dir/$p"
    man_page "$PKG/man/$p.${SECTION[$p]}" "$root"
    # ArgumentParser writes the completion scripts; a tool without them just has none.
    mkdir -p "$root/usr/share/bash-completion/completions" "$root$zshdir"
    # Completion files are sourced, not run: no "#!" line.
    if "$BIN/$p" --generate-completion-script bash 2>/dev/null | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/$p" &&
       "$BIN/$p" --generate-completion-script zsh 2>/dev/null >"$root$zshdir/_$p" &&
       [ -s "$root/usr/share/bash-completion/completions/$p" ] && [ -s "$root$zshdir/_$p" ]; then
      chmod 0644 "$root/usr/share/bash-completion/completions/$p" "$root$zshdir/_$p"
    else
      note "$p writes no completion scripts; none shipped for it"
      rm -f "$root/usr/share/bash-completion/completions/$p" "$root$zshdir/_$p"
    fi
  done
  # hvagent.conf(5)'s KEYS section comes from the daemon's key table, like the default file.
  mkdir -p "$WORK"
  "$BIN/hvagent" config --man-keys >"$WORK/conf-keys.roff"
  python3 - "$PKG/man/hvagent.conf.5" "$WORK/conf-keys.roff" >"$WORK/hvagent.conf.5" <<'PY'
import sys
print(open(sys.argv[1]).read().replace("@KEYS@\n", open(sys.argv[2]).read()), end="")
PY
  man_page "$WORK/hvagent.conf.5" "$root"
  # The agent's unit, and the freeze and IP helpers' sockets and services (packaging/README.md).
  for unit in "$PKG"/systemd/*; do install_file 0644 "$unit" "$root/usr/lib/systemd/system/${unit##*/}"; done
  # The example backup hook (hvagent(8), BACKUPS); in the documentation, never active by itself.
  install_file 0755 "$PKG/examples/vss.d/10-sync-and-log" "$root/usr/share/doc/hvagent/examples/vss.d/10-sync-and-log"
  install_file 0644 "$PKG/tmpfiles/hvagent.conf" "$root/usr/lib/tmpfiles.d/hvagent.conf"
  install_file 0644 "$PKG/udev/70-hvagent.rules" "$root/usr/lib/udev/rules.d/70-hvagent.rules"
  # The default configuration is generated from the daemon's own key table (every key, commented
  # out at its default, with its help), so the shipped file can never disagree with the parser.
  mkdir -p "$root/etc/hvagent"
  "$BIN/hvagent" config --defaults >"$root/etc/hvagent/hvagent.conf"
  chmod 0644 "$root/etc/hvagent/hvagent.conf"
  install_file 0644 "$PKG/chrony/hvagent.conf" "$root$chronyconf"
  mkdir -p "$root/var/lib/hyperv"
  chmod 0755 "$root/var/lib/hyperv"
}

# ---- .deb --------------------------------------------------------------------------------------
DEBROOT=$WORK/deb
stage "$DEBROOT" deb
install_file 0644 "$PKG/debian/copyright" "$DEBROOT/usr/share/doc/hvagent/copyright"
install_file 0644 "$PKG/debian/lintian-overrides" "$DEBROOT/usr/share/lintian/overrides/hvagent"
{
  printf 'hvagent (%s-1) unstable; urgency=medium\n\n' "$VERSION"
  printf '  * hvagent %s, built from commit %s.\n\n' "$VERSION" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf ' -- %s  %s\n' "$MAINTAINER" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$DEBROOT/usr/share/doc/hvagent/changelog.Debian.gz"
chmod 0644 "$DEBROOT/usr/share/doc/hvagent/changelog.Debian.gz"

# Depends, versioned by dpkg-shlibdeps from the binaries' symbol versions.
mkdir -p "$DEBROOT/DEBIAN"
SHLIBS=$WORK/shlibdeps
mkdir -p "$SHLIBS/debian"
printf 'Source: hvagent\n\nPackage: hvagent\nArchitecture: any\n' >"$SHLIBS/debian/control"
DEB_BINS=()
for p in "${SHIPPED[@]}"; do DEB_BINS+=("$DEBROOT$([ "${SECTION[$p]}" = 8 ] && echo /usr/sbin || echo /usr/bin)/$p"); done
DEPENDS=$(cd "$SHLIBS" && dpkg-shlibdeps -O "${DEB_BINS[@]}" | sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || die "dpkg-shlibdeps found no dependencies"
# dpkg-shlibdeps versions libc6 by the symbols the binaries use, so a version need that names no
# symbol is missed: GLIBC_ABI_DT_RELR (packed relocations, glibc 2.36) would let the package
# install on glibc 2.35 and then fail to load. Raise libc6 to what libc6's own symbols file says
# each such need requires.
LIBC_SYMBOLS=$(dpkg-query --control-path libc6 symbols 2>/dev/null || true)
for need in $(for b in "${DEB_BINS[@]}"; do readelf -V "$b"; done | sed -n 's/.*Name: \(GLIBC_ABI_[A-Z_]*\).*/\1/p' | sort -u); do
  [ -n "$LIBC_SYMBOLS" ] || die "libc6's symbols file is missing: cannot version $need"
  min=$(awk -v n="$need@$need" '$1 == n { print $2 }' "$LIBC_SYMBOLS")
  [ -n "$min" ] || die "libc6's symbols file does not list $need"
  have=$(sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p' <<<"$DEPENDS")
  if [ -z "$have" ] || dpkg --compare-versions "$have" lt "$min"; then
    DEPENDS=$(sed "s/libc6 (>= [^)]*)/libc6 (>= $min)/" <<<"$DEPENDS")
    note "libc6 raised to >= $min for $need"
  fi
done

for s in postinst prerm postrm; do install_file 0755 "$PKG/debian/$s" "$DEBROOT/DEBIAN/$s"; done
(cd "$DEBROOT" && find etc -type f | sort | sed 's|^|/|') >"$DEBROOT/DEBIAN/conffiles"
(cd "$DEBROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$DEBROOT/DEBIAN/md5sums"
INSTALLED_SIZE=$(du -sk --apparent-size --exclude=DEBIAN "$DEBROOT" | cut -f1)
sed -e "s/@DEBVERSION@/$VERSION-1/" -e "s/@DEBARCH@/$DEBARCH/" -e "s/@MAINTAINER@/$MAINTAINER/" \
    -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" -e "s/@DEPENDS@/$DEPENDS/" "$PKG/debian/control.in" >"$DEBROOT/DEBIAN/control"
chmod 0644 "$DEBROOT/DEBIAN/control" "$DEBROOT/DEBIAN/conffiles" "$DEBROOT/DEBIAN/md5sums"
find "$DEBROOT" -type d -exec chmod 0755 {} +
find "$DEBROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
DEB=$DIST/hvagent_${VERSION}-1_${DEBARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$DEBROOT" "$DEB" >/dev/null
note "built $DEB (Depends: $DEPENDS)"

# ---- .rpm --------------------------------------------------------------------------------------
RPMROOT=$WORK/rpm-root
stage "$RPMROOT" rpm
install_file 0644 "$PKG/debian/copyright" "$RPMROOT/usr/share/licenses/hvagent/copyright"
install_file 0644 "$PKG/rpm/50-hvagent.preset" "$RPMROOT/usr/lib/systemd/system-preset/50-hvagent.preset"
find "$RPMROOT" -type d -exec chmod 0755 {} +
# The file list: every staged file; /etc files are %config(noreplace); directories the package
# creates are owned, and so are the shared drop-in directories no base package may own.
FILELIST=$WORK/rpm-files.txt
(
  cd "$RPMROOT"
  for d in etc/hvagent etc/chrony.d var/lib/hyperv usr/share/licenses/hvagent usr/share/doc/hvagent \
           usr/share/doc/hvagent/examples usr/share/doc/hvagent/examples/vss.d \
           usr/share/zsh usr/share/zsh/site-functions usr/share/bash-completion \
           usr/share/bash-completion/completions; do
    [ -d "$d" ] && echo "%dir /$d"
  done
  find . -type f -printf '%P\n' | sort | while read -r f; do
    case $f in
      etc/*) echo "%config(noreplace) /$f" ;;
      usr/share/licenses/*) echo "%license /$f" ;;
      *) echo "/$f" ;;
    esac
  done
) >"$FILELIST"
SPEC=$WORK/hvagent.spec
{
  sed -e "s/@VERSION@/$VERSION/" -e "s/@RPMARCH@/$RPMARCH/" -e "s/@MAINTAINER@/$MAINTAINER/" "$PKG/rpm/hvagent.spec.in"
  printf '\n%%changelog\n* %s %s - %s-1\n- hvagent %s, built from commit %s.\n' \
    "$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')" "$MAINTAINER" "$VERSION" "$VERSION" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$SPEC"
rpmbuild -bb --quiet \
  --define "_topdir $WORK/rpmbuild" \
  --define "hvstage $RPMROOT" \
  --define "hvfilelist $FILELIST" \
  --define "__os_install_post %{nil}" \
  --define "debug_package %{nil}" \
  --define "_build_id_links none" \
  --define "_binary_payload w6T.xzdio" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  --target "$RPMARCH" "$SPEC" >"$WORK/rpmbuild.log" 2>&1 || { cat "$WORK/rpmbuild.log" >&2; die "rpmbuild failed"; }
RPM=$DIST/hvagent-${VERSION}-1.${RPMARCH}.rpm
mv "$WORK/rpmbuild/RPMS/$RPMARCH/hvagent-${VERSION}-1.${RPMARCH}.rpm" "$RPM"
note "built $RPM"
ls -l "$DEB" "$RPM"
