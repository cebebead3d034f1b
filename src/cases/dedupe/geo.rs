//! Map points and the distance between them.
//!
//! Points are WGS-84 latitude and longitude held as **integer micro-degrees** (1e-6°, about
//! 0.11 m of latitude): integers store exactly in any database, compare and hash without
//! surprises, and are far finer than a phone's GPS fix. Clients that speak degrees as `f64`
//! (Open311's `lat`/`long`, the browser's geolocation API) go through
//! [`GeoPoint::from_degrees`], which checks the ranges and rounds to the nearest micro-degree.
//!
//! Distances use the haversine formula on a sphere of the mean Earth radius. On the scale
//! that matters here (tens of metres) its error against the WGS-84 ellipsoid is under 0.5 %,
//! i.e. well under a metre, and far below GPS noise. Points are not reprojected: a GCJ-02
//! ("Mars") point from a Chinese map SDK must be converted to WGS-84 before it gets here,
//! or compared only with points of the same datum (the offset is roughly the same for two
//! nearby points, so distances between two GCJ-02 points are still right to a metre).

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 point in integer micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GeoPoint {
    /// Latitude, micro-degrees, −90e6..=90e6 (north positive).
    pub lat_e6: i32,
    /// Longitude, micro-degrees, −180e6..=180e6 (east positive).
    pub lng_e6: i32,
}

impl GeoPoint {
    /// A point from micro-degrees, `None` when out of range.
    pub fn new(lat_e6: i32, lng_e6: i32) -> Option<GeoPoint> {
        let ok = (-90_000_000..=90_000_000).contains(&lat_e6)
            && (-180_000_000..=180_000_000).contains(&lng_e6);
        ok.then_some(GeoPoint { lat_e6, lng_e6 })
    }

    /// A point from degrees, rounded to the nearest micro-degree; `None` when not finite or
    /// out of range.
    pub fn from_degrees(lat: f64, lng: f64) -> Option<GeoPoint> {
        if !lat.is_finite() || !lng.is_finite() {
            return None;
        }
        let (lat_e6, lng_e6) = ((lat * 1e6).round(), (lng * 1e6).round());
        if lat_e6.abs() > 90e6 || lng_e6.abs() > 180e6 {
            return None;
        }
        GeoPoint::new(lat_e6 as i32, lng_e6 as i32)
    }

    pub fn lat(self) -> f64 {
        f64::from(self.lat_e6) / 1e6
    }

    pub fn lng(self) -> f64 {
        f64::from(self.lng_e6) / 1e6
    }
}

/// Great-circle distance between two points, metres (haversine).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (phi1, phi2) = (a.lat().to_radians(), b.lat().to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (b.lng() - a.lng()).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    // `min` guards asin against rounding just above 1 for antipodal points.
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Distance rounded to whole metres: what staff read in a reason ("相距 35 米") and what the
/// distance rule compares, so that the label and the decision always agree.
pub fn whole_metres(a: GeoPoint, b: GeoPoint) -> u32 {
    let d = distance_m(a, b).round();
    if d >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        d as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checks_ranges() {
        assert!(GeoPoint::new(90_000_000, 180_000_000).is_some());
        assert!(GeoPoint::new(-90_000_000, -180_000_000).is_some());
        assert!(GeoPoint::new(90_000_001, 0).is_none());
        assert!(GeoPoint::new(0, -180_000_001).is_none());
        assert_eq!(
            GeoPoint::from_degrees(31.2304, 121.4737),
            Some(GeoPoint {
                lat_e6: 31_230_400,
                lng_e6: 121_473_700
            })
        );
        assert!(GeoPoint::from_degrees(f64::NAN, 0.0).is_none());
        assert!(GeoPoint::from_degrees(0.0, f64::INFINITY).is_none());
        assert!(GeoPoint::from_degrees(91.0, 0.0).is_none());
        assert!(GeoPoint::from_degrees(0.0, 1e12).is_none());
    }

    #[test]
    fn known_distances() {
        let p = GeoPoint::new(31_000_000, 121_000_000).unwrap();
        assert_eq!(distance_m(p, p), 0.0);
        // One degree of latitude on the mean sphere: 111 195 m.
        let q = GeoPoint::new(32_000_000, 121_000_000).unwrap();
        assert!((distance_m(p, q) - 111_194.9).abs() < 1.0);
        // One micro-degree of latitude ≈ 0.11 m.
        let r = GeoPoint::new(31_000_001, 121_000_000).unwrap();
        assert!((distance_m(p, r) - 0.111).abs() < 0.001);
        // East-west at 31.23°N (central Shanghai): 0.01° of longitude = 951 m.
        let a = GeoPoint::from_degrees(31.23, 121.47).unwrap();
        let b = GeoPoint::from_degrees(31.23, 121.48).unwrap();
        assert!(
            (distance_m(a, b) - 951.0).abs() < 1.0,
            "{}",
            distance_m(a, b)
        );
        // Antipodes: half the circumference, no NaN.
        let n = GeoPoint::new(90_000_000, 0).unwrap();
        let s = GeoPoint::new(-90_000_000, 0).unwrap();
        assert!((distance_m(n, s) - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
        assert_eq!(whole_metres(p, r), 0);
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_non_negative(
            a in -90_000_000i32..=90_000_000, b in -180_000_000i32..=180_000_000,
            c in -90_000_000i32..=90_000_000, d in -180_000_000i32..=180_000_000,
        ) {
            let p = GeoPoint::new(a, b).unwrap();
            let q = GeoPoint::new(c, d).unwrap();
            let (pq, qp) = (distance_m(p, q), distance_m(q, p));
            prop_assert!(pq >= 0.0 && pq.is_finite());
            prop_assert!((pq - qp).abs() < 1e-6);
            prop_assert!(pq <= std::f64::consts::PI * EARTH_RADIUS_M + 1.0);
        }
    }
}
