//! Client keys: today's usage against each key's limits, lifetime spend against its budget,
//! and the create form.

use super::{centered, compact, cost, draw_detail_pane, draw_list, popup, status_line, truncate};
use crate::api::ClientKey;
use crate::app::{App, KeyForm, Tab};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

/// `used/limit`, or just `used` without a limit.
fn against(used: String, limit: Option<String>) -> String {
    match limit {
        Some(l) => format!("{used}/{l}"),
        None => used,
    }
}

fn usage_cells(k: &ClientKey) -> [String; 4] {
    let Some(u) = &k.usage else {
        return ["?".into(), "?".into(), "?".into(), "?".into()];
    };
    let n = |v: u64| compact(i64::try_from(v).unwrap_or(i64::MAX));
    [
        against(n(u.day_requests), k.rpd.map(compact)),
        against(n(u.day_tokens), k.tpd.map(compact)),
        against(
            cost(&u.day_cost, if k.cost_per_day.is_some() { 6 } else { 10 }),
            k.cost_per_day.as_deref().map(|c| cost(c, 3)),
        ),
        against(
            cost(&u.lifetime_spend, if k.budget.is_some() { 7 } else { 12 }),
            k.budget.as_deref().map(|c| cost(c, 4)),
        ),
    ]
}

/// A key at or over one of its daily limits or its budget.
fn exhausted(k: &ClientKey) -> bool {
    let Some(u) = &k.usage else { return false };
    let over = |used: u64, limit: Option<i64>| {
        limit.is_some_and(|l| i64::try_from(used).unwrap_or(i64::MAX) >= l)
    };
    let over_cost = |used: &str, limit: Option<&str>| match (used.parse::<f64>(), limit) {
        (Ok(u), Some(l)) => l.parse::<f64>().is_ok_and(|l| u >= l),
        _ => false,
    };
    over(u.day_requests, k.rpd)
        || over(u.day_tokens, k.tpd)
        || over_cost(&u.day_cost, k.cost_per_day.as_deref())
        || over_cost(&u.lifetime_spend, k.budget.as_deref())
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let Some(keys) = &app.client_keys.data else {
        if let Some(line) = status_line(&app.client_keys, theme) {
            frame.render_widget(Paragraph::new(line), area);
        }
        return;
    };
    let rows = keys.iter().map(|k| {
        let [req, tok, day_cost, spend] = usage_cells(k);
        let style = if !k.enabled || k.usage.as_ref().is_some_and(|u| u.expired) {
            theme.dim()
        } else if exhausted(k) {
            theme.warn()
        } else {
            ratatui::style::Style::default()
        };
        Row::new(vec![
            Cell::from(k.id.to_string()),
            Cell::from(truncate(&k.name, 12)),
            Cell::from(k.key_prefix.clone()),
            Cell::from(if k.enabled { "yes" } else { "no" }),
            Cell::from(req),
            Cell::from(tok),
            Cell::from(day_cost),
            Cell::from(spend),
        ])
        .style(style)
    });
    draw_list(
        frame,
        table_area,
        rows,
        &[
            Constraint::Length(4),
            Constraint::Length(12),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(12),
        ],
        &[
            "ID",
            "Name",
            "Prefix",
            "On",
            "Req today",
            "Tok today",
            "Cost today",
            "Spend/budget",
        ],
        app.selection(Tab::ClientKeys),
        theme,
    );
    let mut lines = Vec::new();
    match app.selected_client_key() {
        Some(k) => {
            let provider = app
                .provider_name(k.provider_id)
                .map_or_else(|| k.provider_id.to_string(), str::to_string);
            let mut facts = Vec::new();
            if !k.enabled {
                facts.push("disabled: the proxy refuses it".to_string());
            }
            facts.push(format!("provider {provider}"));
            if let Some(u) = &k.usage {
                facts.push(format!(
                    "last minute {}",
                    against(u.minute_requests.to_string(), k.rpm.map(|r| r.to_string()))
                ));
                facts.push(format!("{} in flight", u.in_flight));
            }
            match (k.expires_at, k.usage.as_ref().is_some_and(|u| u.expired)) {
                (_, true) => facts.push("EXPIRED".into()),
                (Some(at), false) => facts.push(format!("expires {}", at.format("%Y-%m-%d"))),
                (None, false) => {}
            }
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", k.name), theme.header()),
                Span::raw(facts.join(" · ")),
            ]));
        }
        None => lines.push(Line::from(Span::styled(
            if app.perms.write_client_keys() {
                "No client keys yet: press n to create one."
            } else {
                "No client keys you can see."
            },
            theme.dim(),
        ))),
    }
    draw_detail_pane(frame, detail, lines, &app.client_keys, theme);
}

