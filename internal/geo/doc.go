// Package geo has the small amount of spherical geometry Headway needs:
// distances and bearings between WGS 84 points, and polylines (trip shapes)
// measured in metres along their length, onto which a GPS position can be
// projected.
//
// Distances use a local equirectangular approximation per segment, which is
// well inside GPS error for segments of a few kilometres, and the haversine
// formula between arbitrary points.
package geo
