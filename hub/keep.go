package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/state"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// keeper keeps the hub's state file (hub.yaml `state:`): what the arrival
// model has learned, and which of each vehicle's fixes the hub has seen.
type keeper struct {
	path  string
	model *predict.Learned
	eng   *engine.Engine
	log   *slog.Logger
	// partitioned: the hub is one of a partitioned cluster, whose other
	// hubs tracked its vehicles while it was down; what it saw of their
	// seqs then is out of date, and JetStream keeps what it has not
	// applied. Only the model is loaded.
	partitioned bool
}

// stateFile is the state file's content.
type stateFile struct {
	Version  int                      `json:"version"`
	Saved    time.Time                `json:"saved"`
	Model    json.RawMessage          `json:"model"`
	Vehicles map[string]tracker.Saved `json:"vehicles"`
}

const stateVersion = 1

// load restores what the file holds, before the engine runs. A file that
// cannot be read, or a part of it that is refused, is logged and that part
// starts afresh: a damaged file must not keep the hub down.
func (k *keeper) load() {
	b, ok, err := state.Load(k.path)
	switch {
	case err != nil:
		k.log.Warn("state not loaded: starting afresh", "err", err)
		return
	case !ok:
		k.log.Info("no state saved yet: starting afresh")
		return
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		k.log.Warn("state not loaded: starting afresh", "err", fmt.Errorf("%s: %w", k.path, err))
		return
	}
	if f.Version != stateVersion {
		k.log.Warn("state not loaded: starting afresh", "err", fmt.Errorf("%s: version %d, want %d", k.path, f.Version, stateVersion))
		return
	}
	if err := k.model.Restore(f.Model); err != nil {
		k.log.Warn("learned model not loaded: starting afresh", "err", err)
	} else {
		k.log.Info("learned model loaded", "saved", f.Saved)
	}
	if k.partitioned {
		k.log.Info("vehicles' seqs not loaded: the cluster's other hubs tracked them meanwhile", "vehicles", len(f.Vehicles))
		return
	}
	if err := k.eng.RestoreVehicles(f.Vehicles); err != nil {
		k.log.Warn("vehicles' seqs not loaded", "err", err)
	} else {
		k.log.Info("vehicles' seqs loaded", "vehicles", len(f.Vehicles))
	}
}

// save writes the state file; it runs in the engine's goroutine.
func (k *keeper) save(now time.Time) {
	m, err := k.model.Snapshot(now)
	if err != nil {
		k.log.Warn("state not saved", "err", err)
		return
	}
	b, err := json.Marshal(stateFile{Version: stateVersion, Saved: now.UTC(), Model: m, Vehicles: k.eng.SavedVehicles()})
	if err == nil {
		err = state.Save(k.path, b)
	}
	if err != nil {
		k.log.Warn("state not saved", "err", err)
		return
	}
	k.log.Debug("state saved", "bytes", len(b))
}
