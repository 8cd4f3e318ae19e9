#!/bin/sh
# Headway: state directory, device groups, and the unit (UNIT, set when
# the package is built) enabled and, where systemd runs, (re)started.
set -e
UNIT="@UNIT@"
if [ "$1" = configure ]; then
	install -d -o headway -g headway -m 0750 /var/lib/headway
	# Hardware signs and GPS receivers: the groups Raspberry Pi OS has.
	for g in dialout tty spi gpio; do
		if getent group "$g" >/dev/null; then
			usermod -a -G "$g" headway
		fi
	done
	if [ "$UNIT" = headway-station ]; then
		# The kiosk screen's user (headway-kiosk.service, off until enabled).
		if ! getent passwd headway-kiosk >/dev/null; then
			useradd --system --user-group --create-home --home-dir /var/lib/headway-kiosk \
				--shell /usr/sbin/nologin --comment "Headway sign screen" headway-kiosk
		fi
		for g in video render input tty; do
			if getent group "$g" >/dev/null; then
				usermod -a -G "$g" headway-kiosk
			fi
		done
	fi
	if [ -n "$UNIT" ] && command -v systemctl >/dev/null; then
		systemctl enable "$UNIT.service" >/dev/null 2>&1 || true
		if [ -d /run/systemd/system ]; then
			systemctl daemon-reload
			systemctl restart "$UNIT.service" || true
		fi
	fi
fi
exit 0
