//! Drawing: the tab bar, the shown view, the footer, and the pop-ups (help, confirmation,
//! forms, a new key, a log row's detail) and the sign-in screen. Fits 80×24.

mod audit;
mod client_keys;
mod credentials;
mod logs;
mod overview;

use crate::app::{App, Loaded, Modal, Tab};
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, TableState, Tabs, Wrap};

pub use logs::detail_lines;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: Theme) {
    let area = frame.area();
    if !app.signed_in {
        sign_in(frame, area, app, theme);
        return;
    }
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    tab_bar(frame, top, app, theme);
    let block = Block::bordered()
        .title(Span::styled(
            format!(" {} ", app.tab.title()),
            theme.title(),
        ))
        .title_bottom(Line::from(identity(app)).right_aligned());
    let inner = block.inner(body);
    frame.render_widget(block, body);
    match app.tab {
        Tab::Overview => overview::draw(frame, inner, app, theme),
        Tab::Credentials => credentials::draw(frame, inner, app, theme),
        Tab::ClientKeys => client_keys::draw(frame, inner, app, theme),
        Tab::Logs => logs::draw(frame, inner, app, theme),
        Tab::Audit => audit::draw(frame, inner, app, theme),
    }
    footer(frame, bottom, app, theme);
    if let Some(modal) = &app.modal {
        draw_modal(frame, area, app, modal, theme);
    }
}

fn identity(app: &App) -> String {
    let who = app.me.as_ref().map_or_else(
        || app.user.clone(),
        |me| format!("{} ({})", me.username, me.role),
    );
    let host = app
        .url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    format!(" {who} @ {host} ")
}

fn tab_bar(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    let [name, tabs] = Layout::horizontal([Constraint::Length(9), Constraint::Min(0)]).areas(area);
    frame.render_widget(Span::styled("Tollgate ", theme.title()), name);
    frame.render_widget(
        Tabs::new(titles)
            .select(app.tab.index())
            .highlight_style(theme.tab_active())
            .divider("│")
            .padding(" ", " "),
        tabs,
    );
}

/// The key hints of the shown tab, without the write actions the user lacks.
fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    match app.tab {
        Tab::Credentials => {
            if app.perms.check_credentials() {
                out.push(("c", "check"));
            }
            if app.perms.write_credentials() {
                out.push(("e/d", "enable/disable"));
            }
        }
        Tab::ClientKeys => {
            if app.perms.write_client_keys() {
                out.push(("n", "new"));
                out.push(("e/d", "enable/disable"));
            }
        }
        Tab::Logs => {
            out.push(("⏎", "detail"));
            out.push(("/", "filter"));
            out.push(("p", if app.logs.paused { "resume" } else { "pause" }));
        }
        Tab::Overview | Tab::Audit => {}
    }
    out.extend([("r", "refresh"), ("?", "help"), ("q", "quit")]);
    out
}

