//! The client's state and what keys do to it. Pure: keys and API answers go in, the API calls
//! to make come out, and time is passed in, so every behaviour is testable without a terminal.

use crate::api::{
    AuditEntry, CheckOutcome, ClientError, ClientKey, CreatedClientKey, LogFilter, LogRow, Me,
    NewClientKey, Overview, Provider, ProviderKey,
};
use crate::perms::Permissions;
use chrono::{DateTime, Duration, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeSet;

/// Log rows kept in the live log.
pub const LOG_ROWS_KEPT: usize = 500;
/// Rows asked for on each poll of the live log.
pub const LOG_POLL_ROWS: u32 = 100;
/// Client keys whose usage is read one by one on each refresh.
pub const USAGE_READS: usize = 100;
/// How long a status message stays.
const FLASH_SECS: i64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Credentials,
    ClientKeys,
    Logs,
    Audit,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Overview,
        Tab::Credentials,
        Tab::ClientKeys,
        Tab::Logs,
        Tab::Audit,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Credentials => "Credentials",
            Tab::ClientKeys => "Client keys",
            Tab::Logs => "Live log",
            Tab::Audit => "Audit",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// How often the tab's data is read again while it is shown.
    fn poll_every(self) -> Duration {
        match self {
            Tab::Logs => Duration::seconds(2),
            Tab::Audit => Duration::seconds(10),
            _ => Duration::seconds(5),
        }
    }
}

/// An API call for the runner to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    SignIn,
    Me,
    Providers,
    Overview,
    Credentials,
    CheckCredential(i64),
    SetCredentialEnabled(i64, bool),
    ClientKeys,
    CreateClientKey(NewClientKey),
    SetClientKeyEnabled(i64, bool),
    Logs(LogFilter),
    LogDetail(i64),
    Audit,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone)]
pub enum Response {
    SignedIn(Result<(), ClientError>),
    Me(Result<Me, ClientError>),
    Providers(Result<Vec<Provider>, ClientError>),
    Overview(Result<(Overview, Overview), ClientError>),
    Credentials(Result<Vec<ProviderKey>, ClientError>),
    Checked(i64, Result<CheckOutcome, ClientError>),
    CredentialEnabled(i64, bool, Result<ProviderKey, ClientError>),
    ClientKeys(Result<Vec<ClientKey>, ClientError>),
    Created(Result<CreatedClientKey, ClientError>),
    ClientKeyEnabled(i64, bool, Result<ClientKey, ClientError>),
    Logs(LogFilter, Result<Vec<LogRow>, ClientError>),
    LogDetail(i64, Result<LogRow, ClientError>),
    Audit(Result<Vec<AuditEntry>, ClientError>),
}

/// Data read from the API, with its last error and when it was read.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    pub data: Option<T>,
    pub error: Option<String>,
    pub loading: bool,
    pub at: Option<DateTime<Utc>>,
}

impl<T> Default for Loaded<T> {
    fn default() -> Self {
        Self {
            data: None,
            error: None,
            loading: false,
            at: None,
        }
    }
}

