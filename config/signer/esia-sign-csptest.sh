#!/bin/sh
# Reference signer for esia-link's ESIA client_secret through CryptoPro CSP.
#
# The signer contract (see README, "Real ESIA"):
#   stdin   the exact string to sign, as esia-link builds it
#           (client_id + scope + timestamp + state + redirect_uri [+ code]),
#           UTF-8, nothing added;
#   stdout  base64url without padding of the 64-byte raw GOST R 34.10-2012
#           (256-bit) signature over its Streebog-256 hash, in the byte order
#           ESIA expects: csptest's raw output reversed byte by byte. Not a
#           CMS/PKCS#7 envelope (ESIA answers ESIA-007053 to one);
#   exit    0 on success; non-zero with the reason on stderr otherwise.
# esia-link kills the command after the provider's signer timeout_ms.
#
# Configure:
#   signer = { kind = "command", program = "/usr/local/bin/esia-sign-csptest.sh", timeout_ms = 5000 }
# with ESIA_CSP_CONTAINER (and, if the container has one, ESIA_CSP_PASSWORD)
# in esia-link's environment. This script is a reference: it was not run
# against a CryptoPro installation in this repository's CI (none is available
# there); the same contract is exercised end to end by the demo's GOST mode.
set -eu

: "${ESIA_CSP_CONTAINER:?set ESIA_CSP_CONTAINER to the CryptoPro key container}"
CSPTEST=${ESIA_CSPTEST:-/opt/cprocsp/bin/amd64/csptest}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cat > "$work/in"

if [ -n "${ESIA_CSP_PASSWORD:-}" ]; then
  set -- -password "$ESIA_CSP_PASSWORD"
else
  set --
fi
if ! "$CSPTEST" -keyset -sign GOST12_256 -container "$ESIA_CSP_CONTAINER" \
     -keytype exchange -in "$work/in" -out "$work/sig" "$@" > "$work/log" 2>&1; then
  echo "csptest failed:" >&2
  cat "$work/log" >&2
  exit 1
fi

size=$(wc -c < "$work/sig" | tr -d ' ')
if [ "$size" -ne 64 ]; then
  echo "csptest wrote $size bytes; a raw GOST 2012-256 signature has 64" >&2
  exit 1
fi

# Reverse the bytes, then base64url without padding.
perl -0777 -ne 'print scalar reverse $_' "$work/sig" | base64 | tr -d '\n=' | tr '+/' '-_'
