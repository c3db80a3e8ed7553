#!/usr/bin/env bash
# The province's apt repository of kiosk packages, built with reprepro and signed with the province's key.
#
#   kiosk-province-repo init DIR KEY [SUITE...]   # DIR/conf for reprepro; KEY: the gpg key id or fingerprint
#   kiosk-province-repo publish DIR FILE.deb...   # add (or replace) packages in the first suite; signs again
#   kiosk-province-repo promote DIR [FROM TO]     # copy every package of FROM into TO (default: first → last)
#   kiosk-province-repo list DIR                  # what each suite offers
#
# Suites are the rollout rings (docs/deploy.md §11, rings): `init DIR KEY ring0 stable` makes a suite for the
# kiosks that try a release first and one for the rest; `publish` puts a release in ring0 only, and once the
# fleet page shows ring 0's kiosks well on it, `promote` copies it (reprepro copy: the same files, signed
# again) into stable. One suite (the default, `bookworm`) is a repository without rings: publish serves every
# kiosk at once, and there is nothing to promote.
#
# Serve DIR/public with any static web server (the central's nginx, or `python3 -m http.server -d DIR/public`).
# The kiosks trust the key in DIR/public/province.gpg only (signed-by= in their sources entry), which `init`
# exports. GNUPGHOME says which keyring holds the secret key. See docs/deploy.md.
set -euo pipefail

die() { printf 'kiosk-province-repo: %s\n' "$*" >&2; exit 1; }
command -v reprepro >/dev/null || die "needs reprepro (apt-get install reprepro gnupg)"
command=${1:-}
dir=${2:-}
usage="usage: kiosk-province-repo init DIR KEY [SUITE...] | publish DIR FILE.deb... | promote DIR [FROM TO] | list DIR"
{ [ -n "$command" ] && [ -n "$dir" ]; } || die "$usage"
shift 2

suites() { awk '$1 == "Codename:" { print $2 }' "$dir/conf/distributions"; }
repository() { [ -e "$dir/conf/distributions" ] || die "$dir is not a repository (kiosk-province-repo init first)"; }

case $command in
  init)
    key=${1:?kiosk-province-repo init DIR KEY [SUITE...]: the province key is missing}
    shift
    [ $# -gt 0 ] || set -- bookworm
    for suite in "$@"; do
      [[ $suite =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || die "$suite is not a suite name (lower-case letters, digits, . + -)"
    done
    gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || die "no secret key $key in ${GNUPGHOME:-~/.gnupg}"
    [ -e "$dir/conf/distributions" ] && die "$dir is a repository already"
    install -d -m 0755 "$dir/conf" "$dir/public"
    for suite in "$@"; do
      cat <<CONF
Origin: kiosk-province
Label: kiosk-province
Codename: $suite
Architectures: amd64 arm64 armhf
Components: main
Description: Commune kiosk packages of the province ($suite)
SignWith: $key

CONF
    done >"$dir/conf/distributions"
    # The served tree is DIR/public: reprepro's own database and settings stay out of it.
    printf 'outdir +b/public\n' >"$dir/conf/options"
    gpg --batch --export "$key" >"$dir/public/province.gpg"
    reprepro -b "$dir" export
    echo "kiosk-province-repo: $dir/public is the repository (suites: $*); the kiosks' key is $dir/public/province.gpg"
    ;;
  publish)
    [ $# -gt 0 ] || die "publish: which .deb files?"
    repository
    first=$(suites | head -n 1)
    for deb in "$@"; do reprepro -b "$dir" includedeb "$first" "$deb"; done
    echo "kiosk-province-repo: published in $first"
    ;;
  promote)
    repository
    from=${1:-$(suites | head -n 1)}
    to=${2:-$(suites | tail -n 1)}
    suites | grep -qx -- "$from" || die "promote: there is no suite $from (suites: $(suites | xargs))"
    suites | grep -qx -- "$to" || die "promote: there is no suite $to (suites: $(suites | xargs))"
    [ "$from" != "$to" ] || die "promote: $from is the only suite: a repository without rings has nothing to promote"
    [ -n "$(reprepro -b "$dir" list "$from")" ] || die "promote: $from is empty: publish a release first"
    reprepro -b "$dir" copymatched "$to" "$from" '*'
    echo "kiosk-province-repo: $to now offers:"
    reprepro -b "$dir" list "$to"
    ;;
  list)
    repository
    for suite in $(suites); do reprepro -b "$dir" list "$suite"; done
    ;;
  *) die "unknown command $command (init, publish, promote, list)" ;;
esac
