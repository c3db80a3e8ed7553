#!/usr/bin/env bash
# Upgrade the kiosk package from the province's signed repository; put the previous version back when the
# new one does not come up. Run by kiosk-upgrade.service (kiosk-upgrade.timer: the night window).
#
#  0. name the kiosk's rollout ring (remote setting upgrade_ring) as the suite of the province's entry
#     (kiosk-upgrade-ring.sh);
#  1. apt-get update from the province's sources entry only (signed-by= its key: another key is refused);
#  2. nothing to do when the candidate is the installed version, or a version rolled back before;
#  3. keep the installed .deb (to roll back to) and download the new one, the kiosk still serving;
#  4. stop the kiosk and its sync, back up the database (the new version's migrations run in its postinst);
#  5. install the new version, then wait up to KIOSK_UPGRADE_DEADLINE seconds for kiosk.service to be
#     active (Type=notify: READY) and /healthz to answer 200;
#  6. otherwise: stop the kiosk, restore the database, reinstall the kept .deb, and say "rolled_back".
# The outcome goes to /var/lib/kiosk/upgrade.json (the kiosk shows it on /healthz as "upgrade").
#
# With the read-only overlay root on (raspi-config's overlayroot: `/` an overlay whose lower, the SD card's
# root, is mounted read-only at /media/root-ro), steps 5–6 run in the running system as above (the new version
# runs at once, from RAM), and only a version that passed the health check is then written to the lower root
# too (remounted read-write for that, then read-only again): it is still there after a reboot. A version rolled
# back never reaches the lower root. No overlay toggling, no reboot. See docs/deploy.md §5.
#
# It holds DATA/upgrade.lock (flock) while it works. An upgrade a power cut interrupted leaves the backup folder
# (with the versions `from` and `to` in it) and no lock: at the next boot `kiosk-upgrade.sh recover`
# (kiosk-upgrade-recover.service, before kiosk.service) repairs the package (dpkg --configure -a; a package not
# fully installed is replaced by the kept .deb), and when the new version is what is installed, starts this
# service again, which resumes at the health check (step 5) and rolls back as in step 6. The database is the
# kiosk's own business at its start (kiosk/upgrade_recovery.py): migrated by a newer version, it is set aside
# and the backup restored.
set -uo pipefail

