//! Trend charts and colour bands drawn on the server as inline SVG (no script, no library,
//! and only presentation attributes, which the page's content security policy allows).
//! Pure: values in, markup out.

use maud::{html, Markup};

use super::facts::MeasureKind;

/// One line: its name, colour and a value (in tenths) per label; `None` leaves a gap.
pub struct Line {
    pub name: String,
    pub colour: &'static str,
    pub values: Vec<Option<i64>>,
}

/// Distinct colours that stay apart for the common colour-vision deficiencies.
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#555555",
];

const W: i64 = 640;
const H: i64 = 240;
const LEFT: i64 = 44;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const BOTTOM: i64 = 28;

/// A line chart from 0 to `max` (tenths); `unit` follows the axis numbers ("%", "h").
pub fn line_chart(title: &str, labels: &[String], lines: &[Line], max: i64, unit: &str) -> Markup {
    let max = max.max(1);
    let n = labels.len().max(1) as i64;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| -> i64 {
        if n == 1 {
            LEFT + plot_w / 2
        } else {
            LEFT + plot_w * i as i64 / (n - 1)
        }
    };
    let y = |v: i64| -> i64 { TOP + plot_h - plot_h * v.clamp(0, max) / max };
    let ticks: Vec<i64> = (0..=4).map(|k| max * k / 4).collect();
    // Label every month when they fit, else every second or third.
    let every = (labels.len() / 12 + 1).max(1);
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } width="100%" role="img" aria-label=(title)
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for t in &ticks {
                line x1=(LEFT) x2=(W - RIGHT) y1=(y(*t)) y2=(y(*t)) stroke="#e0e0e0" stroke-width="1" {}
                text x=(LEFT - 4) y=(y(*t) + 4) text-anchor="end" font-size="11" fill="#666" {
                    (t / 10) (unit)
                }
            }
            @for (i, l) in labels.iter().enumerate() {
                @if i % every == 0 {
                    text x=(x(i)) y=(H - 8) text-anchor="middle" font-size="11" fill="#666" { (l) }
                }
            }
            @for line in lines {
                @for seg in segments(&line.values) {
                    @if seg.len() > 1 {
                        polyline fill="none" stroke=(line.colour) stroke-width="2"
                            points=(seg.iter().map(|(i, v)| format!("{},{}", x(*i), y(*v))).collect::<Vec<_>>().join(" ")) {}
                    }
                    @for (i, v) in &seg {
                        circle cx=(x(*i)) cy=(y(*v)) r="3" fill=(line.colour) {
                            title { (line.name) " " (labels.get(*i).map(String::as_str).unwrap_or("")) ": " (v / 10) "." (v % 10) (unit) }
                        }
                    }
                }
            }
        }
        ul.legend {
            @for line in lines {
                li { (swatch(line.colour)) " " (line.name) }
            }
        }
    }
}

/// Runs of consecutive known values, with their indexes.
pub fn segments(values: &[Option<i64>]) -> Vec<Vec<(usize, i64)>> {
    let mut out: Vec<Vec<(usize, i64)>> = Vec::new();
    let mut run = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((i, *v)),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// A small coloured bar (decorative: the text beside it says the same).
pub fn swatch(colour: &str) -> Markup {
    html! {
        svg width="14" height="10" viewBox="0 0 14 10" aria-hidden="true" focusable="false" {
            rect width="14" height="10" rx="2" fill=(colour) {}
        }
    }
}

/// A full-width colour bar for a tile.
pub fn bar(colour: &str) -> Markup {
    html! {
        svg width="100%" height="8" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false" {
            rect width="100" height="8" fill=(colour) {}
        }
    }
}

/// The bands a tile is coloured by: 0 good, 1 fair, 2 poor, 3 bad.
pub fn band(kind: MeasureKind, tenths: i64) -> usize {
    // Thresholds in tenths: of a percent for rates, of an hour for the handling time.
    let (limits, higher_better): ([i64; 3], bool) = match kind {
        MeasureKind::Rework => ([50, 100, 200], false),
        MeasureKind::HandlingTime => ([240, 720, 1200], false),
        _ => ([950, 850, 700], true),
    };
    let mut b = 3;
    for (i, l) in limits.iter().enumerate() {
        let ok = if higher_better {
            tenths >= *l
        } else {
            tenths <= *l
        };
        if ok {
            b = i;
            break;
        }
    }
    b
}

pub const BAND_COLOURS: [&str; 4] = ["#1a9850", "#91cf60", "#fdae61", "#d73027"];
pub const NO_DATA_COLOUR: &str = "#bdbdbd";

/// The limits of each band in words, for the legend.
pub fn band_limits(kind: MeasureKind) -> [String; 4] {
    match kind {
        MeasureKind::Rework => [
            "≤ 5%".into(),
            "≤ 10%".into(),
            "≤ 20%".into(),
            "> 20%".into(),
        ],
        MeasureKind::HandlingTime => [
            "≤ 24 h".into(),
            "≤ 72 h".into(),
            "≤ 120 h".into(),
            "> 120 h".into(),
        ],
        _ => [
            "≥ 95%".into(),
            "≥ 85%".into(),
            "≥ 70%".into(),
            "< 70%".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_a_line() {
        let s = segments(&[Some(1), Some(2), None, Some(4), None, None]);
        assert_eq!(s, vec![vec![(0, 1), (1, 2)], vec![(3, 4)]]);
        assert!(segments(&[None, None]).is_empty());
    }

    #[test]
    fn bands_follow_the_direction_of_the_measure() {
        assert_eq!(band(MeasureKind::Response, 1000), 0);
        assert_eq!(band(MeasureKind::Response, 950), 0);
        assert_eq!(band(MeasureKind::Response, 949), 1);
        assert_eq!(band(MeasureKind::Response, 700), 2);
        assert_eq!(band(MeasureKind::Response, 699), 3);
        assert_eq!(band(MeasureKind::Rework, 0), 0);
        assert_eq!(band(MeasureKind::Rework, 101), 2);
        assert_eq!(band(MeasureKind::Rework, 201), 3);
        assert_eq!(band(MeasureKind::HandlingTime, 240), 0);
        assert_eq!(band(MeasureKind::HandlingTime, 1500), 3);
    }

    #[test]
    fn the_chart_draws_a_line_per_measure_with_its_points() {
        let labels = vec!["1月".to_string(), "2月".into(), "3月".into()];
        let lines = vec![Line {
            name: "响应率".into(),
            colour: PALETTE[0],
            values: vec![Some(1000), None, Some(500)],
        }];
        let svg = line_chart("趋势", &labels, &lines, 1000, "%").into_string();
        assert!(svg.contains("<svg"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("<polyline").count(), 0, "no run of two points");
        assert!(svg.contains("响应率 3月: 50.0%"));
        assert!(!svg.contains("NaN"));
    }
}
