package server

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
)

// Trouble is something an operator should look at before passengers see
// it (/api/trouble, the dashboard, headway_trouble in /metrics).
type Trouble struct {
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"` // the vehicle, sign, route or feed
	Detail  string    `json:"detail"`
	Since   time.Time `json:"since,omitzero"`
}

// Kinds of trouble.
const (
	TroubleVehicleSilent  = "vehicle_silent"   // online, yet no fix for SilentAfter
	TroubleVehicleOffTrip = "vehicle_off_trip" // reporting, fixes off its route, on no trip
	TroubleSignGone       = "sign_disconnected"
	TroubleSignStale      = "sign_stale_cache" // connected, but its cache is old
	TroubleRouteAccuracy  = "route_inaccurate" // in band under AccuracyFloor over the last hour
	TroubleFeed           = "feed_failing"
	TroubleBroker         = "broker_disconnected"
)

// TroubleKinds lists every kind, the widest first (the order /api/trouble
// lists them in).
var TroubleKinds = []string{TroubleBroker, TroubleFeed, TroubleRouteAccuracy, TroubleSignGone, TroubleSignStale,
	TroubleVehicleSilent, TroubleVehicleOffTrip}

// Thresholds says when something is trouble; zero fields take defaults.
type Thresholds struct {
	SilentAfter   time.Duration // default 5 min
	SignCacheAge  time.Duration // default 5 min
	AccuracyFloor float64       // in-band percent over the last hour; default 70
	MinScored     int           // predictions scored in that hour before a route is judged; default 50
}

func (t Thresholds) withDefaults() Thresholds {
	if t.SilentAfter <= 0 {
		t.SilentAfter = 5 * time.Minute
	}
	if t.SignCacheAge <= 0 {
		t.SignCacheAge = 5 * time.Minute
	}
	if t.AccuracyFloor <= 0 {
		t.AccuracyFloor = 70
	}
	if t.MinScored <= 0 {
		t.MinScored = 50
	}
	return t
}

// troubles lists what is wrong now, worst kinds first.
func troubles(o Options, now time.Time) []Trouble {
	th := o.Thresholds.withDefaults()
	var out []Trouble
	if o.Health != nil {
		if _, d := o.Health(); d != nil {
			if c, ok := d["mqtt_connected"].(bool); ok && !c {
				out = append(out, Trouble{Kind: TroubleBroker, Subject: "mqtt", Detail: "the hub's MQTT client is not connected: no fixes come in"})
			}
		}
	}
	if o.Feeds != nil {
		for _, f := range o.Feeds() {
			st, ok := f.(interface{ FeedStatus() feedpoll.Status })
			if !ok || st.FeedStatus().OK {
				continue
			}
			s := st.FeedStatus()
			out = append(out, Trouble{Kind: TroubleFeed, Subject: s.Name, Detail: s.Error, Since: s.LastSuccess})
		}
	}
	for _, v := range o.Engine.Vehicles() {
		switch {
		case v.Online && !v.FixTime.IsZero() && now.Sub(v.FixTime) > th.SilentAfter:
			out = append(out, Trouble{Kind: TroubleVehicleSilent, Subject: v.ID, Since: v.FixTime,
				Detail: fmt.Sprintf("online, no fix for %v (its GPS or its agent?)", now.Sub(v.FixTime).Round(time.Minute))})
		case v.Online && v.Trip == "" && v.OffRoute > 0 && now.Sub(v.FixTime) <= th.SilentAfter:
			out = append(out, Trouble{Kind: TroubleVehicleOffTrip, Subject: v.ID, Since: v.FixTime,
				Detail: fmt.Sprintf("reporting on no trip, %d fixes off its route", v.OffRoute)})
		}
	}
	if o.Push != nil {
		for _, d := range o.Push.Displays() {
			switch {
			case !d.Connected:
				out = append(out, Trouble{Kind: TroubleSignGone, Subject: d.ID, Since: d.LastHeartbeat,
					Detail: "not connected to this hub (on another, or its network or power is down)"})
			case d.CacheAgeS > th.SignCacheAge.Seconds():
				out = append(out, Trouble{Kind: TroubleSignStale, Subject: d.ID,
					Detail: fmt.Sprintf("connected, its cache %v old", (time.Duration(d.CacheAgeS) * time.Second).Round(time.Second))})
			}
		}
	}
	for _, r := range o.Engine.Accuracy(now).Routes {
		h := r.Windows["1h"]
		if h.Scored >= th.MinScored && h.InBandPct < th.AccuracyFloor {
			out = append(out, Trouble{Kind: TroubleRouteAccuracy, Subject: r.Route,
				Detail: fmt.Sprintf("%.1f%% of %d predictions in band over the last hour (floor %.0f%%)", h.InBandPct, h.Scored, th.AccuracyFloor)})
		}
	}
	slices.SortStableFunc(out, func(a, b Trouble) int {
		return slices.Index(TroubleKinds, a.Kind) - slices.Index(TroubleKinds, b.Kind)
	})
	return out
}

// TroubleCollector exports headway_trouble{kind}: how many of each kind
// there are now, for alerting rules (configs/prometheus-rules.yml).
func TroubleCollector(o Options) prometheus.Collector {
	if o.Now == nil {
		o.Now = time.Now
	}
	return troubleCollector{o}
}

type troubleCollector struct{ o Options }

var troubleDesc = prometheus.NewDesc("headway_trouble",
	"Things an operator should look at now, by kind (see /api/trouble): vehicle_silent, vehicle_off_trip, sign_disconnected, sign_stale_cache, route_inaccurate, feed_failing, broker_disconnected.",
	[]string{"kind"}, nil)

func (troubleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- troubleDesc }

func (c troubleCollector) Collect(ch chan<- prometheus.Metric) {
	n := map[string]int{}
	for _, t := range troubles(c.o, c.o.Now()) {
		n[t.Kind]++
	}
	for _, k := range TroubleKinds {
		ch <- prometheus.MustNewConstMetric(troubleDesc, prometheus.GaugeValue, float64(n[k]), k)
	}
}
