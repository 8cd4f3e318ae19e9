#!/bin/sh
# Headway: the system user the services run as, before the files owned by
# its group are unpacked.
set -e
if [ "$1" = install ] || [ "$1" = upgrade ]; then
	if ! getent group headway >/dev/null; then
		groupadd --system headway
	fi
	if ! getent passwd headway >/dev/null; then
		useradd --system --gid headway --home-dir /var/lib/headway --no-create-home \
			--shell /usr/sbin/nologin --comment "Headway services" headway
	fi
fi
exit 0