fn footer(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let line = match &app.flash {
        Some(flash) => Line::from(Span::styled(
            format!(" {}", flash.text),
            if flash.error {
                theme.error()
            } else {
                theme.ok()
            },
        )),
        None => {
            let mut spans = Vec::new();
            for (k, what) in hints(app) {
                spans.push(Span::styled(format!(" {k}"), theme.header()));
                spans.push(Span::raw(format!(" {what} ")));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// A centred rectangle of at most `w`×`h` inside `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, theme: Theme) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(format!(" {title} "), theme.title()))),
        area,
    );
}

fn draw_modal(frame: &mut Frame, area: Rect, app: &App, modal: &Modal, theme: Theme) {
    match modal {
        Modal::Help => {
            let lines = help_lines(app, theme);
            let height = u16::try_from(lines.len())
                .unwrap_or(u16::MAX)
                .saturating_add(2);
            popup(frame, centered(area, 72, height), "Keys", lines, theme);
        }
        Modal::Confirm { prompt, .. } => popup(
            frame,
            centered(area, 60, 6),
            "Confirm",
            vec![
                Line::from(prompt.clone()),
                Line::default(),
                Line::from(vec![
                    Span::styled("y", theme.header()),
                    Span::raw(" yes   "),
                    Span::styled("n", theme.header()),
                    Span::raw(" no"),
                ]),
            ],
            theme,
        ),
        Modal::NewKey(form) => client_keys::draw_form(frame, area, form, theme),
        Modal::CreatedKey { name, key } => popup(
            frame,
            centered(area, 76, 9),
            "New client key",
            vec![
                Line::from(format!(
                    "Client key `{name}` created. Its secret, shown this once:"
                )),
                Line::default(),
                Line::from(Span::styled(key.clone(), theme.header())),
                Line::default(),
                Line::from("Copy it now: Tollgate keeps only a hash and cannot show it again."),
                Line::from(Span::styled("Enter or Esc to close", theme.dim())),
            ],
            theme,
        ),
        Modal::LogDetail(id, detail) => logs::draw_detail(frame, area, *id, detail, theme),
        Modal::Filter(text) => popup(
            frame,
            centered(area, 66, 7),
            "Filter the live log",
            vec![
                Line::from(vec![
                    Span::raw("> "),
                    Span::styled(format!("{text}_"), theme.header()),
                ]),
                Line::default(),
                Line::from("key:ID  model:NAME  status:CODE   (any of them; empty = all)"),
                Line::from(Span::styled("Enter apply · Esc cancel", theme.dim())),
            ],
            theme,
        ),
    }
}

fn help_lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let key = |k: &str, what: &str| {
        Line::from(vec![
            Span::styled(format!("  {k:<12}"), theme.header()),
            Span::raw(what.to_string()),
        ])
    };
    let mut lines = vec![
        Line::from(Span::styled("Everywhere", theme.title())),
        key("1-5 Tab ←→", "switch view"),
        key("↑↓ j k", "move; PgUp PgDn, g/G first/last"),
        key("r", "refresh now"),
        key("?", "this help (any key closes it)"),
        key("q Ctrl-C", "quit (and sign out)"),
        Line::from(Span::styled(app.tab.title().to_string(), theme.title())),
    ];
    match app.tab {
        Tab::Overview => lines.push(key("", "requests, errors, cost; refreshed every 5 s")),
        Tab::Credentials => {
            if app.perms.check_credentials() {
                lines.push(key("c", "check the selected credential now"));
            }
            if app.perms.write_credentials() {
                lines.push(key("e / d", "enable / disable it (disable asks first)"));
            }
            lines.push(key("", "the selected one's last error is shown below"));
        }
        Tab::ClientKeys => {
            if app.perms.write_client_keys() {
                lines.push(key("n", "new client key (its secret is shown once)"));
                lines.push(key("e / d", "enable / disable the selected key"));
            }
            lines.push(key("", "usage today against limits; spend/budget"));
        }
        Tab::Logs => {
            lines.push(key("Enter", "the request's attempts, tokens and cost"));
            lines.push(key("/ or f", "filter by key:ID model:NAME status:CODE"));
            lines.push(key("x", "clear the filter"));
            lines.push(key("p Space", "pause / resume following new requests"));
        }
        Tab::Audit => lines.push(key(
            "",
            "who changed what; the selected entry's details below",
        )),
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Times are UTC. Actions your role lacks are hidden.",
        theme.dim(),
    )));
    lines
}

