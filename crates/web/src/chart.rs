//! A stacked bar chart as inline SVG, built on the server: the console's
//! attempts per hour by outcome read without JavaScript, and every bar
//! segment carries a `<title>` with its count (a tooltip, and text for
//! screen readers). Pure: data in, markup out.

use std::fmt::Write;

/// One stacked series: a label for the legend, its colour, one count per bar.
pub struct Series {
    pub label: String,
    pub colour: &'static str,
    pub counts: Vec<u64>,
}

pub struct BarChart {
    /// The chart's accessible name (the SVG's own `<title>`).
    pub title: String,
    /// Under the bars; only every `label_every`-th is drawn.
    pub bar_labels: Vec<String>,
    /// The bar's full name for tooltips ("2026-09-01 13:00 UTC").
    pub bar_titles: Vec<String>,
    pub label_every: usize,
    pub series: Vec<Series>,
    /// Shown instead of bars when every count is zero.
    pub empty_text: String,
    /// "total" in the bar tooltips and the legend.
    pub total_label: String,
}

const WIDTH: f64 = 660.0;
const PLOT_TOP: f64 = 10.0;
const PLOT_HEIGHT: f64 = 180.0;
const PLOT_LEFT: f64 = 40.0;
const PLOT_RIGHT: f64 = 8.0;
const AXIS_LABELS: f64 = 22.0;
const LEGEND_COLUMNS: usize = 3;
const LEGEND_ROW: f64 = 18.0;

/// A distinct colour per link outcome (kept stable so that operators learn
/// them), and a fallback cycle for anything else.
pub fn outcome_colour(outcome: &str, index: usize) -> &'static str {
    match outcome {
        "logged_in" => "#1a7f37",
        "linked" => "#56c271",
        "snils_missing" => "#d4a017",
        "no_account" => "#8250df",
        "name_mismatch" => "#e8590c",
        "ambiguous" => "#bf3989",
        "linked_elsewhere" => "#0d4cd3",
        "tier_too_low" => "#6e7781",
        "region_disabled" => "#8c564b",
        "account_blocked" => "#fd8d3c",
        "idp_error" => "#cf222e",
        "rejected" => "#1b1f24",
        _ => ["#17becf", "#bcbd22", "#7f7f7f", "#ff9896"][index % 4],
    }
}

/// Text and attribute values: the five XML specials.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (at least 1): gridlines
/// at round numbers.
fn nice_ceiling(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for factor in [1, 2, 5] {
            let candidate = step.saturating_mul(factor);
            if candidate >= max {
                return candidate;
            }
        }
        if step > u64::MAX / 10 {
            return max;
        }
        step *= 10;
    }
}

