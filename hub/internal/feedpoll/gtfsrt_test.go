package feedpoll

import (
	"errors"
	"strings"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"
)

func TestFeedMessage(t *testing.T) {
	doc := func(version string) []byte {
		b, err := proto.Marshal(&rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String(version)}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, v := range []string{"1.0", "2.0"} {
		if _, err := FeedMessage(doc(v), "gtfs-rt alerts"); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":        {nil, "gtfs-rt alerts: empty document"},
		"not protobuf": {[]byte("<html>not found</html>"), "gtfs-rt alerts: not a FeedMessage (22 bytes)"},
		"version 3.0":  {doc("3.0"), `gtfs-rt alerts: header.gtfs_realtime_version "3.0": want 1.0 or 2.0`},
	} {
		_, err := FeedMessage(c.b, "gtfs-rt alerts")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if name == "empty" && !errors.Is(err, ErrEmpty) {
			t.Errorf("empty: %v is not ErrEmpty", err)
		}
	}
}

func TestUnixTime(t *testing.T) {
	if got := UnixTime(1700000000); !got.Equal(time.Unix(1700000000, 0)) || got.Location() != time.UTC {
		t.Errorf("UnixTime(1700000000) = %v", got)
	}
	if got := UnixTime(1 << 63); got.Year() != 9999 {
		t.Errorf("UnixTime(2^63) = %v, want the end of year 9999", got)
	}
}