fn sign_in(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Server  ", theme.dim()),
            Span::raw(app.url.clone()),
        ]),
        Line::from(vec![
            Span::styled("User    ", theme.dim()),
            Span::raw(app.user.clone()),
        ]),
        Line::from(vec![
            Span::styled("Key     ", theme.dim()),
            Span::raw(app.key_label.clone()),
        ]),
        Line::default(),
    ];
    match (&app.sign_in.error, app.sign_in.busy) {
        (_, true) => lines.push(Line::from("Signing in with the key (challenge-response)…")),
        (Some(error), false) => {
            lines.push(Line::from(Span::styled(capitalize(error), theme.error())));
            lines.push(Line::default());
            let advice = if error.starts_with("sign-in refused") {
                "Is this public key registered for this user (POST /api/auth/public-keys, or \
                 the console's account page), and is the user enabled?"
            } else if error.starts_with("session ended") {
                "Sign in again to go on."
            } else {
                "Check the server URL and that Tollgate is running."
            };
            lines.push(Line::from(advice));
            lines.push(Line::default());
            lines.push(Line::from(vec![
                Span::styled("r", theme.header()),
                Span::raw(" sign in again   "),
                Span::styled("q", theme.header()),
                Span::raw(" quit"),
            ]));
        }
        (None, false) => lines.push(Line::from(vec![
            Span::styled("r", theme.header()),
            Span::raw(" sign in   "),
            Span::styled("q", theme.header()),
            Span::raw(" quit"),
        ])),
    }
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(4);
    popup(
        frame,
        centered(area, 74, height.max(10)),
        "Tollgate · sign in",
        lines,
        theme,
    );
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A view's list: header, selection marked with `>`, columns a space apart.
fn draw_list<'a>(
    frame: &mut Frame,
    area: Rect,
    rows: impl IntoIterator<Item = Row<'a>>,
    widths: &[Constraint],
    header: &[&'a str],
    selected: usize,
    theme: Theme,
) {
    let table = Table::new(rows, widths.to_vec())
        .header(Row::new(header.to_vec()).style(theme.header()))
        .row_highlight_style(theme.selected())
        .highlight_symbol("> ")
        .column_spacing(1);
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The pane under a list: a rule, `lines` about the selected row (wrapped), and last the
/// view's error or when it was read.
fn draw_detail_pane<T>(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<Line>,
    loaded: &Loaded<T>,
    theme: Theme,
) {
    let [rule, text, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Span::styled("─".repeat(usize::from(rule.width)), theme.dim()),
        rule,
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text);
    let tail = match &loaded.error {
        Some(e) => Span::styled(e.clone(), theme.error()),
        None => Span::styled(updated(loaded), theme.dim()),
    };
    frame.render_widget(Paragraph::new(Line::from(tail)), bottom);
}

/// A line saying why a view has nothing to show: loading, or the API's error.
fn status_line<T>(loaded: &Loaded<T>, theme: Theme) -> Option<Line<'static>> {
    if let Some(error) = &loaded.error {
        return Some(Line::from(Span::styled(error.clone(), theme.error())));
    }
    if loaded.data.is_none() {
        return Some(Line::from(Span::styled("Loading…", theme.dim())));
    }
    None
}

/// `updated 10:00:05 UTC`.
fn updated<T>(loaded: &Loaded<T>) -> String {
    loaded
        .at
        .map(|at| format!("updated {}", clock(at)))
        .unwrap_or_default()
}

pub fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%M:%S").to_string()
}

/// 999, 1.2k, 34k, 1.5M.
pub fn compact(n: i64) -> String {
    let a = n.unsigned_abs();
    let sign = if n < 0 { "-" } else { "" };
    match a {
        0..=9_999 => format!("{n}"),
        10_000..=999_999 => format!("{sign}{}k", a / 1000),
        1_000_000..=9_999_999 => format!("{sign}{:.1}M", a as f64 / 1e6),
        _ => format!("{sign}{}M", a / 1_000_000),
    }
}

/// 1,234,567.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A decimal cost for a narrow column: as sent when it fits, else with as many decimals as
/// fit; an amount too small for the column shows as `<0.001`.
pub fn cost(text: &str, width: usize) -> String {
    if text.len() <= width {
        return text.to_string();
    }
    let Ok(v) = text.parse::<f64>() else {
        return truncate(text, width);
    };
    for decimals in (0..=9).rev() {
        let s = format!("{v:.decimals$}");
        if s.len() <= width {
            if v > 0.0 && s.parse::<f64>().is_ok_and(|r| r == 0.0) {
                let zeros = width.saturating_sub(4);
                return format!("<0.{}1", "0".repeat(zeros));
            }
            return s;
        }
    }
    format!("{v:.0}")
}

pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

