#!/usr/bin/env bash
# The README's first command ends here: list the probes of an example.
set -euo pipefail
BUILD=${1:-build}
"$BUILD/bin/usdtkit" list "$BUILD"/bin/example-* 
