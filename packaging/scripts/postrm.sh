#!/bin/sh
set -e
UNIT="@UNIT@"
if [ -n "$UNIT" ] && command -v systemctl >/dev/null; then
	if [ "$1" = remove ] || [ "$1" = purge ]; then
		systemctl disable "$UNIT.service" >/dev/null 2>&1 || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
fi
# The state (a sign's cache, a bus's outbox, the hub's model) goes with
# purge only, and only when no other Headway role is installed.
if [ "$1" = purge ] && ! ls /usr/lib/systemd/system/headway-*.service >/dev/null 2>&1; then
	rm -rf /var/lib/headway
fi
exit 0
