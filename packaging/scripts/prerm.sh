#!/bin/sh
set -e
UNIT="@UNIT@"
if [ "$1" = remove ] && [ -n "$UNIT" ] && [ -d /run/systemd/system ]; then
	systemctl stop "$UNIT.service" || true
fi
exit 0