pub fn draw_form(frame: &mut Frame, area: Rect, form: &KeyForm, theme: Theme) {
    let mut lines = Vec::new();
    for (i, label) in KeyForm::LABELS.iter().enumerate() {
        let focused = i == form.focus;
        let value = if focused {
            format!("{}_", form.fields[i])
        } else {
            form.fields[i].clone()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{label:<12}", if focused { "> " } else { "  " }),
                if focused { theme.header() } else { theme.dim() },
            ),
            Span::raw(value),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "  Provider: its name or id. Credentials: ids, comma-separated;",
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        "  blank = every credential of that provider you can see.",
        theme.dim(),
    )));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!("  {e}"), theme.error())));
    }
    lines.push(Line::from(Span::styled(
        "  Tab next field · Enter create · Esc cancel",
        theme.dim(),
    )));
    popup(
        frame,
        centered(area, 70, 11),
        "New client key",
        lines,
        theme,
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{app_on, press, screen, t0};
    use crate::api::{ClientError, ClientKey, CreatedClientKey, Me, Usage};
    use crate::app::{Response, Tab};
    use ratatui::crossterm::event::KeyCode;

    fn keys() -> Vec<ClientKey> {
        vec![
            ClientKey {
                id: 1,
                name: "billing-app".into(),
                key_prefix: "tg-AbCdEfG".into(),
                provider_id: 1,
                enabled: true,
                rpm: Some(60),
                rpd: Some(1000),
                tpd: Some(2_000_000),
                cost_per_day: Some("5".into()),
                budget: Some("100".into()),
                usage: Some(Usage {
                    minute_requests: 12,
                    in_flight: 1,
                    day_requests: 340,
                    day_tokens: 81_234,
                    day_cost: "0.412".into(),
                    lifetime_spend: "17.08".into(),
                    expired: false,
                }),
                ..Default::default()
            },
            ClientKey {
                id: 2,
                name: "batch".into(),
                key_prefix: "tg-QrStUvW".into(),
                provider_id: 1,
                enabled: false,
                usage: Some(Usage {
                    day_cost: "0".into(),
                    lifetime_spend: "0".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn client_keys_show_usage_against_limits() {
        let mut app = app_on(Tab::ClientKeys);
        app.on_response(Response::ClientKeys(Ok(keys())), t0());
        let text = screen(&app);
        for header in [
            "Prefix",
            "Req today",
            "Tok today",
            "Cost today",
            "Spend/budget",
        ] {
            assert!(text.contains(header), "{header}: {text}");
        }
        let row = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        let billing = row("billing-app");
        for part in ["tg-AbCdEfG", "340/1000", "81k/2.0M", "0.412/5", "17.08/100"] {
            assert!(billing.contains(part), "{part}: {billing}");
        }
        assert!(row("batch").contains(" no "), "{}", row("batch"));
        assert!(text.contains("last minute 12/60"), "{text}");
        assert!(text.contains("n new") && text.contains("e/d enable/disable"));
        press(&mut app, KeyCode::Down);
        assert!(screen(&app).contains("disabled: the proxy refuses it"));
    }

    #[test]
    fn a_created_key_is_shown_once() {
        let mut app = app_on(Tab::ClientKeys);
        app.on_response(Response::ClientKeys(Ok(keys())), t0());
        press(&mut app, KeyCode::Char('n'));
        let text = screen(&app);
        assert!(
            text.contains("New client key") && text.contains("> Name"),
            "{text}"
        );
        app.on_response(
            Response::Created(Err(ClientError::Api {
                status: 400,
                message: "`provider_key_ids` contains 9, which is not a key of provider 1".into(),
            })),
            t0(),
        );
        assert!(screen(&app).contains("400: `provider_key_ids` contains 9"));
        app.on_response(
            Response::Created(Ok(CreatedClientKey {
                id: 3,
                name: "new-app".into(),
                key: "tg-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG".into(),
            })),
            t0(),
        );
        let text = screen(&app);
        assert!(
            text.contains("tg-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"),
            "{text}"
        );
        assert!(text.contains("shown this once"));
        press(&mut app, KeyCode::Esc);
        assert!(!screen(&app).contains("tg-0123456789"));
    }

    #[test]
    fn a_viewer_gets_no_write_hints() {
        let mut app = app_on(Tab::ClientKeys);
        app.on_response(
            Response::Me(Ok(Me {
                id: 4,
                username: "vera".into(),
                role: "viewer".into(),
                permissions: Some(vec!["client_keys:read".into()]),
            })),
            t0(),
        );
        app.on_response(Response::ClientKeys(Ok(vec![])), t0());
        let text = screen(&app);
        assert!(!text.contains("n new"), "{text}");
        assert!(text.contains("No client keys you can see."));
    }
}
