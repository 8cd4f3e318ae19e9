#!/usr/bin/env bash
# make package: Debian packages of each role for amd64, arm64 and armhf,
# built with nfpm (github.com/goreleaser/nfpm, pinned in packaging/go.mod)
# into dist/. VERSION is the Debian version (default: from git).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/dist}
if [ -z "${VERSION:-}" ]; then
	if tag=$(git describe --tags --exact-match 2>/dev/null); then
		VERSION=${tag#v}
	else
		# No release tag: 0.0.0 and the commit, ordered by its time.
		VERSION="0.0.0+git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S).$(git rev-parse --short=10 HEAD)"
	fi
fi
case $VERSION in [0-9]*) ;; *) echo "package: VERSION $VERSION must start with a digit (Debian)" >&2; exit 1 ;; esac
mkdir -p "$out"
rm -f "$out"/headway-*.deb # only this version's packages in the end
nfpm=$out/.nfpm
(cd packaging && go build -o "$nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm)

# The packaged configs are the commented ones in configs/, with the paths a
# device has: state in /var/lib/headway, the demo feed where the package
# puts it (the agency replaces it with its own).
stage_configs() {
	local etc=$1
	sed -e 's|^gtfs: configs/demo-feed$|gtfs: /usr/share/headway-hub/demo-feed   # the demo feed: put the agency'"'"'s GTFS here|' \
		-e 's|^state: ""$|state: /var/lib/headway/hub-model.json|' \
		-e 's|^  file: ""$|  file: /var/lib/headway/operator-alerts.json|' \
		configs/hub.yaml >"$etc/hub.yaml"
	sed -e 's|^cache: ./run/sign.db$|cache: /var/lib/headway/sign.db|' configs/station.yaml >"$etc/station.yaml"
	cp configs/vehicle.yaml "$etc/vehicle.yaml"
	grep -q '^gtfs: /usr/share/headway-hub/demo-feed' "$etc/hub.yaml"
	grep -q '^state: /var/lib/headway/' "$etc/hub.yaml"
	grep -q '^cache: /var/lib/headway/sign.db' "$etc/station.yaml"
	grep -q 'path: /var/lib/headway/outbox.db' "$etc/vehicle.yaml"
}

for target in amd64 arm64 armhf; do
	case $target in
	amd64) goarch=amd64 goarm= nfpmarch=amd64 ;;
	arm64) goarch=arm64 goarm= nfpmarch=arm64 ;;
	# Raspberry Pi OS's armhf runs on ARMv6 (Pi Zero, Pi 1): GOARM=6 runs on both.
	armhf) goarch=arm goarm=6 nfpmarch=arm7 ;;
	esac
	stage=$out/stage-$target
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,etc,systemd,scripts,sysusers,share,doc}
	for b in agent hub firmware-sim; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm go build -trimpath \
			-ldflags "-s -w -X main.version=$VERSION" -o "$stage/bin/$b" "./$b"
	done
	stage_configs "$stage/etc"
	cp packaging/files/default-headway-kiosk "$stage/etc/default-headway-kiosk"
	cp packaging/systemd/*.service "$stage/systemd/"
	cp packaging/files/headway.sysusers "$stage/sysusers/headway.conf"
	cp -r configs/demo-feed "$stage/share/demo-feed"
	cp configs/prometheus-rules.yml "$stage/share/"
	cp README.md "$stage/doc/README.md"
	cp packaging/scripts/preinst.sh "$stage/scripts/"
	for role in hub vehicle station; do
		for s in postinst prerm postrm; do
			sed "s/@UNIT@/headway-$role/" "packaging/scripts/$s.sh" >"$stage/scripts/$s-$role.sh"
		done
	done
	for pkg in hub agent vehicle station firmware-sim; do
		sed -e "s/\${VERSION}/$VERSION/g" -e "s/\${ARCH}/$nfpmarch/g" "packaging/nfpm/$pkg.yaml" >"$stage/nfpm-$pkg.yaml"
		(cd "$stage" && "$nfpm" package --config "nfpm-$pkg.yaml" --packager deb --target "$out/") >/dev/null
	done
	rm -rf "$stage"
done
rm -f "$nfpm"
ls -1 "$out"/*.deb