impl<T> Loaded<T> {
    fn set(&mut self, result: Result<T, ClientError>, now: DateTime<Utc>) {
        self.loading = false;
        self.at = Some(now);
        match result {
            Ok(data) => {
                self.data = Some(data);
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn due(&self, every: Duration, now: DateTime<Utc>) -> bool {
        !self.loading && self.at.is_none_or(|at| now - at >= every)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SignIn {
    pub busy: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    at: DateTime<Utc>,
}

/// The create-client-key form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyForm {
    /// Name, provider (name or id), pool (credential ids; blank = every one of the provider
    /// that the user can see).
    pub fields: [String; 3],
    pub focus: usize,
    pub error: Option<String>,
}

impl KeyForm {
    pub const LABELS: [&'static str; 3] = ["Name", "Provider", "Credentials"];
}

#[derive(Debug, Clone)]
pub enum Modal {
    Help,
    Confirm {
        prompt: String,
        request: Request,
    },
    NewKey(KeyForm),
    /// A new client key, shown this once.
    CreatedKey {
        name: String,
        key: String,
    },
    LogDetail(i64, Box<Loaded<LogRow>>),
    Filter(String),
}

#[derive(Debug, Clone, Default)]
pub struct LogView {
    pub rows: Vec<LogRow>,
    pub error: Option<String>,
    pub loading: bool,
    pub at: Option<DateTime<Utc>>,
    pub filter: LogFilter,
    /// Rows that arrived with the last poll.
    pub fresh: BTreeSet<i64>,
    pub paused: bool,
}

pub struct App {
    pub url: String,
    pub user: String,
    pub key_label: String,
    pub signed_in: bool,
    pub sign_in: SignIn,
    pub tab: Tab,
    pub me: Option<Me>,
    pub perms: Permissions,
    pub providers: Vec<Provider>,
    pub overview: Loaded<(Overview, Overview)>,
    pub credentials: Loaded<Vec<ProviderKey>>,
    pub client_keys: Loaded<Vec<ClientKey>>,
    pub logs: LogView,
    pub audit: Loaded<Vec<AuditEntry>>,
    /// Selected row per tab (by index into that tab's rows).
    pub selected: [usize; 5],
    pub modal: Option<Modal>,
    pub flash: Option<Flash>,
    pub quit: bool,
}

fn ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

impl App {
    pub fn new(url: &str, user: &str, key_label: &str) -> Self {
        Self {
            url: url.to_string(),
            user: user.to_string(),
            key_label: key_label.to_string(),
            signed_in: false,
            sign_in: SignIn {
                busy: true,
                error: None,
            },
            tab: Tab::Overview,
            me: None,
            perms: Permissions::all(),
            providers: Vec::new(),
            overview: Loaded::default(),
            credentials: Loaded::default(),
            client_keys: Loaded::default(),
            logs: LogView::default(),
            audit: Loaded::default(),
            selected: [0; 5],
            modal: None,
            flash: None,
            quit: false,
        }
    }

    /// What to ask for first.
    pub fn start(&mut self) -> Vec<Request> {
        self.sign_in.busy = true;
        vec![Request::SignIn]
    }

    fn flash(&mut self, text: impl Into<String>, error: bool, now: DateTime<Utc>) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
            at: now,
        });
    }

    /// Number of rows in the current tab's list.
    pub fn row_count(&self) -> usize {
        match self.tab {
            Tab::Overview => 0,
            Tab::Credentials => self.credentials.data.as_ref().map_or(0, Vec::len),
            Tab::ClientKeys => self.client_keys.data.as_ref().map_or(0, Vec::len),
            Tab::Logs => self.logs.rows.len(),
            Tab::Audit => self.audit.data.as_ref().map_or(0, Vec::len),
        }
    }

    pub fn selection(&self, tab: Tab) -> usize {
        self.selected[tab.index()]
    }

    pub fn selected_credential(&self) -> Option<&ProviderKey> {
        self.credentials
            .data
            .as_ref()?
            .get(self.selection(Tab::Credentials))
    }

    pub fn selected_client_key(&self) -> Option<&ClientKey> {
        self.client_keys
            .data
            .as_ref()?
            .get(self.selection(Tab::ClientKeys))
    }

    pub fn selected_log(&self) -> Option<&LogRow> {
        self.logs.rows.get(self.selection(Tab::Logs))
    }

    pub fn selected_audit(&self) -> Option<&AuditEntry> {
        self.audit.data.as_ref()?.get(self.selection(Tab::Audit))
    }

    pub fn provider_name(&self, id: i64) -> Option<&str> {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.as_str())
    }

    fn clamp_selection(&mut self) {
        let n = self.row_count();
        let i = self.tab.index();
        self.selected[i] = self.selected[i].min(n.saturating_sub(1));
    }

    /// The calls due now: the shown tab's data when it is stale.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Request> {
        if self
            .flash
            .as_ref()
            .is_some_and(|f| now - f.at >= Duration::seconds(FLASH_SECS))
        {
            self.flash = None;
        }
        if !self.signed_in {
            return Vec::new();
        }
        self.load_tab(now, false)
    }

    fn load_tab(&mut self, now: DateTime<Utc>, force: bool) -> Vec<Request> {
        let every = self.tab.poll_every();
        let due = |l: bool, at: Option<DateTime<Utc>>| {
            !l && (force || at.is_none_or(|at| now - at >= every))
        };
        match self.tab {
            Tab::Overview if force || self.overview.due(every, now) => {
                self.overview.loading = true;
                vec![Request::Overview]
            }
            // Provider names change rarely, but a new provider should not show as a number.
            Tab::Credentials if force || self.credentials.due(every, now) => {
                self.credentials.loading = true;
                vec![Request::Credentials, Request::Providers]
            }
            Tab::ClientKeys if force || self.client_keys.due(every, now) => {
                self.client_keys.loading = true;
                vec![Request::ClientKeys, Request::Providers]
            }
            // Paused: no polls, but `r` still reads once.
            Tab::Logs if (force || !self.logs.paused) && due(self.logs.loading, self.logs.at) => {
                self.logs.loading = true;
                vec![Request::Logs(self.logs.filter.clone())]
            }
            Tab::Audit if force || self.audit.due(every, now) => {
                self.audit.loading = true;
                vec![Request::Audit]
            }
            _ => Vec::new(),
        }
    }

