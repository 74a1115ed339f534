//! Provider credentials: state, health, cool-down and the last error of each.

use super::{clock, draw_detail_pane, draw_list, status_line, truncate};
use crate::api::ProviderKey;
use crate::app::{App, Tab};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

/// The state as shown: the API's word, `disabled` for a disabled key.
fn state(k: &ProviderKey) -> &str {
    if k.health.state.is_empty() {
        "unknown"
    } else {
        &k.health.state
    }
}

/// The latest error known for a credential: its state's reason, then its last check.
pub fn last_error(k: &ProviderKey) -> Option<String> {
    let check = k.health.last_check.as_ref().filter(|c| !c.ok).map(|c| {
        let what = c
            .error
            .clone()
            .or_else(|| c.status.map(|s| format!("status {s}")))
            .unwrap_or_else(|| "failed".into());
        match c.checked_at {
            Some(at) => format!("last check {what} at {}", clock(at)),
            None => format!("last check {what}"),
        }
    });
    match (&k.health.reason, check) {
        (Some(r), Some(c)) => Some(format!("{r}; {c}")),
        (Some(r), None) => Some(r.clone()),
        (None, c) => c,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let Some(keys) = &app.credentials.data else {
        if let Some(line) = status_line(&app.credentials, theme) {
            frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
        }
        return;
    };
    let rows = keys.iter().map(|k| {
        let provider = app
            .provider_name(k.provider_id)
            .map_or_else(|| k.provider_id.to_string(), str::to_string);
        let latency = k
            .health
            .latency_ms
            .map_or_else(|| "—".to_string(), |l| format!("{l:.0}"));
        let cool = k
            .health
            .next_retry_at
            .filter(|_| matches!(state(k), "cooling_down" | "circuit_open"))
            .map_or_else(|| "—".to_string(), clock);
        Row::new(vec![
            Cell::from(k.id.to_string()),
            Cell::from(truncate(&k.name, 14)),
            Cell::from(truncate(&provider, 9)),
            Cell::from(state(k).to_string()).style(theme.state(state(k))),
            Cell::from(if k.enabled { "yes" } else { "no" }),
            Cell::from(Line::from(latency).right_aligned()),
            Cell::from(Line::from(format!("{:.0}%", k.health.error_rate * 100.0)).right_aligned()),
            Cell::from(Line::from(format!("{:.0}", k.health.score())).right_aligned()),
            Cell::from(cool),
        ])
    });
    draw_list(
        frame,
        table_area,
        rows,
        &[
            Constraint::Length(4),
            Constraint::Length(14),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(3),
            Constraint::Length(6),
            Constraint::Length(4),
            Constraint::Length(6),
            Constraint::Length(8),
        ],
        &[
            "ID", "Name", "Provider", "State", "On", "Lat ms", "Err", "Score", "Cool-off",
        ],
        app.selection(Tab::Credentials),
        theme,
    );
    let mut lines = Vec::new();
    match app.selected_credential() {
        Some(k) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", k.name), theme.header()),
                Span::raw(format!(
                    "secret {} · in flight {}",
                    k.secret_preview, k.health.in_flight
                )),
            ]));
            lines.push(match last_error(k) {
                Some(e) => Line::from(vec![
                    Span::styled("Last error: ", theme.dim()),
                    Span::styled(e, theme.error()),
                ]),
                None => Line::from(Span::styled("No error recorded", theme.dim())),
            });
        }
        None => lines.push(Line::from(Span::styled(
            "No provider credentials yet (add them in the console or with the API).",
            theme.dim(),
        ))),
    }
    draw_detail_pane(frame, detail, lines, &app.credentials, theme);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{app_on, at, member, press, screen, t0};
    use crate::api::{CheckOutcome, ClientError, Health, LastCheck, Provider, ProviderKey};
    use crate::app::{Request, Response, Tab};
    use ratatui::crossterm::event::KeyCode;

    fn keys() -> Vec<ProviderKey> {
        vec![
            ProviderKey {
                id: 1,
                provider_id: 1,
                name: "main".into(),
                secret_preview: "sk-…abcd".into(),
                enabled: true,
                health: Health {
                    state: "healthy".into(),
                    latency_ms: Some(41.6),
                    error_rate: 0.0,
                    ..Default::default()
                },
            },
            ProviderKey {
                id: 2,
                provider_id: 1,
                name: "backup".into(),
                secret_preview: "sk-…wxyz".into(),
                enabled: true,
                health: Health {
                    state: "cooling_down".into(),
                    reason: Some("rate limited (429, Retry-After)".into()),
                    next_retry_at: at("2026-11-22T10:00:30Z"),
                    error_rate: 0.1,
                    ..Default::default()
                },
            },
            ProviderKey {
                id: 3,
                provider_id: 2,
                name: "old".into(),
                secret_preview: "****".into(),
                enabled: false,
                health: Health {
                    state: "invalid".into(),
                    reason: Some("provider answered 401: credential rejected".into()),
                    last_check: Some(LastCheck {
                        ok: false,
                        status: Some(401),
                        error: Some("status 401".into()),
                        checked_at: at("2026-11-22T09:59:00Z"),
                    }),
                    ..Default::default()
                },
            },
        ]
    }

    #[test]
    fn credentials_show_state_health_cool_down_and_last_error() {
        let mut app = app_on(Tab::Credentials);
        app.on_response(
            Response::Providers(Ok(vec![Provider {
                id: 1,
                name: "openai".into(),
            }])),
            t0(),
        );
        app.on_response(Response::Credentials(Ok(keys())), t0());
        let text = screen(&app);
        assert!(text.contains("ID"), "{text}");
        for header in [
            "Name", "Provider", "State", "Lat ms", "Err", "Score", "Cool-off",
        ] {
            assert!(text.contains(header), "{header}: {text}");
        }
        let row = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(row(" main ").contains("openai") && row(" main ").contains("healthy"));
        assert!(row(" main ").contains("42"), "{}", row(" main "));
        assert!(row("backup").contains("cooling_down") && row("backup").contains("10:00:30"));
        assert!(row("backup").contains("10%"));
        // Unknown provider names fall back to the id; a disabled key says so.
        assert!(row(" old ").contains(" 2 ") && row(" old ").contains("no"));
        assert!(text.contains("Last error") || text.contains("No error recorded"));
        assert!(text.contains("c check") && text.contains("e/d enable/disable"));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        let text = screen(&app);
        assert!(
            text.contains("Last error: provider answered 401: credential rejected; last check"),
            "{text}"
        );
        assert!(
            text.contains("status 401") && text.contains("at 09:59:00"),
            "{text}"
        );
    }

    #[test]
    fn check_now_reports_and_reloads() {
        let mut app = app_on(Tab::Credentials);
        app.on_response(Response::Credentials(Ok(keys())), t0());
        let out = app.on_key(
            ratatui::crossterm::event::KeyEvent::from(KeyCode::Char('c')),
            t0(),
        );
        assert_eq!(out, vec![Request::CheckCredential(1)]);
        assert!(screen(&app).contains("Checking credential 1…"));
        let out = app.on_response(
            Response::Checked(
                1,
                Ok(CheckOutcome {
                    ok: false,
                    status: Some(500),
                    error: Some("status 500".into()),
                    latency_ms: 12,
                }),
            ),
            t0(),
        );
        assert_eq!(out, vec![Request::Credentials, Request::Providers]);
        assert!(screen(&app).contains("Credential 1: check failed (status 500)"));
    }

    #[test]
    fn a_member_sees_the_apis_refusal_and_no_write_keys() {
        let mut app = app_on(Tab::Credentials);
        app.on_response(member(), t0());
        app.on_response(
            Response::Credentials(Err(ClientError::Api {
                status: 403,
                message: "not allowed".into(),
            })),
            t0(),
        );
        let text = screen(&app);
        assert!(text.contains("403: not allowed"), "{text}");
        assert!(!text.contains("c check") && !text.contains("enable/disable"));
        assert!(text.contains("mia (member)"));
    }
}
