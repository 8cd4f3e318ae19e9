package feedpoll

import (
	"errors"
	"fmt"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"
)

// ErrEmpty is a zero-length document: a producer that wrote nothing.
var ErrEmpty = errors.New("empty document")

// FeedMessage reads a GTFS-Realtime document's envelope, what naming the
// feed kind in errors ("gtfs-rt alerts"): an empty document, one that is
// not a FeedMessage, or of a gtfs_realtime_version other than 1.0 or 2.0
// is refused. Its entities are the caller's.
func FeedMessage(b []byte, what string) (*rtpb.FeedMessage, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w", what, ErrEmpty)
	}
	msg := &rtpb.FeedMessage{}
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, fmt.Errorf("%s: not a FeedMessage (%d bytes): %w", what, len(b), err)
	}
	if v := msg.GetHeader().GetGtfsRealtimeVersion(); v != "1.0" && v != "2.0" {
		return nil, fmt.Errorf("%s: header.gtfs_realtime_version %q: want 1.0 or 2.0", what, v)
	}
	return msg, nil
}

// UnixTime converts a feed's unix seconds, clamping the absurd (a uint64
// far past year 9999 would overflow time arithmetic downstream).
func UnixTime(ts uint64) time.Time {
	const maxUnix = 253402300799 // 9999-12-31T23:59:59Z
	return time.Unix(int64(min(ts, maxUnix)), 0).UTC()
}