    /// Takes an API answer.
    pub fn on_response(&mut self, response: Response, now: DateTime<Utc>) -> Vec<Request> {
        if let Some(e) = response_error(&response).filter(|e| e.needs_sign_in()) {
            let message = e.to_string();
            return self.signed_out(message);
        }
        match response {
            Response::SignedIn(Ok(())) => {
                self.signed_in = true;
                self.sign_in = SignIn::default();
                self.overview = Loaded::default();
                self.credentials = Loaded::default();
                self.client_keys = Loaded::default();
                self.audit = Loaded::default();
                self.logs = LogView {
                    filter: self.logs.filter.clone(),
                    ..LogView::default()
                };
                let mut out = vec![Request::Me, Request::Providers];
                out.extend(self.load_tab(now, true));
                return out;
            }
            Response::SignedIn(Err(e)) => {
                self.sign_in = SignIn {
                    busy: false,
                    error: Some(e.to_string()),
                };
            }
            Response::Me(Ok(me)) => {
                self.perms = Permissions::of(&me);
                self.me = Some(me);
            }
            Response::Me(Err(e)) => self.flash(e.to_string(), true, now),
            Response::Providers(Ok(list)) => self.providers = list,
            // Names are a nicety: ids are shown instead.
            Response::Providers(Err(_)) => {}
            Response::Overview(r) => self.overview.set(r, now),
            Response::Credentials(r) => self.credentials.set(r, now),
            Response::Checked(id, Ok(outcome)) => {
                let status = outcome
                    .status
                    .map_or_else(|| "no answer".to_string(), |s| s.to_string());
                let text = if outcome.ok {
                    format!(
                        "Credential {id}: check passed ({status}, {} ms)",
                        outcome.latency_ms
                    )
                } else {
                    format!(
                        "Credential {id}: check failed ({})",
                        outcome.error.unwrap_or(status)
                    )
                };
                self.flash(text, !outcome.ok, now);
                return self.reload(Tab::Credentials, now);
            }
            Response::CredentialEnabled(id, on, Ok(_)) => {
                let word = if on { "enabled" } else { "disabled" };
                self.flash(format!("Credential {id} {word}"), false, now);
                return self.reload(Tab::Credentials, now);
            }
            Response::ClientKeys(r) => self.client_keys.set(r, now),
            Response::Created(Ok(created)) => {
                self.modal = Some(Modal::CreatedKey {
                    name: created.name,
                    key: created.key,
                });
                return self.reload(Tab::ClientKeys, now);
            }
            Response::Created(Err(e)) => {
                if let Some(Modal::NewKey(form)) = &mut self.modal {
                    form.error = Some(e.to_string());
                } else {
                    self.flash(e.to_string(), true, now);
                }
            }
            Response::ClientKeyEnabled(id, on, Ok(_)) => {
                let word = if on { "enabled" } else { "disabled" };
                self.flash(format!("Client key {id} {word}"), false, now);
                return self.reload(Tab::ClientKeys, now);
            }
            Response::Checked(_, Err(e))
            | Response::CredentialEnabled(_, _, Err(e))
            | Response::ClientKeyEnabled(_, _, Err(e)) => self.flash(e.to_string(), true, now),
            Response::Logs(filter, r) => self.take_logs(filter, r, now),
            Response::LogDetail(id, r) => {
                if let Some(Modal::LogDetail(shown, detail)) = &mut self.modal {
                    if *shown == id {
                        detail.set(r, now);
                    }
                }
            }
            Response::Audit(r) => self.audit.set(r, now),
        }
        self.clamp_selection();
        Vec::new()
    }

    /// Reads a tab again now if it is the one shown, else marks it stale.
    fn reload(&mut self, tab: Tab, now: DateTime<Utc>) -> Vec<Request> {
        match tab {
            Tab::Credentials => self.credentials.at = None,
            Tab::ClientKeys => self.client_keys.at = None,
            _ => {}
        }
        if self.tab == tab {
            self.load_tab(now, false)
        } else {
            Vec::new()
        }
    }

    fn signed_out(&mut self, message: String) -> Vec<Request> {
        self.signed_in = false;
        self.modal = None;
        self.sign_in = SignIn {
            busy: false,
            error: Some(message),
        };
        Vec::new()
    }