LIST=${KIOSK_UPGRADE_SOURCES:-/etc/apt/sources.list.d/kiosk-province.list}
DEADLINE=${KIOSK_UPGRADE_DEADLINE:-180}
HEALTHZ=${KIOSK_HEALTHZ_URL:-http://127.0.0.1:8080/healthz}
DATA=/var/lib/kiosk
STATUS=$DATA/upgrade.json
KEEP=/var/cache/kiosk-upgrade # the .deb of the installed version
BACKUP=$DATA/upgrade-backup   # the database as it was before the new version's migrations
BAD=$DATA/upgrade-rolled-back # the version rolled back last: not tried again
LOCK=$DATA/upgrade.lock       # held while an upgrade runs (kiosk/upgrade_recovery.py looks at it)
PACKAGE=kiosk

say() { printf 'kiosk-upgrade: %s\n' "$*"; }
deb_name() { printf '%s_%s_%s.deb' "$PACKAGE" "${1//:/%3a}" "$2"; } # VERSION ARCH: the file name apt gives the package
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
record() { # OUTCOME FROM TO DETAIL: the outcome file, written whole (a reader never sees half of it)
  say "$1: ${4}"
  printf '{"outcome": %s, "from": %s, "to": %s, "at": %s, "detail": %s}\n' \
    "$(json "$1")" "$(json "$2")" "$(json "$3")" "$(json "$(now)")" "$(json "$4")" >"$STATUS.new"
  chmod 0644 "$STATUS.new"
  mv "$STATUS.new" "$STATUS"
}

# --- the read-only overlay root -----------------------------------------------------------------------------
# KIOSK_UPGRADE_LOWER names the lower root by hand; otherwise it is the `lowerdir=` of the overlay mounted on
# `/` (what overlayroot-chroot reads), or /media/root-ro (overlayroot's place for it) when that is a mount point.
overlay_lower() { # prints the lower (persistent) root when `/` is an overlay over one; nothing otherwise
  if [ -n "${KIOSK_UPGRADE_LOWER:-}" ]; then
    printf '%s\n' "$KIOSK_UPGRADE_LOWER"
    return
  fi
  [ "$(findmnt -n -o FSTYPE /)" = overlay ] || return 0
  local lower
  lower=$(findmnt -n -o OPTIONS / | tr ',' '\n' | sed -n 's/^lowerdir=//p' | cut -d: -f1)
  if [ -n "$lower" ] && mountpoint -q "$lower" 2>/dev/null; then
    printf '%s\n' "$lower"
  elif mountpoint -q /media/root-ro 2>/dev/null; then
    printf '%s\n' /media/root-ro
  fi
}

lower_install() { # DEB [DPKG OPTIONS…]: install DEB into the lower root (chroot), then make it read-only again
  local deb=$1 rc=0 was_ro=0 mounts=() m
  shift
  if findmnt -n -o OPTIONS "$LOWER" | tr ',' '\n' | grep -qx ro; then
    mount -o remount,rw "$LOWER" || return 1
    was_ro=1
  fi
  # /proc, /sys and /dev for the maintainer scripts; a fresh /run (they must not reach the running systemd:
  # in the chroot it looks as if systemd were not running, so units are enabled, never started); the data
  # directory (the new version's `kiosk init` finds the database already migrated, instead of making a new
  # one on the root under the data partition's mount point).
  for m in /proc /sys /dev "$DATA"; do
    mkdir -p "$LOWER$m" && mount --bind "$m" "$LOWER$m" && mounts=("$LOWER$m" "${mounts[@]}") || rc=1
  done
  mount -t tmpfs -o mode=0755 tmpfs "$LOWER/run" && mounts=("$LOWER/run" "${mounts[@]}") || rc=1
  # The .deb stays in the lower root's $KEEP: after a reboot, the version to roll back to at the next upgrade.
  local name
  name=$(basename "$deb")
  install -d -m 0755 "$LOWER$KEEP"
  if [ "$rc" -eq 0 ] && { [ -f "$LOWER$KEEP/$name" ] || cp "$deb" "$LOWER$KEEP/$name"; }; then
    chroot "$LOWER" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
      dpkg --force-confdef --force-confold "$@" -i "$KEEP/$name" >>"$log" 2>&1 || rc=1
  else
    rc=1
  fi
  [ "$rc" -ne 0 ] || find "$LOWER$KEEP" -name "${PACKAGE}_*.deb" ! -name "$name" -delete
  for m in "${mounts[@]}"; do umount "$m" || umount --lazy "$m"; done
  sync
  [ "$was_ro" -eq 0 ] || lower_read_only
  return "$rc"
}

lower_read_only() { # the lower root read-only again, the file system if it can be, its mount point at least
  mount -o remount,ro "$LOWER" 2>/dev/null && return 0
  # Busy: the files dpkg replaced there are still held by the overlay's cache (deleted, not yet freed). Let the
  # kernel drop what it can and try again; otherwise make the mount point read-only: nothing can write there,
  # the file system frees those files itself, and it is mounted read-only again at the next boot.
  echo 2 >/proc/sys/vm/drop_caches 2>/dev/null
  mount -o remount,ro "$LOWER" 2>/dev/null && return 0
  say "$LOWER is read-only at its mount point (its file system until the next boot: files still in use)"
  mount -o remount,ro,bind "$LOWER" || say "could not make $LOWER read-only again"
}

healthy() { # kiosk.service active (READY, Type=notify) and /healthz answers 200, within DEADLINE seconds
  local until=$(($(date +%s) + DEADLINE))
  while [ "$(date +%s)" -lt "$until" ]; do
    if systemctl is-active --quiet kiosk.service && python3 -c 'import sys, urllib.request
sys.exit(urllib.request.urlopen(sys.argv[1], timeout=5).status != 200)' "$HEALTHZ" 2>/dev/null; then
      return 0
    fi
    sleep 2
  done
  return 1
}

keep_or_why() { # the new version installed and started: kept (and exit) when it passes the check, else $why set
  if ! healthy; then
    why="kiosk.service did not reach READY and answer /healthz within $DEADLINE s"
  elif [ -n "$LOWER" ] && ! { lowered=$(date +%s) && lower_install "$new"; }; then
    cat "$log"
    why="writing $candidate to the read-only root $LOWER failed: $(grep -m1 'dpkg: error' "$log" || tail -n 1 "$log")"
  else
    find "$KEEP" -name "${PACKAGE}_*.deb" ! -name "$(basename "$kept")" -delete
    # The new version's .deb becomes the one to roll back to at the next upgrade.
    [ -f "$new" ] && cp "$new" "$KEEP/" && rm -f "$kept"
    rm -rf "$BACKUP" "$BAD"
    detail="up in $(($(date +%s) - started)) s"
    [ -z "$LOWER" ] || detail="$detail; written to the read-only root too ($(($(date +%s) - lowered)) s of it)"
    record upgraded "$installed" "$candidate" "$resumed$detail"
    exit 0
  fi
}

roll_back() { # step 6: $why the new version is not kept; the database and the kept .deb put back
  say "$why: rolling back to $installed"
  journalctl -u kiosk.service -n 20 --no-pager 2>/dev/null || true
  systemctl stop kiosk-sync.timer kiosk-sync.service kiosk.service
  rm -f "$DATA"/kiosk.db "$DATA"/kiosk.db-wal "$DATA"/kiosk.db-shm
  cp -a "$BACKUP"/kiosk.db* "$DATA"/
  if ! apt-get "${APT[@]}" "${DPKG[@]}" install -y --allow-downgrades "$kept" >"$log" 2>&1; then
    cat "$log"
    record rollback_failed "$installed" "$candidate" "$resumed$why; reinstalling $installed failed: $(tail -n 1 "$log")"
    exit 1
  fi
  # The lower root is written only after the health check: only a failed write there needs undoing there.
  if [ -n "${lowered:-}" ] && ! lower_install "$kept"; then
    cat "$log"
    record rollback_failed "$installed" "$candidate" "$resumed$why; reinstalling $installed in $LOWER failed: $(tail -n 1 "$log")"
    exit 1
  fi
  systemctl start kiosk.service kiosk-sync.timer || true
  if healthy; then
    rm -rf "$BACKUP"
    echo "$candidate" >"$BAD"
    record rolled_back "$installed" "$candidate" "$resumed$why; back on $installed in $(($(date +%s) - started)) s"
    exit 0
  fi
  record rollback_failed "$installed" "$candidate" "$resumed$why; $installed did not come back either"
  exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "kiosk-upgrade: run me as root" >&2; exit 1; }
exec 9>>"$LOCK"
flock -n 9 || { say "another upgrade is running"; exit 0; }

# --- recover: at boot, before kiosk.service (kiosk-upgrade-recover.service) -------------------------------
without_systemd() { # COMMAND…: with an empty /run of its own, where the package's scripts see no running systemd
  # and so enable units but start none: kiosk.service waits for this recovery, and a start would wait for it in turn
  DEBIAN_FRONTEND=noninteractive unshare --mount --propagation private \
    sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && exec "$@"' sh "$@"
}
if [ "${1:-}" = recover ]; then
  [ -d "$BACKUP" ] || exit 0
  from=$(cat "$BACKUP/from" 2>/dev/null) to=$(cat "$BACKUP/to" 2>/dev/null)
  say "an upgrade ${from:-?} -> ${to:-?} was interrupted: repairing the package"
  LOWER=$(overlay_lower) log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  without_systemd dpkg --force-confdef --force-confold --configure -a || say "dpkg --configure -a failed"
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$PACKAGE" 2>/dev/null)
  arch=$(dpkg-query -W -f='${Architecture}' "$PACKAGE" 2>/dev/null)
  kept=$KEEP/$(deb_name "$from" "$arch")
  if [ "${status:0:2}" != ii ] && [ -n "$from" ] && [ -f "$kept" ]; then
    say "$PACKAGE is not fully installed ($status): reinstalling $from"
    flock -u 9 # its postinst's `kiosk init` puts the database right (kiosk/upgrade_recovery.py)
    without_systemd dpkg --force-confdef --force-confold -i "$kept" || say "reinstalling $from failed"
    # The cut came while the new version was being written to the read-only root: the previous one there too.
    [ -z "$LOWER" ] || lower_install "$kept" || say "reinstalling $from in $LOWER failed: $(tail -n 1 "$log")"
  fi
  # A backup made by an earlier kiosk-upgrade: the kiosk's user must be able to restore it.
  [ ! -d "$BACKUP" ] || chown -R "$(stat -c %u:%g "$DATA")" "$BACKUP"
  if [ -n "$to" ] && [ "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$PACKAGE")" = "ii  $to" ]; then
    say "$to is installed and was never checked: kiosk-upgrade.service checks it"
    flock -u 9
    systemctl start --no-block kiosk-upgrade.service
  fi
  exit 0
fi
[ -f "$LIST" ] || { echo "kiosk-upgrade: no $LIST (the province's repository: docs/deploy.md)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
APT=(-o "Dir::Etc::SourceList=$LIST" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 -q)
DPKG=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
installed=$(dpkg-query -W -f='${Version}' "$PACKAGE" 2>/dev/null) || { echo "kiosk-upgrade: $PACKAGE is not installed" >&2; exit 1; }

# --- an upgrade a restart interrupted, its new version installed: resumed at the check (kiosk-upgrade-recover) ---
resumed=
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ -d "$BACKUP" ] && [ "$(cat "$BACKUP/to" 2>/dev/null)" = "$installed" ] && [ -s "$BACKUP/from" ]; then
  candidate=$installed installed=$(cat "$BACKUP/from") started=$(date +%s)
  resumed="interrupted by a restart, checked again: "
  arch=$(dpkg-query -W -f='${Architecture}' "$PACKAGE")
  kept=$KEEP/$(deb_name "$installed" "$arch")
  new=/var/cache/apt/archives/$(deb_name "$candidate" "$arch")
  [ -f "$new" ] || new=$KEEP/$(basename "$new") # with the overlay: the copy left in the lower root's $KEEP
  LOWER=$(overlay_lower)
  # Cut while the new version was being written to the read-only root: a rollback writes the kept one there.
  [ -z "$LOWER" ] || [ "$(dpkg-query --admindir="$LOWER/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Version}' \
    "$PACKAGE" 2>/dev/null)" = "ii  $installed" ] || lowered=$(date +%s)
  say "the upgrade $installed -> $candidate was interrupted by a restart: checking $candidate"
  systemctl start kiosk.service kiosk-sync.timer || true
  keep_or_why
  roll_back
fi

# --- 0. the ring: the suite the province named for this kiosk (remote setting upgrade_ring) -----------------
RING_HELPER=${KIOSK_UPGRADE_RING_HELPER:-/usr/lib/kiosk/kiosk-upgrade-ring.sh}
if [ -x "$RING_HELPER" ] && ! "$RING_HELPER" "$LIST"; then
  say "the ring could not be named in $LIST: upgrading from the suite it names"
fi

# --- 1. the province's repository, and only it -------------------------------------------------------------
if ! apt-get "${APT[@]}" update >"$log" 2>&1 || grep -q '^\(E\|W\): .*\(NO_PUBKEY\|not signed\|BADSIG\|EXPKEYSIG\|GPG error\)' "$log"; then
  cat "$log"
  record refused "$installed" "" "$(grep -m1 '^[EW]: ' "$log" || tail -n 1 "$log")"
  exit 1
fi
candidate=$(apt-cache "${APT[@]}" policy "$PACKAGE" | awk '$1 == "Candidate:" { print $2 }')

# --- 2. anything to do? -----------------------------------------------------------------------------------
if [ -z "$candidate" ] || [ "$candidate" = "(none)" ] || dpkg --compare-versions "$candidate" le "$installed"; then
  say "$PACKAGE $installed is the newest in the repository"
  exit 0
fi
if [ -f "$BAD" ] && [ "$(cat "$BAD")" = "$candidate" ]; then
  say "not trying $candidate again: it was rolled back ($(date -u -r "$BAD" +%Y-%m-%dT%H:%M:%SZ)); waiting for a newer version"
  exit 0
fi

# --- 3. the installed version's .deb, and the new one -----------------------------------------------------
arch=$(dpkg-query -W -f='${Architecture}' "$PACKAGE")
kept=$KEEP/$(deb_name "$installed" "$arch")
install -d -m 0755 "$KEEP"
if [ ! -f "$kept" ]; then
  cached=/var/cache/apt/archives/$(basename "$kept")
  if [ -f "$cached" ]; then
    cp "$cached" "$kept.new" && mv "$kept.new" "$kept"
  else
    (cd "$KEEP" && apt-get "${APT[@]}" download "$PACKAGE=$installed" >/dev/null 2>&1) || true
  fi
fi
if [ ! -f "$kept" ]; then
  record failed "$installed" "$candidate" "no copy of $installed to roll back to: not upgrading"
  exit 1
fi
if ! apt-get "${APT[@]}" install -y --download-only "$PACKAGE=$candidate" >"$log" 2>&1; then
  cat "$log"
  record failed "$installed" "$candidate" "download failed: $(tail -n 1 "$log")"
  exit 1
fi

LOWER=$(overlay_lower)
[ -z "$LOWER" ] || say "the root is an overlay over $LOWER: a version that comes up is written there too"

# --- 4. stop, back up --------------------------------------------------------------------------------------
started=$(date +%s)
say "upgrading $PACKAGE $installed -> $candidate"
systemctl stop kiosk-sync.timer kiosk-sync.service kiosk.service
# Made whole in BACKUP.new, then renamed: a backup folder is complete, with the versions it is between. It
# belongs to the data folder's owner: the kiosk restores it itself after a power cut (kiosk/upgrade_recovery.py).
rm -rf "$BACKUP" "$BACKUP.new"
install -d -m 0700 -o "$(stat -c %u "$DATA")" -g "$(stat -c %g "$DATA")" "$BACKUP.new"
for file in "$DATA"/kiosk.db "$DATA"/kiosk.db-wal "$DATA"/kiosk.db-shm; do
  [ -f "$file" ] && cp -a "$file" "$BACKUP.new/"
done
echo "$installed" >"$BACKUP.new/from"
echo "$candidate" >"$BACKUP.new/to"
sync
mv "$BACKUP.new" "$BACKUP"

# --- 5. install and check ---------------------------------------------------------------------------------
if apt-get "${APT[@]}" "${DPKG[@]}" install -y "$PACKAGE=$candidate" >"$log" 2>&1; then
  systemctl start kiosk.service kiosk-sync.timer || true
  new=/var/cache/apt/archives/$(deb_name "$candidate" "$arch")
  keep_or_why
else
  cat "$log"
  why="apt-get install failed: $(grep -m1 '^E: ' "$log" || tail -n 1 "$log")"
fi
roll_back
