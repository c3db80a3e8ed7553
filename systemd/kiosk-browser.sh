#!/usr/bin/env bash
# Chromium in kiosk mode showing the citizen screen: nothing a citizen can use to leave the page.
# Run by kiosk-browser.service inside cage (installed as /opt/kiosk/bin/kiosk-browser), or from a desktop's
# autostart. Usage: kiosk-browser [URL]   (default http://127.0.0.1:8080/)
# KIOSK_BROWSER_FLAGS adds flags (word-split), e.g. "--force-device-scale-factor=1.25" for a small screen.
set -euo pipefail

url=${1:-http://127.0.0.1:8080/}

browser=""
for candidate in chromium chromium-browser; do  # Debian names it chromium, Raspberry Pi OS chromium-browser
  if command -v "$candidate" >/dev/null 2>&1; then
    browser=$(command -v "$candidate")
    break
  fi
done
if [ -z "$browser" ]; then
  echo "kiosk-browser: Chromium is not installed; install it with: sudo apt-get install chromium-browser" >&2
  exit 1
fi

# A fresh profile at every start (systemd's RuntimeDirectory=, in RAM): no "restore pages?" bubble, no
# history or form data left from one citizen to the next, nothing written to a read-only root.
profile=${RUNTIME_DIRECTORY:-${XDG_RUNTIME_DIR:-/tmp}/kiosk-browser}
profile=${profile%%:*}
mkdir -p "$profile"

# Translate bar, swipe navigation and casting off (one flag: a second --disable-features replaces the first).
features=Translate,TranslateUI,OverscrollHistoryNavigation,TouchpadOverscrollHistoryNavigation,MediaRouter
flags=(
  --kiosk                                  # full screen: no address bar, tabs, menus or window buttons
  --no-first-run                           # no welcome pages
  --no-default-browser-check
  --noerrdialogs                           # no crash or error dialogs
  --disable-session-crashed-bubble
  --hide-crash-restore-bubble
  --disable-infobars
  --disable-translate                      # no "translate this page?" bar over Vietnamese text
  --disable-pinch                          # no pinch zoom
  --overscroll-history-navigation=0        # no swipe back / forward
  "--disable-features=$features"
  --autoplay-policy=no-user-gesture-required  # spoken prompts play without a tap first
  --disable-component-update               # no internet: do not try to fetch updates
  --check-for-update-interval=31536000
  --disable-background-networking
  --disable-sync
  --password-store=basic                   # no keyring prompt
  --lang=vi
  "--accept-lang=vi,en"
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"  # this kiosk only, no internet
  "--user-data-dir=$profile"
)
if [ -n "${WAYLAND_DISPLAY:-}" ]; then
  flags+=(--ozone-platform=wayland)        # inside cage
fi
if [ -n "${KIOSK_BROWSER_FLAGS:-}" ]; then
  read -r -a extra <<<"$KIOSK_BROWSER_FLAGS"
  flags+=("${extra[@]}")
fi

exec "$browser" "${flags[@]}" "$url"
