//! The live log: new requests as they are recorded, filtered by key, model or status; Enter
//! shows one request's attempts, tokens and cost.

use super::{centered, clock, compact, cost, draw_list, popup, truncate};
use crate::api::LogRow;
use crate::app::{App, Loaded, Tab, format_filter};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

/// Prompt + completion. Cache figures are in the detail: whether the prompt figure includes
/// them depends on the provider (OpenAI's does, Anthropic's does not).
fn tokens(r: &LogRow) -> i64 {
    r.prompt_tokens + r.completion_tokens
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [bar, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let filter = format_filter(&app.logs.filter);
    let mut spans = vec![
        Span::styled("Filter ", theme.dim()),
        Span::styled(
            if filter.is_empty() {
                "none".to_string()
            } else {
                filter
            },
            theme.header(),
        ),
        Span::raw(" · "),
        if app.logs.paused {
            Span::styled("paused", theme.warn())
        } else {
            Span::styled("following", theme.ok())
        },
        Span::raw(format!(" · {} rows", app.logs.rows.len())),
    ];
    if let Some(at) = app.logs.at {
        spans.push(Span::styled(format!(" · {}", clock(at)), theme.dim()));
    }
    if let Some(e) = &app.logs.error {
        spans = vec![Span::styled(e.clone(), theme.error())];
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), bar);
    if app.logs.rows.is_empty() {
        let text = if app.logs.at.is_none() {
            "Loading…"
        } else {
            "No requests yet. New ones appear here as the proxy records them."
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), table_area);
        return;
    }
    let rows = app.logs.rows.iter().map(|r| {
        let row = Row::new(vec![
            Cell::from(r.created_at.map(clock).unwrap_or_default()),
            Cell::from(r.status.to_string()).style(theme.status(r.status)),
            Cell::from(r.client_key_id.map(|k| k.to_string()).unwrap_or_default()),
            Cell::from(truncate(r.model.as_deref().unwrap_or("—"), 16)),
            Cell::from(Line::from(r.latency_ms.to_string()).right_aligned()),
            Cell::from(Line::from(compact(tokens(r))).right_aligned()),
            Cell::from(
                Line::from(r.cost.as_deref().map_or("—".to_string(), |c| cost(c, 9)))
                    .right_aligned(),
            ),
            Cell::from(r.path.clone()),
        ]);
        if app.logs.fresh.contains(&r.id) {
            row.style(theme.fresh())
        } else {
            row
        }
    });
    draw_list(
        frame,
        table_area,
        rows,
        &[
            Constraint::Length(8),
            Constraint::Length(3),
            Constraint::Length(4),
            Constraint::Length(16),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Min(8),
        ],
        &["Time", "St", "Key", "Model", "ms", "Tokens", "Cost", "Path"],
        app.selection(Tab::Logs),
        theme,
    );
}

/// The lines of a request's detail.
pub fn detail_lines(r: &LogRow, theme: Theme) -> Vec<Line<'static>> {
    let label = |s: &str| Span::styled(format!("{s:<11}"), theme.dim());
    let opt = |v: Option<i64>| v.map_or_else(|| "—".to_string(), |v| v.to_string());
    let mut lines = vec![
        Line::from(vec![
            label("Request"),
            Span::raw(format!("{} (row {})", r.request_id, r.id)),
        ]),
        Line::from(vec![
            label("Time"),
            Span::raw(
                r.created_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default(),
            ),
            Span::raw("   "),
            label("Status"),
            Span::styled(r.status.to_string(), theme.status(r.status)),
        ]),
        Line::from(vec![
            label("Path"),
            Span::raw(format!("{} {}", r.method, r.path)),
        ]),
        Line::from(vec![
            label("Model"),
            Span::raw(r.model.clone().unwrap_or_else(|| "—".into())),
            Span::raw("   "),
            label("Client key"),
            Span::raw(opt(r.client_key_id)),
        ]),
        Line::from(vec![
            label("Latency"),
            Span::raw(format!(
                "{} ms, first byte {}",
                r.latency_ms,
                r.ttfb_ms
                    .map_or_else(|| "—".to_string(), |t| format!("{t} ms"))
            )),
            Span::raw(format!(
                "{}{}",
                if r.stream { " · stream" } else { "" },
                if r.partial { " · partial" } else { "" }
            )),
        ]),
        Line::from(vec![
            label("Tokens"),
            Span::raw(format!(
                "prompt {} · completion {} · cache write {} · read {}",
                r.prompt_tokens, r.completion_tokens, r.cache_write_tokens, r.cache_read_tokens
            )),
        ]),
        Line::from(vec![
            label("Cost"),
            match &r.cost {
                Some(c) => Span::styled(c.clone(), theme.header()),
                None if tokens(r) > 0 => {
                    Span::styled("unpriced (no price for the model)", theme.warn())
                }
                None => Span::raw("—"),
            },
        ]),
    ];
    if let Some(kind) = &r.error_kind {
        lines.push(Line::from(vec![
            label("Error"),
            Span::styled(kind.clone(), theme.error()),
        ]));
    }
    lines.push(Line::from(Span::styled(
        format!("Attempts ({})", r.attempts.len()),
        theme.title(),
    )));
    if r.attempts.is_empty() {
        lines.push(Line::from(Span::styled(
            "  none: refused before a credential was picked",
            theme.dim(),
        )));
    }
    lines.push(
        Line::from(Span::styled(
            format!(
                "  {:<3}{:<12}{:<8}{:<22}{:>8}",
                "#", "Credential", "Status", "Error", "ms"
            ),
            theme.dim(),
        ))
        .style(theme.dim()),
    );
    for (i, a) in r.attempts.iter().enumerate() {
        let status = a.status.map_or_else(|| "—".to_string(), |s| s.to_string());
        let error = a.error_kind.clone().unwrap_or_else(|| "—".into());
        lines.push(Line::from(format!(
            "  {:<3}{:<12}{:<8}{:<22}{:>8}",
            i + 1,
            a.provider_key_id,
            status,
            truncate(&error, 21),
            a.latency_ms
        )));
    }
    lines
}