/// The rendered text of a buffer, one line per row, trailing spaces removed.
pub fn buffer_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.y..area.y + area.height {
        let mut line = String::new();
        for x in area.x..area.x + area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Renders the app on an off-screen terminal of `w`×`h` and returns the text (tests and docs).
pub fn render_text(app: &App, theme: Theme, w: u16, h: u16) -> Result<String, std::io::Error> {
    let backend = ratatui::backend::TestBackend::new(w, h);
    let mut terminal = ratatui::Terminal::new(backend)?;
    terminal.draw(|f| draw(f, app, theme))?;
    Ok(buffer_text(terminal.backend().buffer()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::api::{ClientError, Me};
    use crate::app::{Response, SignIn};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    pub fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    /// `/me` of a member on a server without the permissions model.
    pub fn member() -> Response {
        Response::Me(Ok(Me {
            id: 3,
            username: "mia".into(),
            role: "member".into(),
            permissions: None,
        }))
    }

    pub fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    pub fn press(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE), t0());
    }

    /// A signed-in admin on the given tab.
    pub fn app_on(tab: Tab) -> App {
        let mut app = App::new("http://127.0.0.1:9090", "ops", "id_ed25519");
        app.start();
        app.on_response(Response::SignedIn(Ok(())), t0());
        app.on_response(
            Response::Me(Ok(Me {
                id: 2,
                username: "ops".into(),
                role: "admin".into(),
                permissions: None,
            })),
            t0(),
        );
        app.tab = tab;
        app
    }

    pub fn screen(app: &App) -> String {
        render_text(app, Theme::COLOR, 80, 24).unwrap()
    }

    #[test]
    fn the_frame_has_tabs_identity_and_hints_in_80_columns() {
        let app = app_on(Tab::Overview);
        let text = screen(&app);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 24);
        assert!(lines[0].starts_with("Tollgate"));
        for t in Tab::ALL {
            assert!(lines[0].contains(t.title()), "{}", lines[0]);
        }
        assert!(lines[22].contains("ops (admin) @ 127.0.0.1:9090"), "{text}");
        assert!(lines[23].contains("? help") && lines[23].contains("q quit"));
    }

    #[test]
    fn help_lists_the_keys_of_the_view() {
        let mut app = app_on(Tab::Logs);
        press(&mut app, KeyCode::Char('?'));
        let text = screen(&app);
        assert!(text.contains("switch view"), "{text}");
        assert!(text.contains("filter by key:ID model:NAME status:CODE"));
        press(&mut app, KeyCode::Char('z'));
        assert!(!screen(&app).contains("switch view"));
    }

    #[test]
    fn sign_in_errors_are_explained_and_offer_a_retry() {
        let mut app = App::new("http://tg.example:9090", "ops", "~/.ssh/id_ed25519 (a1b2)");
        app.start();
        let text = screen(&app);
        assert!(text.contains("Signing in with the key"), "{text}");
        app.on_response(
            Response::SignedIn(Err(ClientError::SignInRefused(
                "the server did not accept the signed challenge".into(),
            ))),
            t0(),
        );
        let text = screen(&app);
        assert!(
            text.contains("Sign-in refused: the server did not accept the signed challenge"),
            "{text}"
        );
        assert!(text.contains("Is this public key registered for this user"));
        assert!(text.contains("r sign in again"));
        assert!(text.contains("~/.ssh/id_ed25519 (a1b2)"));
        app.sign_in = SignIn {
            busy: false,
            error: Some("cannot reach the server: connection refused".into()),
        };
        assert!(screen(&app).contains("Check the server URL"));
    }

    #[test]
    fn no_color_draws_without_colours() {
        let app = app_on(Tab::Overview);
        let backend = ratatui::backend::TestBackend::new(80, 24);
        let mut terminal = ratatui::Terminal::new(backend).unwrap();
        terminal.draw(|f| draw(f, &app, Theme::PLAIN)).unwrap();
        let buffer = terminal.backend().buffer();
        assert!(
            buffer
                .content
                .iter()
                .all(|c| c.fg == ratatui::style::Color::Reset
                    && c.bg == ratatui::style::Color::Reset)
        );
        // The active tab is still marked, by reverse video.
        assert!(
            buffer
                .content
                .iter()
                .any(|c| c.modifier.contains(Modifier::REVERSED))
        );
        terminal.draw(|f| draw(f, &app, Theme::COLOR)).unwrap();
        assert!(
            terminal
                .backend()
                .buffer()
                .content
                .iter()
                .any(|c| c.fg != ratatui::style::Color::Reset)
        );
    }

    #[test]
    fn formats_fit_narrow_columns() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(81_234), "81k");
        assert_eq!(compact(2_000_000), "2.0M");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
        assert_eq!(cost("0.000123", 9), "0.000123");
        assert_eq!(cost("0.000011925", 9), "0.0000119");
        assert_eq!(cost("0.000000001", 9), "<0.000001");
        assert_eq!(cost("0.000011925", 6), "<0.001");
        assert_eq!(cost("17.0812345678", 9), "17.081235");
        assert_eq!(cost("17.0812345678", 5), "17.08");
        assert_eq!(cost("123456789012", 9), "123456789012");
        assert_eq!(truncate("gpt-4o-mini-2024-07-18", 10), "gpt-4o-mi…");
    }

    #[test]
    fn a_smaller_terminal_does_not_break_drawing() {
        let app = app_on(Tab::Credentials);
        for (w, h) in [(40, 10), (10, 3), (1, 1)] {
            assert!(render_text(&app, Theme::COLOR, w, h).is_ok());
        }
    }
}
