#!/usr/bin/env bash
# Installs the system programs the test suite starts on loopback (PostgreSQL, Redis) and
# nghttpd, the APNs stand-in of the push benchmark, and wrk, the load of the HTTP benchmark.
# The suite starts and stops its own throwaway servers; nothing is left running.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v openssl >/dev/null || need+=(openssl)
command -v unzip >/dev/null || need+=(unzip)
command -v nghttpd >/dev/null || need+=(nghttp2-server)  # APNs stand-in of bench/bench_push.py
command -v wrk >/dev/null || need+=(wrk)  # HTTP load generator of bench/bench_http.py
command -v chromium >/dev/null || need+=(chromium)  # the dashboard's browser tests
fc-list 2>/dev/null | grep -qi "tlwg" || need+=(fonts-thai-tlwg)  # Thai in screenshots
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)  # Chinese

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  # The suite runs its own servers; stop any the package started.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
echo "Test services ready."
