package vehicle

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/wire"
)

// handleFix gates f, commits it to the outbox and, when connected,
// publishes it as the live position.
func (a *Agent) handleFix(ctx context.Context, wg *sync.WaitGroup, f nmea.Fix) {
	now := a.opts.Now()
	if reason := a.gate(f, now); reason != "" {
		a.m.fixes.WithLabelValues(reason).Inc()
		return
	}
	p := wire.Position{
		V: wire.Version, Vehicle: a.cfg.Vehicle, Time: f.Time.UTC(),
		Lat: f.Lat, Lon: f.Lon, Mode: int(f.Mode), Trip: a.cfg.Trip,
	}
	if !math.IsNaN(f.Speed) {
		p.Speed = wire.Float(f.Speed)
	}
	if !math.IsNaN(f.Track) {
		p.Track = wire.Float(math.Mod(math.Mod(f.Track, 360)+360, 360))
	}
	if !math.IsNaN(f.HDOP) {
		p.HDOP = wire.Float(f.HDOP)
	}
	if f.Sats >= 0 {
		p.Sats = wire.Int(f.Sats)
	}
	p.Seq = 1 // validated before a seq is given
	if err := p.Validate(); err != nil {
		a.m.fixes.WithLabelValues("invalid").Inc()
		a.log.Warn("fix not publishable", "err", err)
		return
	}
	stored, err := a.box.Append(p)
	if err != nil {
		// Without a seq on disk the fix cannot be sent safely; say so loudly
		// (a failing SD card) rather than pretend.
		a.m.outboxErrors.Inc()
		a.m.fixes.WithLabelValues("outbox_error").Inc()
		a.log.Error("outbox append failed; fix lost", "err", err)
		return
	}
	a.m.fixes.WithLabelValues("accepted").Inc()
	a.lastFix.Store(now.UnixNano())
	a.last = &stored
	a.noteBox()
	if a.client.IsConnectionOpen() && !a.needLive {
		a.send(ctx, wg, stored, false)
	}
}

// send publishes p; the result comes back to Run through a.acks.
func (a *Agent) send(ctx context.Context, wg *sync.WaitGroup, p wire.Position, backfill bool) {
	p.Backfill = backfill
	b, err := p.Encode()
	if err != nil {
		a.log.Error("encode stored fix", "seq", p.Seq, "err", err)
		return
	}
	a.inflight[p.Seq] = true
	start := time.Now()
	t := a.client.Publish(a.topics.Position(a.cfg.Vehicle), 1, false, b)
	a.m.bytes.Add(float64(len(b)))
	if backfill {
		a.m.backfillSent.Inc()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-t.Done():
		case <-ctx.Done():
			return
		}
		select {
		case a.acks <- ack{seq: p.Seq, err: t.Error(), latency: time.Since(start)}:
		case <-ctx.Done():
		}
	}()
}

// acked removes an acknowledged fix from the outbox.
func (a *Agent) acked(k ack) {
	delete(a.inflight, k.seq)
	if k.err != nil {
		a.m.pubErrors.Inc()
		a.log.Warn("publish failed; the fix stays in the outbox", "seq", k.seq, "err", k.err)
		return
	}
	a.m.published.Inc()
	a.m.latency.Observe(k.latency.Seconds())
	if err := a.box.Ack(k.seq); err != nil {
		a.m.outboxErrors.Inc()
		a.log.Error("outbox ack", "seq", k.seq, "err", err)
	}
	a.noteBox()
}

// drain sends what the outbox holds: after a (re)connect the newest fix
// first, as the live position, then the backlog oldest first, marked
// backfill, at most BackfillRate a second and BackfillInflight at a time.
func (a *Agent) drain(ctx context.Context, wg *sync.WaitGroup) {
	if !a.client.IsConnectionOpen() || a.box.Len() == 0 {
		a.needLive = a.needLive || !a.client.IsConnectionOpen()
		return
	}
	if a.needLive {
		a.needLive = false
		if p, ok, err := a.box.Newest(); err == nil && ok && !a.inflight[p.Seq] {
			a.send(ctx, wg, p, false)
		}
	}
	now := time.Now()
	rate := a.cfg.Outbox.BackfillRate
	if a.refilled.IsZero() {
		a.refilled = now
	}
	a.tokens = math.Min(rate, a.tokens+now.Sub(a.refilled).Seconds()*rate)
	a.refilled = now
	room := a.cfg.Outbox.BackfillInflight - len(a.inflight)
	n := int(math.Min(a.tokens, float64(room)))
	if n <= 0 {
		return
	}
	backlog, err := a.box.Oldest(n, func(seq uint64) bool { return a.inflight[seq] })
	if err != nil {
		a.m.outboxErrors.Inc()
		a.log.Error("outbox read", "err", err)
		return
	}
	for _, p := range backlog {
		a.send(ctx, wg, p, true)
		a.tokens--
	}
}
