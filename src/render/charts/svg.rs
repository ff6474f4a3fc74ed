//! A tiny SVG writer: escaped text, numbers written the same way every time, and the
//! accessible wrapper (`role="img"`, `<title>`, `<desc>`) every chart gets.
//!
//! Colours are never written here: every shape gets a class, and the theme's
//! `charts.css` colours it with CSS variables (so light, dark and print all work).

use std::fmt::Write;

/// `&`, `<`, `>`, `"` and `'` escaped, for text and attribute values alike.
pub fn esc(s: &str) -> String {
    crate::html::escape(s)
}

/// A coordinate with at most two decimals, no trailing zeros: `12`, `3.5`, `0.25`.
pub fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    // Hundredths as an integer: `format!("{:.2}")` takes the exact (slow) float path,
    // and charts print thousands of coordinates per page.
    let hundredths = (v * 100.0).round();
    if hundredths.abs() >= 1e15 {
        return format!("{v:.0}");
    }
    let h = hundredths as i64;
    let (whole, frac) = (h.unsigned_abs() / 100, h.unsigned_abs() % 100);
    let sign = if h < 0 { "-" } else { "" };
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// An SVG document being written.
pub struct Svg {
    out: String,
}

impl Svg {
    /// An `<svg>` of `width` x `height` user units, scaled by CSS (`width: 100%`) but
    /// never below its own size, so its text stays as large as drawn (at least 11 px) on
    /// a phone, where the chart's box scrolls instead; nor past half as large again.
    /// `id` prefixes the ids of the title and description; `title` names the chart and
    /// `desc` says what it shows in words (both read by screen readers).
    pub fn new(id: &str, class: &str, width: f64, height: f64, title: &str, desc: &str) -> Svg {
        let mut out = String::with_capacity(2048);
        let _ = write!(
            out,
            r#"<svg class="chart-svg {}" viewBox="0 0 {} {}" style="min-width:{}px;max-width:{}px" role="img" aria-labelledby="{id}-t {id}-d" focusable="false" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
            esc(class),
            num(width),
            num(height),
            num(width),
            num(width * 1.5),
            esc(title),
            esc(desc)
        );
        Svg { out }
    }

    /// A decorative SVG (an axis, a bar next to text that already says everything).
    pub fn decorative(class: &str, width: f64, height: f64) -> Svg {
        let mut out = String::with_capacity(1024);
        let _ = write!(
            out,
            r#"<svg class="chart-svg {}" viewBox="0 0 {} {}" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">"#,
            esc(class),
            num(width),
            num(height)
        );
        Svg { out }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str) -> &mut Self {
        let _ = write!(
            self.out,
            r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>"#,
            esc(class),
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
        self
    }

    /// A rectangle with a hover tooltip (a `<title>` child).
    pub fn rect_titled(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, tip: &str) -> &mut Self {
        let _ = write!(
            self.out,
            r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
            esc(class),
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            esc(tip)
        );
        self
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) -> &mut Self {
        let _ = write!(
            self.out,
            r#"<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
            esc(class),
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
        self
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, class: &str) -> &mut Self {
        let _ =
            write!(self.out, r#"<circle class="{}" cx="{}" cy="{}" r="{}"/>"#, esc(class), num(cx), num(cy), num(r));
        self
    }

    /// A polyline or polygon through points.
    pub fn path(&mut self, points: &[(f64, f64)], closed: bool, class: &str) -> &mut Self {
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, num(*x), num(*y));
        }
        if closed {
            d.push('Z');
        }
        let _ = write!(self.out, r#"<path class="{}" d="{d}"/>"#, esc(class));
        self
    }

    /// Text; `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) -> &mut Self {
        let _ = write!(
            self.out,
            r#"<text class="{}" x="{}" y="{}" text-anchor="{}">{}</text>"#,
            esc(class),
            num(x),
            num(y),
            esc(anchor),
            esc(text)
        );
        self
    }

    /// Raw markup written by this module (gradients, patterns).
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A marker shape for an incident event, centred on (x, y): each event has its own
/// shape, so the chart does not rely on colour alone.
pub fn marker(svg: &mut Svg, key: &str, x: f64, y: f64, r: f64) {
    let class = format!("mk mk--{key}");
    match key {
        "detected" => {
            svg.circle(x, y, r, &class);
        }
        "contained" => {
            svg.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7, &class);
        }
        "disclosed" => {
            svg.path(&[(x, y - r * 1.15), (x + r * 1.15, y), (x, y + r * 1.15), (x - r * 1.15, y)], true, &class);
        }
        "notified" => {
            svg.path(&[(x, y - r * 1.1), (x + r * 1.1, y + r * 0.9), (x - r * 1.1, y + r * 0.9)], true, &class);
        }
        "started" => {
            svg.path(&[(x - r * 0.4, y - r), (x + r * 0.8, y), (x - r * 0.4, y + r)], true, &class);
        }
        _ => {
            svg.circle(x, y, r * 0.8, &class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(3.5), "3.5");
        assert_eq!(num(0.254), "0.25");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(-0.05), "-0.05");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(7.07), "7.07");
    }

    #[test]
    fn text_is_escaped_and_labelled() {
        let mut s = Svg::new("c1", "bars", 100.0, 20.0, "A <b> & \"c\"", "desc");
        s.text(1.0, 2.0, "start", "lbl", "<script>");
        let out = s.finish();
        assert!(out.contains(r#"role="img" aria-labelledby="c1-t c1-d""#));
        assert!(out.contains("<title id=\"c1-t\">A &lt;b&gt; &amp; &quot;c&quot;</title>"));
        assert!(out.contains("&lt;script&gt;"));
        assert!(!out.contains("<script>"));
        assert!(out.ends_with("</svg>"));
    }
}
