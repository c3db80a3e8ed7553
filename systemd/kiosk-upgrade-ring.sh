#!/usr/bin/env bash
# Name the kiosk's rollout ring in its apt sources entry: the suite of the province's repository it upgrades
# from (`ring0`: tried first; `stable`: the rest). kiosk-upgrade.sh calls it before `apt-get update`.
#
#   kiosk-upgrade-ring.sh LIST [RING]
#
# RING defaults to the setting `upgrade_ring` as the kiosk itself reads it (defaults, /etc/kiosk/kiosk.toml,
# then the remote settings the province set on the central's fleet page, DATA_DIR/remote-settings.json),
# asked from the kiosk's own Python (KIOSK_PYTHON, the package's /opt/kiosk/venv/bin/python3). Empty: LIST is
# left as it is (a kiosk no ring was given upgrades from the suite it was installed with). Every `deb` line's
# suite (the field after the URI; a flat repository's `./` is left alone) becomes RING; the file is replaced
# whole, and only when it changes. Under the read-only overlay root the change lasts until the next reboot,
# and is made again at every run. See docs/deploy.md §11 (rings).
set -euo pipefail

say() { printf 'kiosk-upgrade-ring: %s\n' "$*"; }
list=${1:?usage: kiosk-upgrade-ring.sh LIST [RING]}
[ -f "$list" ] || { say "no $list" >&2; exit 1; }
if [ $# -ge 2 ]; then
  ring=$2
else
  python=${KIOSK_PYTHON:-/opt/kiosk/venv/bin/python3}
  if ! ring=$("$python" -c 'from common.settings import load; print(load()["upgrade_ring"])'); then
    say "cannot read the setting upgrade_ring: $list left as it is" >&2
    exit 1
  fi
fi
[ -n "$ring" ] || exit 0
if ! [[ $ring =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$ ]]; then
  say "'$ring' is not a suite name: $list left as it is" >&2
  exit 1
fi

new=$(mktemp "$list.XXXXXX")
trap 'rm -f "$new"' EXIT
awk -v ring="$ring" '
  /^[[:space:]]*deb(-src)?[[:space:]]/ {
    i = 2
    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }   # [signed-by=... arch=...]
    i++                                                            # the URI; then the suite
    if (i <= NF && $i !~ /\/$/ && $i != ring) { $i = ring }
  }
  { print }
' "$list" >"$new"
if cmp -s "$list" "$new"; then
  exit 0
fi
chmod 0644 "$new"
before=$(awk '/^[[:space:]]*deb[[:space:]]/ { print; exit }' "$list")
mv "$new" "$list"
say "ring $ring: $list now names suite $ring (was: $before)"
