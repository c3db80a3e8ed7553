#!/usr/bin/env bash
# Install or upgrade the commune kiosk on Raspberry Pi OS (Bookworm) or Debian 12, from this checkout.
#
#   sudo systemd/install.sh                     # a kiosk: touch screen, buttons, printer, nightly sync
#   sudo systemd/install.sh --role central      # the commune or province server (kiosk-central)
#
# It creates the `kiosk` user, a virtual environment in /opt/kiosk/venv, /etc/kiosk/kiosk.toml from the
# commented template, the data directory /var/lib/kiosk, a udev rule for the USB ticket printer, and the
# systemd units, then enables and starts them. Run it again to upgrade: it keeps /etc/kiosk/kiosk.toml and
# the data, runs the database migrations (`kiosk init`) and restarts the services. See docs/deploy.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo systemd/install.sh [options]

  --role device|central  what to install (default device: kiosk, touch screen browser, nightly sync;
                         central: the kiosk-central server)
  --printer VID:PID      also give the kiosk user the USB printer with this id (see `lsusb`); repeatable
  --no-screen            no touch screen browser (a kiosk with buttons and printer only)
  --root DIR             install into DIR instead of / (tests, image staging; DESTDIR=DIR works too).
                         DIR/etc/passwd must exist. Never runs apt-get or touches running services.
  --no-apt               do not install Debian packages
  --no-systemctl         do not enable, start or restart anything (no systemctl, no udevadm)
  --offline              install Python packages only from this machine (pip --no-index): those the
                         --python interpreter has, its own virtual environment's included
  --python PATH          Python 3.11+ for the virtual environment (default python3)
  -h, --help             this help
EOF
}

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${DESTDIR:-/}
ROLE=device
APT=1
SYSTEMCTL=1
OFFLINE=0
SCREEN=1
PYTHON=python3
PRINTERS=()

while [ $# -gt 0 ]; do
  case $1 in
    --role) ROLE=${2:?--role needs device or central}; shift 2 ;;
    --role=*) ROLE=${1#*=}; shift ;;
    --printer) PRINTERS+=("${2:?--printer needs VID:PID}"); shift 2 ;;
    --printer=*) PRINTERS+=("${1#*=}"); shift ;;
    --no-screen) SCREEN=0; shift ;;
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --no-apt) APT=0; shift ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    --offline) OFFLINE=1; shift ;;
    --python) PYTHON=${2:?--python needs a path}; shift 2 ;;
    --python=*) PYTHON=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

case $ROLE in device | central) ;; *) die "--role is device or central, not '$ROLE'" ;; esac
for id in "${PRINTERS[@]}"; do
  [[ $id =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$ ]] || die "--printer takes VID:PID in hex as lsusb shows it (e.g. 0416:5011), not '$id'"
done
[ "$(id -u)" -eq 0 ] || die "run me as root: sudo $0"
[ -f "$SRC/setup.py" ] || die "$SRC does not look like the kiosk source (no setup.py)"

# R is prefixed to every path written; empty when installing onto this machine.
R=$(cd "$ROOT" 2>/dev/null && pwd) || die "--root $ROOT is not a directory"
[ "$R" = / ] && R=""
LIVE=1
if [ -n "$R" ]; then
  LIVE=0
  if [ ! -f "$R/etc/passwd" ] || [ ! -f "$R/etc/group" ]; then
    die "$R/etc/passwd and $R/etc/group must exist (a root file system)"
  fi
fi

# Settings come from /etc/kiosk/kiosk.toml only, as for the services: not from this shell's KIOSK_* variables.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^KIOSK_' || true)

PREFIX=/opt/kiosk
VENV=$PREFIX/venv
CONF_DIR=/etc/kiosk
CONF=$CONF_DIR/kiosk.toml
DATA=/var/lib/kiosk
UNIT_DIR=/etc/systemd/system
UDEV_RULE=/etc/udev/rules.d/60-kiosk-printer.rules
USER_NAME=kiosk
SCREEN_USER=kiosk-screen