pub fn draw_detail(frame: &mut Frame, area: Rect, id: i64, detail: &Loaded<LogRow>, theme: Theme) {
    let mut lines = match &detail.data {
        Some(row) => detail_lines(row, theme),
        None => vec![Line::from(Span::styled("Loading…", theme.dim()))],
    };
    if let Some(e) = &detail.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error())));
    }
    lines.push(Line::from(Span::styled(
        "Esc close · r reload",
        theme.dim(),
    )));
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    popup(
        frame,
        centered(area, 78, height),
        &format!("Request {id}"),
        lines,
        theme,
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{app_on, at, press, screen, t0};
    use crate::api::{Attempt, ClientError, LogFilter, LogRow};
    use crate::app::{Response, Tab};
    use ratatui::crossterm::event::KeyCode;

    fn rows() -> Vec<LogRow> {
        vec![
            LogRow {
                id: 42,
                request_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
                created_at: at("2026-11-22T10:00:03Z"),
                client_key_id: Some(3),
                provider_key_id: Some(2),
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                model: Some("gpt-4o-mini".into()),
                status: 200,
                latency_ms: 120,
                ttfb_ms: Some(80),
                prompt_tokens: 12,
                completion_tokens: 5,
                cost: Some("0.0000048".into()),
                attempts: vec![
                    Attempt {
                        provider_key_id: 1,
                        status: Some(429),
                        error_kind: Some("upstream_429".into()),
                        latency_ms: 30,
                    },
                    Attempt {
                        provider_key_id: 2,
                        status: Some(200),
                        error_kind: None,
                        latency_ms: 80,
                    },
                ],
                ..Default::default()
            },
            LogRow {
                id: 41,
                created_at: at("2026-11-22T10:00:01Z"),
                client_key_id: Some(3),
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                model: Some("gpt-4o".into()),
                status: 403,
                error_kind: Some("key_disabled".into()),
                latency_ms: 1,
                ..Default::default()
            },
        ]
    }

    #[test]
    fn live_log_lists_requests_newest_first() {
        let mut app = app_on(Tab::Logs);
        app.on_response(Response::Logs(LogFilter::default(), Ok(rows())), t0());
        let text = screen(&app);
        assert!(text.contains("Filter none · following · 2 rows"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let first = lines
            .iter()
            .position(|l| l.contains("gpt-4o-mini"))
            .unwrap();
        let second = lines.iter().position(|l| l.contains("403")).unwrap();
        assert!(first < second);
        let row = lines[first];
        for part in [
            "10:00:03",
            "200",
            " 3 ",
            "120",
            "17",
            "0.0000048",
            "/v1/chat/comp",
        ] {
            assert!(row.contains(part), "{part}: {row}");
        }
        assert!(text.contains("⏎ detail") && text.contains("/ filter"));
    }

    #[test]
    fn enter_shows_attempts_tokens_and_cost() {
        let mut app = app_on(Tab::Logs);
        app.on_response(Response::Logs(LogFilter::default(), Ok(rows())), t0());
        press(&mut app, KeyCode::Enter);
        let text = screen(&app);
        assert!(text.contains("Request 42"), "{text}");
        assert!(text.contains("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
        assert!(text.contains("POST /v1/chat/completions"));
        assert!(text.contains("120 ms, first byte 80 ms"));
        assert!(text.contains("prompt 12 · completion 5"));
        assert!(text.contains("Cost       0.0000048"), "{text}");
        assert!(text.contains("Attempts (2)"));
        let attempt = |n: &str| {
            text.lines()
                .find(|l| l.trim_start_matches('│').trim_start().starts_with(n))
                .unwrap_or_else(|| panic!("attempt {n}: {text}"))
                .to_string()
        };
        assert!(attempt("1 ").contains("429") && attempt("1 ").contains("upstream_429"));
        assert!(attempt("2 ").contains("200"));
        // The detail read failing is shown inside the pop-up.
        app.on_response(
            Response::LogDetail(
                42,
                Err(ClientError::Api {
                    status: 404,
                    message: "not found".into(),
                }),
            ),
            t0(),
        );
        assert!(screen(&app).contains("404: not found"));
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Enter);
        let text = screen(&app);
        assert!(
            text.contains("key_disabled") && text.contains("Attempts (0)"),
            "{text}"
        );
    }

    #[test]
    fn the_filter_is_edited_in_place() {
        let mut app = app_on(Tab::Logs);
        app.on_response(Response::Logs(LogFilter::default(), Ok(rows())), t0());
        press(&mut app, KeyCode::Char('/'));
        for c in "key:3 status:403".chars() {
            press(&mut app, KeyCode::Char(c));
        }
        assert!(screen(&app).contains("> key:3 status:403_"));
        press(&mut app, KeyCode::Enter);
        let text = screen(&app);
        assert!(text.contains("Filter key:3 status:403"), "{text}");
        assert!(text.contains("Loading…"));
        press(&mut app, KeyCode::Char('p'));
        assert!(screen(&app).contains("paused"));
    }
}