    fn take_logs(
        &mut self,
        filter: LogFilter,
        result: Result<Vec<LogRow>, ClientError>,
        now: DateTime<Utc>,
    ) {
        if filter != self.logs.filter {
            // An answer for a filter that was changed meanwhile.
            return;
        }
        self.logs.loading = false;
        self.logs.at = Some(now);
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                self.logs.error = Some(e.to_string());
                return;
            }
        };
        self.logs.error = None;
        let selected_id = self.selected_log().map(|r| r.id);
        let follow = self.selection(Tab::Logs) == 0;
        let newest = self.logs.rows.first().map(|r| r.id);
        self.logs.fresh = match newest {
            Some(newest) => rows
                .iter()
                .filter(|r| r.id > newest)
                .map(|r| r.id)
                .collect(),
            None => BTreeSet::new(),
        };
        let mut merged = rows;
        let known: BTreeSet<i64> = merged.iter().map(|r| r.id).collect();
        merged.extend(
            std::mem::take(&mut self.logs.rows)
                .into_iter()
                .filter(|r| !known.contains(&r.id)),
        );
        merged.sort_by_key(|r| std::cmp::Reverse(r.id));
        merged.truncate(LOG_ROWS_KEPT);
        self.logs.rows = merged;
        let i = Tab::Logs.index();
        if let Some(id) = selected_id.filter(|_| !follow) {
            self.selected[i] = self.logs.rows.iter().position(|r| r.id == id).unwrap_or(0);
        }
    }

    /// Takes a key press.
    pub fn on_key(&mut self, key: KeyEvent, now: DateTime<Utc>) -> Vec<Request> {
        if ctrl_c(&key) {
            self.quit = true;
            return Vec::new();
        }
        if !self.signed_in {
            return match key.code {
                KeyCode::Char('q') | KeyCode::Esc => {
                    self.quit = true;
                    Vec::new()
                }
                KeyCode::Char('r') | KeyCode::Enter if !self.sign_in.busy => {
                    self.sign_in.busy = true;
                    self.sign_in.error = None;
                    vec![Request::SignIn]
                }
                _ => Vec::new(),
            };
        }
        if let Some(modal) = self.modal.take() {
            return self.on_modal_key(modal, key, now);
        }
        self.on_main_key(key, now)
    }

    fn on_modal_key(&mut self, modal: Modal, key: KeyEvent, now: DateTime<Utc>) -> Vec<Request> {
        match modal {
            Modal::Help => Vec::new(),
            Modal::CreatedKey { .. } => match key.code {
                KeyCode::Enter | KeyCode::Esc | KeyCode::Char('q') => Vec::new(),
                _ => {
                    self.modal = Some(modal);
                    Vec::new()
                }
            },
            Modal::Confirm { prompt, request } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => vec![request],
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Vec::new(),
                _ => {
                    self.modal = Some(Modal::Confirm { prompt, request });
                    Vec::new()
                }
            },
            Modal::LogDetail(id, detail) => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Vec::new(),
                KeyCode::Char('r') => {
                    self.modal = Some(Modal::LogDetail(id, detail));
                    vec![Request::LogDetail(id)]
                }
                _ => {
                    self.modal = Some(Modal::LogDetail(id, detail));
                    Vec::new()
                }
            },
            Modal::Filter(mut text) => match key.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Enter => match parse_filter(&text) {
                    Ok(filter) => self.set_filter(filter, now),
                    Err(e) => {
                        self.flash(e, true, now);
                        self.modal = Some(Modal::Filter(text));
                        Vec::new()
                    }
                },
                KeyCode::Backspace => {
                    text.pop();
                    self.modal = Some(Modal::Filter(text));
                    Vec::new()
                }
                KeyCode::Char(c) => {
                    text.push(c);
                    self.modal = Some(Modal::Filter(text));
                    Vec::new()
                }
                _ => {
                    self.modal = Some(Modal::Filter(text));
                    Vec::new()
                }
            },
            Modal::NewKey(mut form) => {
                let n = form.fields.len();
                match key.code {
                    KeyCode::Esc => return Vec::new(),
                    KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % n,
                    KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + n - 1) % n,
                    KeyCode::Backspace => {
                        form.fields[form.focus].pop();
                    }
                    KeyCode::Char(c) => form.fields[form.focus].push(c),
                    KeyCode::Enter => match self.new_key_request(&form) {
                        Ok(new) => {
                            form.error = None;
                            self.modal = Some(Modal::NewKey(form));
                            return vec![Request::CreateClientKey(new)];
                        }
                        Err(e) => form.error = Some(e),
                    },
                    _ => {}
                }
                self.modal = Some(Modal::NewKey(form));
                Vec::new()
            }
        }
    }

    fn set_filter(&mut self, filter: LogFilter, now: DateTime<Utc>) -> Vec<Request> {
        self.logs = LogView {
            filter,
            paused: self.logs.paused,
            ..LogView::default()
        };
        self.selected[Tab::Logs.index()] = 0;
        self.load_tab(now, true)
    }

    /// Checks the form and turns it into the API's body.
    fn new_key_request(&self, form: &KeyForm) -> Result<NewClientKey, String> {
        let name = form.fields[0].trim();
        if name.is_empty() {
            return Err("a name is required".into());
        }
        let provider = form.fields[1].trim();
        let provider_id = match provider.parse::<i64>() {
            Ok(id) => id,
            Err(_) => self
                .providers
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(provider))
                .map(|p| p.id)
                .ok_or_else(|| {
                    if provider.is_empty() {
                        "a provider (name or id) is required".to_string()
                    } else {
                        format!("no provider named `{provider}`")
                    }
                })?,
        };
        let pool = form.fields[2].trim();
        let provider_key_ids = if pool.is_empty() {
            self.credentials
                .data
                .as_ref()
                .map(|keys| {
                    keys.iter()
                        .filter(|k| k.provider_id == provider_id)
                        .map(|k| k.id)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            pool.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<i64>()
                        .map_err(|_| format!("`{s}` is not a credential id"))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(NewClientKey {
            name: name.to_string(),
            provider_id,
            provider_key_ids,
        })
    }

    fn move_selection(&mut self, delta: i64) {
        let n = self.row_count();
        if n == 0 {
            return;
        }
        let i = self.tab.index();
        let current = i64::try_from(self.selected[i]).unwrap_or(0);
        let max = i64::try_from(n - 1).unwrap_or(0);
        self.selected[i] = usize::try_from((current + delta).clamp(0, max)).unwrap_or(0);
    }

    fn switch(&mut self, tab: Tab, now: DateTime<Utc>) -> Vec<Request> {
        self.tab = tab;
        self.clamp_selection();
        self.load_tab(now, false)
    }

    fn denied(&mut self, needs: &str, now: DateTime<Utc>) -> Vec<Request> {
        self.flash(
            format!("Your role does not allow this (needs `{needs}`)"),
            true,
            now,
        );
        Vec::new()
    }

    fn on_main_key(&mut self, key: KeyEvent, now: DateTime<Utc>) -> Vec<Request> {
        let code = key.code;
        match code {
            KeyCode::Char('q') => {
                self.quit = true;
                return Vec::new();
            }
            KeyCode::Char('?') => {
                self.modal = Some(Modal::Help);
                return Vec::new();
            }
            KeyCode::Char(c @ '1'..='5') => {
                let i = usize::from(c as u8 - b'1');
                return self.switch(Tab::ALL[i], now);
            }
            KeyCode::Tab | KeyCode::Right => {
                return self.switch(Tab::ALL[(self.tab.index() + 1) % 5], now);
            }
            KeyCode::BackTab | KeyCode::Left => {
                return self.switch(Tab::ALL[(self.tab.index() + 4) % 5], now);
            }
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::PageDown => self.move_selection(10),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(i64::MAX / 2),
            KeyCode::Char('r') => return self.load_tab(now, true),
            _ => return self.on_tab_key(code, now),
        }
        Vec::new()
    }

    fn on_tab_key(&mut self, code: KeyCode, now: DateTime<Utc>) -> Vec<Request> {
        match (self.tab, code) {
            (Tab::Credentials, KeyCode::Char('c')) => {
                if !self.perms.check_credentials() {
                    return self.denied("provider_keys:check", now);
                }
                let Some(id) = self.selected_credential().map(|k| k.id) else {
                    return Vec::new();
                };
                self.flash(format!("Checking credential {id}…"), false, now);
                vec![Request::CheckCredential(id)]
            }
            (Tab::Credentials, KeyCode::Char(c @ ('e' | 'd'))) => {
                if !self.perms.write_credentials() {
                    return self.denied("provider_keys:write", now);
                }
                let Some(k) = self.selected_credential() else {
                    return Vec::new();
                };
                let request = Request::SetCredentialEnabled(k.id, c == 'e');
                if c == 'e' {
                    return vec![request];
                }
                self.modal = Some(Modal::Confirm {
                    prompt: format!(
                        "Disable credential {} `{}`? The proxy stops using it.",
                        k.id, k.name
                    ),
                    request,
                });
                Vec::new()
            }
            (Tab::ClientKeys, KeyCode::Char('n')) => {
                if !self.perms.write_client_keys() {
                    return self.denied("client_keys:write", now);
                }
                let mut form = KeyForm::default();
                if let [only] = self.providers.as_slice() {
                    form.fields[1] = only.name.clone();
                }
                self.modal = Some(Modal::NewKey(form));
                Vec::new()
            }
            (Tab::ClientKeys, KeyCode::Char(c @ ('e' | 'd'))) => {
                if !self.perms.write_client_keys() {
                    return self.denied("client_keys:write", now);
                }
                let Some(k) = self.selected_client_key() else {
                    return Vec::new();
                };
                let request = Request::SetClientKeyEnabled(k.id, c == 'e');
                if c == 'e' {
                    return vec![request];
                }
                self.modal = Some(Modal::Confirm {
                    prompt: format!(
                        "Disable client key {} `{}`? The proxy refuses it from now on.",
                        k.id, k.name
                    ),
                    request,
                });
                Vec::new()
            }
            (Tab::Logs, KeyCode::Enter) => {
                let Some(id) = self.selected_log().map(|r| r.id) else {
                    return Vec::new();
                };
                let mut detail = Loaded {
                    data: self.selected_log().cloned(),
                    loading: true,
                    ..Loaded::default()
                };
                detail.error = None;
                self.modal = Some(Modal::LogDetail(id, Box::new(detail)));
                vec![Request::LogDetail(id)]
            }
            (Tab::Logs, KeyCode::Char('/') | KeyCode::Char('f')) => {
                self.modal = Some(Modal::Filter(format_filter(&self.logs.filter)));
                Vec::new()
            }
            (Tab::Logs, KeyCode::Char('x')) => self.set_filter(LogFilter::default(), now),
            (Tab::Logs, KeyCode::Char('p') | KeyCode::Char(' ')) => {
                self.logs.paused = !self.logs.paused;
                self.load_tab(now, false)
            }
            _ => Vec::new(),
        }
    }
}

fn response_error(r: &Response) -> Option<&ClientError> {
    match r {
        Response::SignedIn(_) => None,
        Response::Me(Err(e))
        | Response::Providers(Err(e))
        | Response::Overview(Err(e))
        | Response::Credentials(Err(e))
        | Response::Checked(_, Err(e))
        | Response::CredentialEnabled(_, _, Err(e))
        | Response::ClientKeys(Err(e))
        | Response::Created(Err(e))
        | Response::ClientKeyEnabled(_, _, Err(e))
        | Response::Logs(_, Err(e))
        | Response::LogDetail(_, Err(e))
        | Response::Audit(Err(e)) => Some(e),
        _ => None,
    }
}

/// `key:3 model:gpt-4o status:500` (also with `=`; any order; empty = no filter).
pub fn parse_filter(text: &str) -> Result<LogFilter, String> {
    let mut filter = LogFilter::default();
    for word in text.split_whitespace() {
        let Some((name, value)) = word.split_once([':', '=']) else {
            return Err(format!("`{word}`: write key:ID, model:NAME or status:CODE"));
        };
        match name {
            "key" => {
                filter.client_key_id = Some(
                    value
                        .parse()
                        .map_err(|_| format!("key:{value}: not a client key id"))?,
                );
            }
            "model" if !value.is_empty() => filter.model = Some(value.to_string()),
            "status" => {
                filter.status = Some(
                    value
                        .parse()
                        .map_err(|_| format!("status:{value}: not an HTTP status"))?,
                );
            }
            _ => {
                return Err(format!("`{word}`: write key:ID, model:NAME or status:CODE"));
            }
        }
    }
    Ok(filter)
}

pub fn format_filter(filter: &LogFilter) -> String {
    let mut parts = Vec::new();
    if let Some(k) = filter.client_key_id {
        parts.push(format!("key:{k}"));
    }
    if let Some(m) = &filter.model {
        parts.push(format!("model:{m}"));
    }
    if let Some(s) = filter.status {
        parts.push(format!("status:{s}"));
    }
    parts.join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn signed_in() -> App {
        let mut app = App::new("http://127.0.0.1:9090", "ops", "id_ed25519");
        assert_eq!(app.start(), vec![Request::SignIn]);
        let out = app.on_response(Response::SignedIn(Ok(())), t0());
        assert_eq!(
            out,
            vec![Request::Me, Request::Providers, Request::Overview]
        );
        app
    }

    fn row(id: i64) -> LogRow {
        LogRow {
            id,
            status: 200,
            ..Default::default()
        }
    }

    #[test]
    fn filters_parse_and_print_back() {
        let f = parse_filter("key:3  model=gpt-4o status:500").unwrap();
        assert_eq!(f.client_key_id, Some(3));
        assert_eq!(f.model.as_deref(), Some("gpt-4o"));
        assert_eq!(f.status, Some(500));
        assert_eq!(format_filter(&f), "key:3 model:gpt-4o status:500");
        assert_eq!(parse_filter("").unwrap(), LogFilter::default());
        assert!(
            parse_filter("key:x")
                .unwrap_err()
                .contains("not a client key id")
        );
        assert!(parse_filter("colour:red").is_err());
        assert!(parse_filter("gpt-4o").is_err());
    }

    #[test]
    fn polls_only_the_shown_tab_when_stale() {
        let mut app = signed_in();
        // Overview is loading: nothing more until it answers.
        assert!(app.tick(t0()).is_empty());
        app.on_response(
            Response::Overview(Ok((Overview::default(), Overview::default()))),
            t0(),
        );
        assert!(app.tick(t0() + Duration::seconds(4)).is_empty());
        assert_eq!(
            app.tick(t0() + Duration::seconds(5)),
            vec![Request::Overview]
        );
        // Switching shows the new tab's data at once; the live log polls every 2 s.
        let out = app.on_key(key(KeyCode::Char('4')), t0());
        assert_eq!(out, vec![Request::Logs(LogFilter::default())]);
        app.on_response(Response::Logs(LogFilter::default(), Ok(vec![row(2)])), t0());
        assert_eq!(
            app.tick(t0() + Duration::seconds(2)),
            vec![Request::Logs(LogFilter::default())]
        );
        // Paused: no polls.
        app.on_response(Response::Logs(LogFilter::default(), Ok(vec![])), t0());
        app.on_key(key(KeyCode::Char('p')), t0());
        assert!(app.tick(t0() + Duration::seconds(60)).is_empty());
        assert_eq!(
            app.on_key(key(KeyCode::Char('r')), t0()),
            vec![Request::Logs(LogFilter::default())]
        );
    }

    #[test]
    fn live_log_merges_new_rows_on_top_and_keeps_the_selection() {
        let mut app = signed_in();
        app.on_key(key(KeyCode::Char('4')), t0());
        let f = LogFilter::default();
        app.on_response(Response::Logs(f.clone(), Ok(vec![row(5), row(4)])), t0());
        assert!(app.logs.fresh.is_empty());
        app.on_key(key(KeyCode::Down), t0());
        assert_eq!(app.selected_log().unwrap().id, 4);
        app.on_response(
            Response::Logs(f.clone(), Ok(vec![row(7), row(6), row(5)])),
            t0(),
        );
        let ids: Vec<i64> = app.logs.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![7, 6, 5, 4]);
        assert_eq!(app.logs.fresh, BTreeSet::from([6, 7]));
        assert_eq!(app.selected_log().unwrap().id, 4);
        // An answer for an older filter is dropped.
        app.on_key(key(KeyCode::Char('/')), t0());
        for c in "status:500".chars() {
            app.on_key(key(KeyCode::Char(c)), t0());
        }
        let out = app.on_key(key(KeyCode::Enter), t0());
        let filtered = LogFilter {
            status: Some(500),
            ..Default::default()
        };
        assert_eq!(out, vec![Request::Logs(filtered.clone())]);
        assert!(app.logs.rows.is_empty());
        app.on_response(Response::Logs(f, Ok(vec![row(9)])), t0());
        assert!(app.logs.rows.is_empty());
        app.on_response(Response::Logs(filtered, Ok(vec![row(8)])), t0());
        assert_eq!(app.logs.rows.len(), 1);
        // Enter opens the detail and asks for the full row.
        let out = app.on_key(key(KeyCode::Enter), t0());
        assert_eq!(out, vec![Request::LogDetail(8)]);
        assert!(matches!(app.modal, Some(Modal::LogDetail(8, _))));
        app.on_key(key(KeyCode::Esc), t0());
        assert!(app.modal.is_none());
    }

    #[test]
    fn disabling_asks_first_and_enabling_does_not() {
        let mut app = signed_in();
        app.on_key(key(KeyCode::Char('3')), t0());
        app.on_response(
            Response::ClientKeys(Ok(vec![ClientKey {
                id: 9,
                name: "app".into(),
                enabled: true,
                ..Default::default()
            }])),
            t0(),
        );
        assert!(app.on_key(key(KeyCode::Char('d')), t0()).is_empty());
        assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
        assert!(app.on_key(key(KeyCode::Char('n')), t0()).is_empty());
        assert!(app.modal.is_none());
        app.on_key(key(KeyCode::Char('d')), t0());
        assert_eq!(
            app.on_key(key(KeyCode::Char('y')), t0()),
            vec![Request::SetClientKeyEnabled(9, false)]
        );
        assert_eq!(
            app.on_key(key(KeyCode::Char('e')), t0()),
            vec![Request::SetClientKeyEnabled(9, true)]
        );
    }

    #[test]
    fn write_actions_the_role_lacks_do_nothing_but_say_so() {
        let mut app = signed_in();
        app.on_response(
            Response::Me(Ok(Me {
                id: 2,
                username: "vera".into(),
                role: "viewer".into(),
                permissions: None,
            })),
            t0(),
        );
        app.on_key(key(KeyCode::Char('2')), t0());
        app.on_response(
            Response::Credentials(Ok(vec![ProviderKey {
                id: 1,
                ..Default::default()
            }])),
            t0(),
        );
        for c in ['c', 'd', 'e'] {
            assert!(app.on_key(key(KeyCode::Char(c)), t0()).is_empty());
            assert!(app.modal.is_none());
        }
        assert!(
            app.flash
                .as_ref()
                .unwrap()
                .text
                .contains("provider_keys:write")
        );
        app.on_key(key(KeyCode::Char('3')), t0());
        assert!(app.on_key(key(KeyCode::Char('n')), t0()).is_empty());
        assert!(app.modal.is_none());
    }

    #[test]
    fn the_new_key_form_resolves_the_provider_and_pool() {
        let mut app = signed_in();
        app.on_response(
            Response::Providers(Ok(vec![
                Provider {
                    id: 1,
                    name: "openai".into(),
                },
                Provider {
                    id: 4,
                    name: "mock".into(),
                },
            ])),
            t0(),
        );
        app.on_response(
            Response::Credentials(Ok(vec![
                ProviderKey {
                    id: 10,
                    provider_id: 4,
                    ..Default::default()
                },
                ProviderKey {
                    id: 11,
                    provider_id: 1,
                    ..Default::default()
                },
                ProviderKey {
                    id: 12,
                    provider_id: 4,
                    ..Default::default()
                },
            ])),
            t0(),
        );
        app.on_key(key(KeyCode::Char('3')), t0());
        app.on_key(key(KeyCode::Char('n')), t0());
        // Enter with no name: an error in the form, no request.
        assert!(app.on_key(key(KeyCode::Enter), t0()).is_empty());
        let Some(Modal::NewKey(form)) = &app.modal else {
            panic!("form closed")
        };
        assert_eq!(form.error.as_deref(), Some("a name is required"));
        for c in "ci".chars() {
            app.on_key(key(KeyCode::Char(c)), t0());
        }
        app.on_key(key(KeyCode::Tab), t0());
        for c in "MOCK".chars() {
            app.on_key(key(KeyCode::Char(c)), t0());
        }
        assert_eq!(
            app.on_key(key(KeyCode::Enter), t0()),
            vec![Request::CreateClientKey(NewClientKey {
                name: "ci".into(),
                provider_id: 4,
                provider_key_ids: vec![10, 12],
            })]
        );
        app.on_key(key(KeyCode::Tab), t0());
        for c in "10, x".chars() {
            app.on_key(key(KeyCode::Char(c)), t0());
        }
        assert!(app.on_key(key(KeyCode::Enter), t0()).is_empty());
        let Some(Modal::NewKey(form)) = &app.modal else {
            panic!("form closed")
        };
        assert!(form.error.as_deref().unwrap().contains("`x`"));
        // Created: the key is shown once, until dismissed.
        app.on_response(
            Response::Created(Ok(CreatedClientKey {
                id: 5,
                name: "ci".into(),
                key: "tg-secret".into(),
            })),
            t0(),
        );
        assert!(matches!(app.modal, Some(Modal::CreatedKey { .. })));
        app.on_key(key(KeyCode::Char('x')), t0());
        assert!(matches!(app.modal, Some(Modal::CreatedKey { .. })));
        app.on_key(key(KeyCode::Enter), t0());
        assert!(app.modal.is_none());
    }

    #[test]
    fn an_ended_session_returns_to_the_sign_in_screen() {
        let mut app = signed_in();
        app.modal = Some(Modal::Help);
        let out = app.on_response(
            Response::Audit(Err(ClientError::SessionEnded("gone".into()))),
            t0(),
        );
        assert!(out.is_empty());
        assert!(!app.signed_in);
        assert!(app.modal.is_none());
        assert_eq!(app.sign_in.error.as_deref(), Some("session ended: gone"));
        // Polls stop; `r` signs in again; `q` quits.
        assert!(app.tick(t0() + Duration::seconds(60)).is_empty());
        assert_eq!(
            app.on_key(key(KeyCode::Char('r')), t0()),
            vec![Request::SignIn]
        );
        assert!(app.on_key(key(KeyCode::Char('r')), t0()).is_empty());
        app.on_response(
            Response::SignedIn(Err(ClientError::SignInRefused("no".into()))),
            t0(),
        );
        assert_eq!(app.sign_in.error.as_deref(), Some("sign-in refused: no"));
        app.on_key(key(KeyCode::Char('q')), t0());
        assert!(app.quit);
    }

    #[test]
    fn a_403_stays_in_its_view() {
        let mut app = signed_in();
        app.on_key(key(KeyCode::Char('5')), t0());
        app.on_response(
            Response::Audit(Err(ClientError::Api {
                status: 403,
                message: "not allowed".into(),
            })),
            t0(),
        );
        assert!(app.signed_in);
        assert_eq!(app.audit.error.as_deref(), Some("403: not allowed"));
    }
}
