//! The audit trail: who changed what, newest first; the selected entry's details below.

use super::{clock, draw_detail_pane, draw_list, status_line, truncate};
use crate::api::AuditEntry;
use crate::app::{App, Tab};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

fn status(e: &AuditEntry) -> Option<i64> {
    e.details.get("status").and_then(serde_json::Value::as_i64)
}

/// The details without the status (already a column): fields and values set, and notes.
fn details(e: &AuditEntry) -> String {
    let mut details = e.details.clone();
    if let Some(map) = details.as_object_mut() {
        map.remove("status");
        if map.is_empty() {
            return String::new();
        }
    }
    details.to_string()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let Some(entries) = &app.audit.data else {
        if let Some(line) = status_line(&app.audit, theme) {
            frame.render_widget(Paragraph::new(line), area);
        }
        return;
    };
    let rows = entries.iter().map(|e| {
        let code = status(e);
        Row::new(vec![
            Cell::from(e.created_at.map(clock).unwrap_or_default()),
            Cell::from(truncate(e.username.as_deref().unwrap_or("—"), 12)),
            Cell::from(truncate(&e.action, 18)),
            Cell::from(truncate(&e.resource, 14)),
            Cell::from(e.resource_id.clone().unwrap_or_default()),
            Cell::from(code.map(|c| c.to_string()).unwrap_or_default())
                .style(theme.status(code.and_then(|c| i32::try_from(c).ok()).unwrap_or(0))),
            Cell::from(e.address.clone().unwrap_or_default()),
        ])
    });
    draw_list(
        frame,
        table_area,
        rows,
        &[
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Length(18),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Length(3),
            Constraint::Min(6),
        ],
        &["Time", "User", "Action", "Resource", "ID", "St", "Address"],
        app.selection(Tab::Audit),
        theme,
    );
    let mut lines = Vec::new();
    if let Some(e) = app.selected_audit() {
        let d = details(e);
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} ",
                    e.created_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default()
                ),
                theme.header(),
            ),
            Span::raw(if d.is_empty() {
                "no details".to_string()
            } else {
                d
            }),
        ]));
    } else {
        lines.push(Line::from(Span::styled("No entries.", theme.dim())));
    }
    draw_detail_pane(frame, detail, lines, &app.audit, theme);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{app_on, at, member, press, screen, t0};
    use crate::api::{AuditEntry, ClientError};
    use crate::app::{Response, Tab};
    use ratatui::crossterm::event::KeyCode;
    use serde_json::json;

    #[test]
    fn audit_lists_who_changed_what() {
        let mut app = app_on(Tab::Audit);
        app.on_response(
            Response::Audit(Ok(vec![
                AuditEntry {
                    id: 9,
                    created_at: at("2026-11-22T10:00:04Z"),
                    username: Some("ops".into()),
                    action: "update".into(),
                    resource: "client-keys".into(),
                    resource_id: Some("3".into()),
                    address: Some("127.0.0.1".into()),
                    details: json!({"status": 200, "fields": ["enabled"], "values": {"enabled": false}}),
                },
                AuditEntry {
                    id: 8,
                    created_at: at("2026-11-22T09:58:00Z"),
                    username: Some("ops".into()),
                    action: "keypair_login".into(),
                    resource: "sessions".into(),
                    address: Some("127.0.0.1".into()),
                    details: json!({"status": 200, "public_key_id": 1}),
                    ..Default::default()
                },
            ])),
            t0(),
        );
        let text = screen(&app);
        let row = |what: &str| text.lines().find(|l| l.contains(what)).unwrap().to_string();
        let update = row("client-keys");
        for part in ["10:00:04", "ops", "update", " 3 ", "200", "127.0.0.1"] {
            assert!(update.contains(part), "{part}: {update}");
        }
        assert!(row("keypair_login").contains("sessions"));
        assert!(
            text.contains(r#"{"fields":["enabled"],"values":{"enabled":false}}"#),
            "{text}"
        );
        press(&mut app, KeyCode::Down);
        assert!(screen(&app).contains(r#"{"public_key_id":1}"#));
    }

    #[test]
    fn a_member_sees_why_the_audit_is_closed() {
        let mut app = app_on(Tab::Audit);
        app.on_response(member(), t0());
        app.on_response(
            Response::Audit(Err(ClientError::Api {
                status: 403,
                message: "requires the `audit:read` permission".into(),
            })),
            t0(),
        );
        assert!(screen(&app).contains("403: requires the `audit:read` permission"));
    }
}