/// The chart as an `<svg>` element, to be placed in a page as is.
pub fn stacked_bars(chart: &BarChart) -> String {
    let bars = chart
        .series
        .iter()
        .map(|s| s.counts.len())
        .max()
        .unwrap_or(0)
        .max(chart.bar_labels.len())
        .max(1);
    let count = |series: &Series, bar: usize| series.counts.get(bar).copied().unwrap_or(0);
    let totals: Vec<u64> = (0..bars)
        .map(|bar| chart.series.iter().map(|s| count(s, bar)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    let legend: Vec<(&Series, u64)> = chart
        .series
        .iter()
        .map(|s| (s, s.counts.iter().sum::<u64>()))
        .filter(|(_, total)| *total > 0)
        .collect();
    let legend_rows = legend.len().div_ceil(LEGEND_COLUMNS);
    let plot_width = WIDTH - PLOT_LEFT - PLOT_RIGHT;
    let plot_bottom = PLOT_TOP + PLOT_HEIGHT;
    let height = plot_bottom + AXIS_LABELS + legend_rows as f64 * LEGEND_ROW + 6.0;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="chart-title" font-family="system-ui, sans-serif" font-size="11"><title id="chart-title">{}</title>"##,
        escape(&chart.title)
    );

    // Gridlines and their values.
    let top = nice_ceiling(max);
    let y_of = |value: u64| plot_bottom - value as f64 / top as f64 * PLOT_HEIGHT;
    for value in [0, top / 2, top] {
        if value == top / 2 && (!top.is_multiple_of(2) || top < 2) {
            continue;
        }
        let y = y_of(value);
        let _ = write!(
            svg,
            r##"<line x1="{PLOT_LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#445">{value}</text>"##,
            WIDTH - PLOT_RIGHT,
            PLOT_LEFT - 4.0,
            y + 4.0,
        );
    }

    let slot = plot_width / bars as f64;
    let bar_width = (slot * 0.8).max(1.0);
    for (bar, &total) in totals.iter().enumerate() {
        let x = PLOT_LEFT + bar as f64 * slot + (slot - bar_width) / 2.0;
        let bar_title = chart
            .bar_titles
            .get(bar)
            .or(chart.bar_labels.get(bar))
            .map(String::as_str)
            .unwrap_or("");
        if total > 0 {
            let _ = write!(
                svg,
                r#"<g><title>{} — {}: {}</title>"#,
                escape(bar_title),
                escape(&chart.total_label),
                total
            );
            let mut base = 0u64;
            for series in &chart.series {
                let n = count(series, bar);
                if n == 0 {
                    continue;
                }
                let y_top = y_of(base + n);
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y_top:.1}" width="{bar_width:.1}" height="{:.1}" fill="{}" data-series="{}" data-count="{n}"><title>{} — {}: {n}</title></rect>"#,
                    y_of(base) - y_top,
                    series.colour,
                    escape(&series.label),
                    escape(bar_title),
                    escape(&series.label),
                );
                base += n;
            }
            svg.push_str("</g>");
        }
        if chart.label_every > 0 && bar % chart.label_every == 0 {
            if let Some(label) = chart.bar_labels.get(bar) {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#445">{}</text>"##,
                    x + bar_width / 2.0,
                    plot_bottom + 14.0,
                    escape(label)
                );
            }
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{PLOT_LEFT}" y1="{plot_bottom}" x2="{:.1}" y2="{plot_bottom}" stroke="#445" stroke-width="1"/>"##,
        WIDTH - PLOT_RIGHT
    );
    if max == 0 {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#667" font-size="14" class="empty">{}</text>"##,
            PLOT_LEFT + plot_width / 2.0,
            PLOT_TOP + PLOT_HEIGHT / 2.0,
            escape(&chart.empty_text)
        );
    }

    // The legend: colour, label, total over the window.
    let column = (WIDTH - PLOT_LEFT) / LEGEND_COLUMNS as f64;
    for (i, (series, total)) in legend.iter().enumerate() {
        let x = PLOT_LEFT + (i % LEGEND_COLUMNS) as f64 * column;
        let y = plot_bottom + AXIS_LABELS + (i / LEGEND_COLUMNS) as f64 * LEGEND_ROW;
        let _ = write!(
            svg,
            r##"<g class="legend"><rect x="{x:.1}" y="{y:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#1d2430">{} ({total})</text></g>"##,
            series.colour,
            x + 16.0,
            y + 10.0,
            escape(&series.label),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(series: Vec<Series>) -> BarChart {
        BarChart {
            title: "Attempts per hour".into(),
            bar_labels: (0..24).map(|h| format!("{h:02}")).collect(),
            bar_titles: (0..24)
                .map(|h| format!("2026-09-01 {h:02}:00 UTC"))
                .collect(),
            label_every: 3,
            series,
            empty_text: "No attempts".into(),
            total_label: "total".into(),
        }
    }

    fn series(label: &str, counts: Vec<u64>) -> Series {
        Series {
            label: label.into(),
            colour: outcome_colour(label, 0),
            counts,
        }
    }

    #[test]
    fn no_data_draws_axes_and_says_so() {
        let svg = stacked_bars(&chart(vec![]));
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
        assert!(svg.contains("No attempts"), "{svg}");
        assert!(!svg.contains("data-count"), "no bars: {svg}");
        assert!(
            svg.contains(">00</text>") && svg.contains(">21</text>"),
            "hour labels"
        );
        assert!(!svg.contains(">01</text>"), "every third label only");

        let zeros = stacked_bars(&chart(vec![series("linked", vec![0; 24])]));
        assert!(zeros.contains("No attempts") && !zeros.contains("data-count"));
        assert!(!zeros.contains("class=\"legend\""), "no legend for nothing");
    }

    #[test]
    fn one_spike_fills_the_plot_and_is_titled_with_its_count() {
        let mut counts = vec![0; 24];
        counts[13] = 7;
        let svg = stacked_bars(&chart(vec![series("name_mismatch", counts)]));
        assert_eq!(svg.matches("data-count=").count(), 1, "{svg}");
        assert!(svg.contains("data-count=\"7\""));
        assert!(
            svg.contains("<title>2026-09-01 13:00 UTC — name_mismatch: 7</title>"),
            "{svg}"
        );
        assert!(svg.contains("<title>2026-09-01 13:00 UTC — total: 7</title>"));
        // The axis tops out at the next round number, 10: 7/10 of 180.
        assert!(svg.contains("height=\"126.0\""), "{svg}");
        assert!(svg.contains(">10</text>") && svg.contains(">5</text>"));
        assert!(svg.contains("name_mismatch (7)"), "legend with the total");
        assert!(!svg.contains("No attempts"));
    }

    #[test]
    fn series_stack_in_order_with_distinct_colours() {
        let svg = stacked_bars(&chart(vec![
            series("linked", vec![2; 24]),
            series("name_mismatch", vec![1; 24]),
        ]));
        assert_eq!(svg.matches("data-count=").count(), 48);
        let linked = svg.find("data-series=\"linked\"").expect("linked");
        let mismatch = svg.find("data-series=\"name_mismatch\"").expect("mismatch");
        assert!(linked < mismatch, "first series at the bottom, drawn first");
        assert!(svg.contains("fill=\"#56c271\"") && svg.contains("fill=\"#e8590c\""));

        let outcomes = [
            "logged_in",
            "linked",
            "snils_missing",
            "no_account",
            "name_mismatch",
            "ambiguous",
            "linked_elsewhere",
            "tier_too_low",
            "region_disabled",
            "account_blocked",
            "idp_error",
            "rejected",
        ];
        let mut colours: Vec<&str> = outcomes.iter().map(|o| outcome_colour(o, 0)).collect();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), outcomes.len(), "each outcome its own colour");
    }

    #[test]
    fn labels_are_escaped() {
        let mut c = chart(vec![series("<script>alert('x')</script>", vec![1; 24])]);
        c.title = "A & B \"quoted\"".into();
        c.bar_labels[0] = "<b>".into();
        let svg = stacked_bars(&c);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(svg.contains("A &amp; B &quot;quoted&quot;"));
        assert!(svg.contains("&lt;b&gt;"));
    }

    #[test]
    fn round_axis_tops() {
        for (max, top) in [
            (0, 1),
            (1, 1),
            (3, 5),
            (7, 10),
            (10, 10),
            (11, 20),
            (150, 200),
            (501, 1000),
        ] {
            assert_eq!(nice_ceiling(max), top, "{max}");
        }
    }
}
