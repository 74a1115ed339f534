//! The overview: requests, errors and cost for the last hour and the last day.

use super::{bold, cost, grouped, status_line, updated};
use crate::api::Overview;
use crate::app::App;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// An end of the window the server answered for: the hour, with the date when it is not today's.
fn edge(at: Option<DateTime<Utc>>, today: Option<DateTime<Utc>>) -> String {
    match at {
        Some(at) if today.is_some_and(|t| t.date_naive() == at.date_naive()) => {
            at.format("%H:%M").to_string()
        }
        Some(at) => at.format("%b %d %H:%M").to_string(),
        None => String::new(),
    }
}

fn errors(o: &Overview) -> String {
    format!("{} ({:.1}%)", grouped(o.errors), o.error_rate * 100.0)
}

fn latency(o: &Overview) -> String {
    match (o.latency_p50_ms, o.latency_p95_ms) {
        (Some(p50), Some(p95)) => format!("{p50} / {p95}"),
        _ => "—".to_string(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [table_area, note] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(area);
    let Some((hour, day)) = &app.overview.data else {
        if let Some(line) = status_line(&app.overview, theme) {
            frame.render_widget(Paragraph::new(line), area);
        }
        return;
    };
    let row = |label: &str, a: String, b: String| {
        Row::new(vec![
            Cell::from(label.to_string()).style(theme.dim()),
            Cell::from(Line::from(a).right_aligned()),
            Cell::from(Line::from(b).right_aligned()),
        ])
    };
    let error_style = |o: &Overview| {
        if o.errors > 0 {
            theme.warn()
        } else {
            theme.ok()
        }
    };
    let rows = vec![
        row(
            "From (UTC)",
            edge(hour.from, app.overview.at),
            edge(day.from, app.overview.at),
        ),
        row(
            "To (UTC)",
            edge(hour.to, app.overview.at),
            edge(day.to, app.overview.at),
        ),
        Row::new(vec![Cell::from("")]),
        row("Requests", grouped(hour.requests), grouped(day.requests)).style(bold()),
        Row::new(vec![
            Cell::from("Errors").style(theme.dim()),
            Cell::from(Line::from(errors(hour)).right_aligned()).style(error_style(hour)),
            Cell::from(Line::from(errors(day)).right_aligned()).style(error_style(day)),
        ]),
        row("Cost", cost(&hour.cost, 14), cost(&day.cost, 14)).style(bold()),
        row(
            "Unpriced requests",
            grouped(hour.unpriced_requests),
            grouped(day.unpriced_requests),
        ),
        row(
            "Tokens",
            grouped(hour.tokens.total),
            grouped(day.tokens.total),
        ),
        row("Latency p50 / p95 ms", latency(hour), latency(day)),
    ];
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(18),
            Constraint::Length(18),
        ],
    )
    .header(
        Row::new(vec![
            Cell::from(""),
            Cell::from(Line::from("Last hour").right_aligned()),
            Cell::from(Line::from("Last 24 hours").right_aligned()),
        ])
        .style(theme.header())
        .bottom_margin(1),
    )
    .column_spacing(2);
    frame.render_widget(table, table_area);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "Whole hours, as the server keeps them. {} · every 5 s",
            updated(&app.overview)
        ),
        theme.dim(),
    ))];
    if let Some(error) = &app.overview.error {
        lines.push(Line::from(Span::styled(error.clone(), theme.error())));
    }
    frame.render_widget(Paragraph::new(lines), note);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{app_on, at, screen, t0};
    use crate::api::{ClientError, Overview, Tokens};
    use crate::app::{Response, Tab};

    #[test]
    fn overview_shows_the_hour_and_the_day() {
        let mut app = app_on(Tab::Overview);
        assert!(screen(&app).contains("Loading…"));
        let hour = Overview {
            from: at("2026-11-22T09:00:00Z"),
            to: at("2026-11-22T11:00:00Z"),
            requests: 12,
            errors: 1,
            error_rate: 1.0 / 12.0,
            tokens: Tokens { total: 1234 },
            cost: "0.0123".into(),
            unpriced_requests: 0,
            latency_p50_ms: Some(100),
            latency_p95_ms: Some(200),
        };
        let day = Overview {
            from: at("2026-11-21T11:00:00Z"),
            to: at("2026-11-22T11:00:00Z"),
            requests: 34_000,
            errors: 0,
            cost: "1.2".into(),
            tokens: Tokens { total: 2_500_000 },
            unpriced_requests: 3,
            ..Default::default()
        };
        app.on_response(Response::Overview(Ok((hour, day))), t0());
        let text = screen(&app);
        assert!(
            text.contains("Last hour") && text.contains("Last 24 hours"),
            "{text}"
        );
        let from = text.lines().find(|l| l.contains("From (UTC)")).unwrap();
        assert!(
            from.contains("09:00") && from.contains("Nov 21 11:00"),
            "{text}"
        );
        let to = text.lines().find(|l| l.contains("To (UTC)")).unwrap();
        assert!(to.contains("11:00"), "{text}");
        let line = |label: &str| {
            text.lines()
                .find(|l| l.contains(label))
                .unwrap_or_else(|| panic!("no {label} in\n{text}"))
                .to_string()
        };
        assert!(line("Requests").contains("12") && line("Requests").contains("34,000"));
        assert!(line("Errors").contains("1 (8.3%)") && line("Errors").contains("0 (0.0%)"));
        assert!(line("Cost").contains("0.0123") && line("Cost").contains("1.2"));
        assert!(line("Tokens").contains("2,500,000"));
        assert!(line("Latency").contains("100 / 200") && line("Latency").contains("—"));
        assert!(text.contains("updated 10:00:05"));
        // A failed refresh keeps the figures and says why.
        app.on_response(
            Response::Overview(Err(ClientError::Network("connection refused".into()))),
            t0(),
        );
        let text = screen(&app);
        assert!(text.contains("34,000"));
        assert!(text.contains("cannot reach the server: connection refused"));
    }
}
