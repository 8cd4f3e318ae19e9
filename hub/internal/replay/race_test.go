//go:build race

package replay

// raceDetector is true under -race: the replay is single-threaded, so the
// race detector learns nothing from the whole 5-hour WMATA day that an
// hour of it does not show, at ten times the cost. `make test` replays
// the whole day once more without it, for the accuracy floors.
const raceDetector = true
