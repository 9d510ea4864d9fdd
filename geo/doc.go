// Package geo holds the small amount of geometry Sety needs: a [longitude,
// latitude] point in GeoJSON order, validation of coordinates that arrive from
// outside, and great-circle distance.
//
// It is a leaf package: it imports nothing from Sety and nothing outside the
// standard library, so every domain and adapter may use it.
package geo