if [ "$ROLE" = device ]; then
  UNITS=(kiosk.service kiosk-sync.service kiosk-sync.timer)
  ENABLE=(kiosk.service kiosk-sync.timer)
  [ "$SCREEN" -eq 1 ] && UNITS+=(kiosk-browser.service) && ENABLE+=(kiosk-browser.service)
  GROUPS_NEEDED=(gpio lp audio dialout)
  INIT=kiosk
  EXTRA=""
else
  UNITS=(kiosk-central.service)
  ENABLE=(kiosk-central.service)
  GROUPS_NEEDED=()
  INIT=kiosk-central
  EXTRA="[central]"
fi
SERVICES=()
for unit in "${UNITS[@]}"; do [[ $unit == *.service ]] && SERVICES+=("$unit"); done

# --- Debian packages -------------------------------------------------------------------------------------
# Whether the repositories offer a package (a real one: `apt-cache show` also succeeds for virtual names).
offered() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { found = 1 } END { exit !found }'; }
if [ "$APT" -eq 1 ] && [ "$LIVE" -eq 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  packages=(python3 python3-venv python3-pip sqlite3 ca-certificates)
  if [ "$ROLE" = device ]; then
    packages+=(python3-usb fonts-dejavu-core espeak-ng sox alsa-utils libusb-1.0-0)
    # The Pi's GPIO library is packaged by Raspberry Pi OS only (plain Debian 12 has no python3-lgpio):
    # take it where the repository has it; on a Pi without it the lgpio wheel from PyPI goes into the venv.
    if offered python3-lgpio; then packages+=(python3-lgpio); fi
    if [ "$SCREEN" -eq 1 ]; then
      packages+=(cage xwayland) # Debian's cage quits without Xwayland, which its package does not pull in
      # Raspberry Pi OS names it chromium-browser (Debian only as a virtual name), Debian chromium.
      if offered chromium-browser; then packages+=(chromium-browser); else packages+=(chromium); fi
    fi
  fi
  say "installing Debian packages: ${packages[*]}"
  apt-get install -y -q --no-install-recommends "${packages[@]}"
elif [ "$APT" -eq 1 ]; then
  say "not running apt-get: installing into $R"
fi

# --- users and groups ------------------------------------------------------------------------------------
prefix_opt=()
[ -n "$R" ] && prefix_opt=(--prefix "$R")
has_group() { grep -q "^$1:" "$R/etc/group"; }
has_user() { grep -q "^$1:" "$R/etc/passwd"; }
ensure_group() { has_group "$1" || { say "creating group $1"; groupadd "${prefix_opt[@]}" --system "$1"; }; }
ensure_user() { # NAME HOME [GROUP...]: create the user, or add it to groups it lacks (an upgrade)
  local name=$1 home=$2 group list
  shift 2
  for group in "$@"; do ensure_group "$group"; done
  list=$(IFS=,; echo "$*")
  local groups_opt=()
  [ -n "$list" ] && groups_opt=(--groups "$list")
  if has_user "$name"; then
    [ -z "$list" ] || usermod "${prefix_opt[@]}" --append "${groups_opt[@]}" "$name"
  else
    say "creating user $name"
    useradd "${prefix_opt[@]}" --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --comment "Commune kiosk" "${groups_opt[@]}" "$name"
  fi
}
ensure_user "$USER_NAME" "$DATA" "${GROUPS_NEEDED[@]}"
if [ "$ROLE" = device ] && [ "$SCREEN" -eq 1 ]; then
  ensure_user "$SCREEN_USER" /run/kiosk-browser video render input audio
fi
uid=$(awk -F: -v u="$USER_NAME" '$1 == u { print $3 }' "$R/etc/passwd")
gid=$(awk -F: -v u="$USER_NAME" '$1 == u { print $4 }' "$R/etc/passwd")

# --- the program -----------------------------------------------------------------------------------------
if ! "$R$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "creating the virtual environment $VENV"
  rm -rf "$R$VENV"
  # System site packages: python3-lgpio comes from Raspberry Pi OS, built for its kernel.
  "$PYTHON" -m venv --system-site-packages "$R$VENV"
fi
if [ "$OFFLINE" -eq 1 ]; then
  # Offline, pip takes what the --python interpreter has: with --system-site-packages the venv sees a system
  # Python's packages, but not those of a virtual environment given as --python (venv only looks at its
  # base installation). A .pth file adds that environment's site-packages after the venv's own.
  "$PYTHON" -c 'import site, sys; print("\n".join(p for p in site.getsitepackages() if sys.prefix != sys.base_prefix))' \
    >"$("$R$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/kiosk-offline.pth"
  # Building the kiosk offline needs setuptools and its bdist_wheel where pip cannot fetch them.
  if ! "$R$VENV/bin/python" -c 'import setuptools, sys
from importlib.metadata import version
major, minor = (int(x) for x in version("setuptools").split(".")[:2])
if (major, minor) < (70, 1): import wheel.bdist_wheel' 2>/dev/null; then
    die "--offline needs setuptools and wheel for $PYTHON (apt-get install python3-setuptools python3-wheel, or pip install wheel into that Python), or run without --offline"
  fi
fi
build=$(mktemp -d)
was_running=()
on_exit() {
  local status=$?
  rm -rf "$build"
  if [ "$status" -ne 0 ] && [ ${#was_running[@]} -gt 0 ]; then
    echo "install.sh: failed with ${was_running[*]} stopped; fix the error above and run it again" >&2
  fi
}
trap on_exit EXIT
# Build from a copy, so that the checkout gets no build/ or *.egg-info folders.
tar -C "$SRC" --exclude=./.git --exclude=./var --exclude=./build --exclude=./node_modules \
  --exclude=./test-artifacts --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$build" -xf -
pip_opts=(--quiet --disable-pip-version-check)
[ "$OFFLINE" -eq 1 ] && pip_opts+=(--no-index --no-build-isolation)
say "installing the kiosk into $VENV"
"$R$VENV/bin/python" -m pip install "${pip_opts[@]}" "$build$EXTRA"
if [ "$ROLE" = device ] && [ "$OFFLINE" -eq 0 ] && [[ $(uname -m) == a* ]] \
  && ! "$R$VENV/bin/python" -c 'import lgpio' 2>/dev/null; then
  # A Pi without Raspberry Pi OS's python3-lgpio: the wheel from PyPI (gpio = "real" says so plainly if it fails).
  "$R$VENV/bin/python" -m pip install "${pip_opts[@]}" lgpio || say "lgpio is not installed: the buttons need it (gpio = \"real\")"
fi
install -d -m 0755 "$R$PREFIX/bin" "$R$PREFIX/docs" "$R/usr/local/bin"
install -m 0644 "$SRC/docs/deploy.md" "$R$PREFIX/docs/deploy.md"
for program in kiosk kiosk-central; do
  ln -sfn "$VENV/bin/$program" "$R/usr/local/bin/$program"
done

# --- settings --------------------------------------------------------------------------------------------
install -d -m 0755 "$R$CONF_DIR"
install -m 0644 "$SRC/systemd/kiosk.toml.example" "$R$CONF.example"
if [ -e "$R$CONF" ]; then
  say "kept $CONF (your settings); the newest commented template is $CONF.example"
else
  printer_line='&'
  [ ${#PRINTERS[@]} -gt 0 ] && printer_line="printer = \"usb:${PRINTERS[0]}\""
  sed -e "s|^# data_dir = .*|data_dir = \"$DATA\"|" -e "s|^# printer = .*|$printer_line|" \
    "$SRC/systemd/kiosk.toml.example" >"$R$CONF.new"
  grep -q "^data_dir = \"$DATA\"$" "$R$CONF.new" || die "systemd/kiosk.toml.example has no data_dir line"
  chown "0:$gid" "$R$CONF.new"
  chmod 0640 "$R$CONF.new" # it will hold device_secret: readable by the kiosk user, nobody else
  mv "$R$CONF.new" "$R$CONF"
  say "created $CONF: your settings go there (see the next steps below)"
fi

# --- data --------------------------------------------------------------------------------------------------
install -d -m 0750 -o "$uid" -g "$gid" "$R$DATA"

# --- devices -----------------------------------------------------------------------------------------------
if [ "$ROLE" = device ]; then
  install -d -m 0755 "$R$(dirname "$UDEV_RULE")"
  {
    echo "# Installed by the kiosk's systemd/install.sh: USB ticket printers for group lp (the kiosk user),"
    echo "# for python-escpos through libusb (printer = \"usb:VID:PID\" in /etc/kiosk/kiosk.toml)."
    echo "# Printers that say they are printers (USB interface class 07):"
    echo 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="lp", MODE="0660"'
    echo "# Printers named with --printer VID:PID:"
    for id in "${PRINTERS[@]}"; do
      vid=$(tr '[:upper:]' '[:lower:]' <<<"${id%%:*}")
      pid=$(tr '[:upper:]' '[:lower:]' <<<"${id##*:}")
      echo "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"$vid\", ATTR{idProduct}==\"$pid\", GROUP=\"lp\", MODE=\"0660\""
    done
  } >"$R$UDEV_RULE"
  install -m 0755 "$SRC/systemd/kiosk-browser.sh" "$R$PREFIX/bin/kiosk-browser" # also for a desktop's autostart
  if [ "$SCREEN" -eq 1 ]; then
    install -D -m 0644 "$SRC/systemd/kiosk-browser.pam" "$R/etc/pam.d/kiosk-browser"
  fi
fi

# --- units -------------------------------------------------------------------------------------------------
install -d -m 0755 "$R$UNIT_DIR"
for unit in "${UNITS[@]}"; do
  install -m 0644 "$SRC/systemd/$unit" "$R$UNIT_DIR/$unit"
done

live_systemctl() { [ "$LIVE" -eq 1 ] && [ "$SYSTEMCTL" -eq 1 ]; }
if live_systemctl; then
  systemctl daemon-reload
  for unit in "${SERVICES[@]}"; do
    if systemctl is-active --quiet "$unit"; then was_running+=("$unit"); fi
  done
  if [ ${#was_running[@]} -gt 0 ]; then
    say "stopping ${was_running[*]} for the upgrade"
    systemctl stop "${was_running[@]}"
  fi
fi

# --- database: create or upgrade (keeps every record) ------------------------------------------------------
say "creating or upgrading the database ($INIT init)"
init_env=(KIOSK_CONFIG="$R$CONF")
[ -n "$R" ] && init_env+=(KIOSK_DATA_DIR="$R$DATA") # the file says /var/lib/kiosk: the target's path
env "${init_env[@]}" "$R$VENV/bin/$INIT" init
chown -R "$uid:$gid" "$R$DATA"

# --- enable and start ------------------------------------------------------------------------------------------
if [ "$SYSTEMCTL" -eq 0 ]; then
  say "not enabling the units (--no-systemctl): ${ENABLE[*]}"
elif [ "$LIVE" -eq 0 ]; then
  systemctl --root="$R" enable "${ENABLE[@]}"
else
  if [ "$ROLE" = device ]; then
    if [ -S /run/udev/control ]; then
      udevadm control --reload-rules
      udevadm trigger --subsystem-match=usb --action=change
    else
      say "udev is not running here (a container?): the printer rule applies from the next boot"
    fi
  fi
  systemctl enable "${ENABLE[@]}"
  say "starting ${ENABLE[*]}"
  systemctl restart "${ENABLE[@]}"
fi

say "done. Next steps (docs/deploy.md):"
if [ "$ROLE" = device ]; then
  echo "    sudo nano $CONF                        # commune_name, commune_code, printer, central_url"
  echo "    sudo -u $USER_NAME kiosk add-clerk 'Nguyễn Thị Lan' --pin 1234 --counter 1"
  echo "    sudo -u $USER_NAME kiosk printer-test"
  echo "    sudo systemctl restart kiosk             # after changing settings"
else
  echo "    sudo nano $CONF                        # central_database_url (PostgreSQL), central_secret_key"
  echo "    sudo -u $USER_NAME kiosk-central add-device 'Kiosk 1' --commune 00000"
fi
