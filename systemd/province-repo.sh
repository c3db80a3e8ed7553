#!/usr/bin/env bash
# The province's apt repository of kiosk packages, built with reprepro and signed with the province's key.
#
#   kiosk-province-repo init DIR KEY [CODENAME]   # DIR/conf for reprepro; KEY: the gpg key id or fingerprint
#   kiosk-province-repo publish DIR FILE.deb...   # add (or replace) packages; signs the index again
#   kiosk-province-repo list DIR                  # what the repository offers
#
# Serve DIR/public with any static web server (the central's nginx, or `python3 -m http.server -d DIR/public`).
# The kiosks trust the key in DIR/public/province.gpg only (signed-by= in their sources entry), which `init`
# exports. GNUPGHOME says which keyring holds the secret key. See docs/deploy.md.
set -euo pipefail

die() { printf 'kiosk-province-repo: %s\n' "$*" >&2; exit 1; }
command -v reprepro >/dev/null || die "needs reprepro (apt-get install reprepro gnupg)"
command=${1:-}
dir=${2:-}
{ [ -n "$command" ] && [ -n "$dir" ]; } || die "usage: kiosk-province-repo init DIR KEY [CODENAME] | publish DIR FILE.deb... | list DIR"
shift 2

case $command in
  init)
    key=${1:?kiosk-province-repo init DIR KEY [CODENAME]: the province key is missing}
    codename=${2:-bookworm}
    gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || die "no secret key $key in ${GNUPGHOME:-~/.gnupg}"
    [ -e "$dir/conf/distributions" ] && die "$dir is a repository already"
    install -d -m 0755 "$dir/conf" "$dir/public"
    cat >"$dir/conf/distributions" <<CONF
Origin: kiosk-province
Label: kiosk-province
Codename: $codename
Architectures: amd64 arm64 armhf
Components: main
Description: Commune kiosk packages of the province
SignWith: $key
CONF
    # The served tree is DIR/public: reprepro's own database and settings stay out of it.
    printf 'outdir +b/public\n' >"$dir/conf/options"
    gpg --batch --export "$key" >"$dir/public/province.gpg"
    reprepro -b "$dir" export
    echo "kiosk-province-repo: $dir/public is the repository; the kiosks' key is $dir/public/province.gpg"
    ;;
  publish)
    [ $# -gt 0 ] || die "publish: which .deb files?"
    [ -e "$dir/conf/distributions" ] || die "$dir is not a repository (kiosk-province-repo init first)"
    codename=$(awk '$1 == "Codename:" { print $2; exit }' "$dir/conf/distributions")
    for deb in "$@"; do reprepro -b "$dir" includedeb "$codename" "$deb"; done
    ;;
  list)
    codename=$(awk '$1 == "Codename:" { print $2; exit }' "$dir/conf/distributions")
    reprepro -b "$dir" list "$codename"
    ;;
  *) die "unknown command $command (init, publish, list)" ;;
esac
