// Package gtfs reads a static GTFS schedule (a .zip file or a directory) into
// memory, checked and ready for arrival prediction and station timetables.
//
// Load resolves every reference (trip to route and service, stop time to trip
// and stop, trip to shape), sorts stop times by stop_sequence, fills in the
// times of non-timepoint stops by interpolating along the path, and places
// every stop time at a distance in metres along its trip's path: the shape
// when the trip has one, otherwise straight lines between its stops.
//
// Times in a Feed are seconds since the start of a service day, which GTFS
// defines as noon minus 12 hours in the agency's time zone (so that it is
// right on the days daylight saving time changes); they may exceed 24 hours
// for trips that run past midnight. Feed.ServiceDayStart turns a service date
// into that instant, and Trip.ArrivalAt and Trip.DepartureAt give absolute
// times.
//
// Trips of frequencies.txt are expanded at load: each becomes a template in
// Feed.Templates, and each of its runs a Trip in Feed.Trips (and in
// Feed.Calls) with ID "<trip_id>@HH:MM:SS", its first departure (RunID), so
// that boards and tracking see every departure with no special case. A run's
// Template and Frequency say where it came from, for GTFS-Realtime, which
// names such a run by trip_id and start_time.
//
// Problems that make a feed unusable are errors naming the file, line and
// field; problems the reader can work around are kept in Feed.Warnings.
// Files must be UTF-8: UTF-16, invalid UTF-8 and NUL bytes are errors; a
// byte order mark, mixed line ends and rows shorter than the header are
// warnings.
package gtfs
