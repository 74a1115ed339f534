//! The terminal loop: draws the app, feeds it keys and API answers, makes the calls it asks
//! for in the background, and restores the terminal and signs out when it ends.

use crate::api::{Client, ClientError};
use crate::app::{App, Request, Response};
use crate::keys::KeyPair;
use crate::theme::Theme;
use chrono::Utc;
use ratatui::crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the app is asked whether a refresh is due.
const TICK: Duration = Duration::from_millis(250);

enum Input {
    Key(KeyEvent),
    Redraw,
}

/// Makes one API call.
pub async fn perform(client: &Client, key: &KeyPair, user: &str, request: Request) -> Response {
    match request {
        Request::SignIn => Response::SignedIn(client.sign_in(user, key).await),
        Request::Me => Response::Me(client.me().await),
        Request::Providers => Response::Providers(client.providers().await),
        Request::Overview => {
            let hour_ago = Utc::now() - chrono::Duration::hours(1);
            let hour = client.overview(Some(hour_ago)).await;
            let result = match hour {
                Ok(hour) => client.overview(None).await.map(|day| (hour, day)),
                Err(e) => Err(e),
            };
            Response::Overview(result)
        }
        Request::Credentials => Response::Credentials(client.provider_keys().await),
        Request::CheckCredential(id) => Response::Checked(id, client.check_provider_key(id).await),
        Request::SetCredentialEnabled(id, on) => {
            Response::CredentialEnabled(id, on, client.set_provider_key_enabled(id, on).await)
        }
        Request::ClientKeys => {
            Response::ClientKeys(client.client_keys(crate::app::USAGE_READS).await)
        }
        Request::CreateClientKey(new) => Response::Created(client.create_client_key(&new).await),
        Request::SetClientKeyEnabled(id, on) => {
            Response::ClientKeyEnabled(id, on, client.set_client_key_enabled(id, on).await)
        }
        Request::Logs(filter) => {
            let result = client.logs(&filter, crate::app::LOG_POLL_ROWS).await;
            Response::Logs(filter, result)
        }
        Request::LogDetail(id) => Response::LogDetail(id, client.log(id).await),
        Request::Audit => Response::Audit(client.audit(100).await),
    }
}

/// Reads terminal events on a thread of its own until `stop` is set.
fn spawn_input(tx: mpsc::Sender<Input>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => break,
            }
            let input = match event::read() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Input::Key(key),
                Ok(Event::Resize(..)) => Input::Redraw,
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.blocking_send(input).is_err() {
                break;
            }
        }
    })
}

/// Runs the TUI until the user quits. Returns the API's answer to signing out, if it was signed in.
pub async fn run(
    client: Arc<Client>,
    key: Arc<KeyPair>,
    user: String,
    mut app: App,
    theme: Theme,
) -> Result<Option<Result<(), ClientError>>, std::io::Error> {
    let mut terminal = ratatui::try_init()?;
    let stop = Arc::new(AtomicBool::new(false));
    let (input_tx, mut input_rx) = mpsc::channel(64);
    let input = spawn_input(input_tx, stop.clone());
    let (tx, mut rx) = mpsc::unbounded_channel::<Response>();
    let dispatch = |requests: Vec<Request>| {
        for request in requests {
            let (client, key, user, tx) = (client.clone(), key.clone(), user.clone(), tx.clone());
            tokio::spawn(async move {
                let response = perform(&client, &key, &user, request).await;
                let _ = tx.send(response);
            });
        }
    };
    dispatch(app.start());
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut result = Ok(());
    while !app.quit {
        if let Err(e) = terminal.draw(|f| crate::ui::draw(f, &app, theme)) {
            result = Err(e);
            break;
        }
        let requests = tokio::select! {
            input = input_rx.recv() => match input {
                Some(Input::Key(k)) => app.on_key(k, Utc::now()),
                Some(Input::Redraw) => Vec::new(),
                None => {
                    app.quit = true;
                    Vec::new()
                }
            },
            Some(response) = rx.recv() => app.on_response(response, Utc::now()),
            _ = ticker.tick() => app.tick(Utc::now()),
        };
        dispatch(requests);
    }
    stop.store(true, Ordering::Relaxed);
    let restored = ratatui::try_restore();
    let _ = input.join();
    result?;
    restored?;
    if !client.signed_in().await {
        return Ok(None);
    }
    let signed_out = tokio::time::timeout(Duration::from_secs(5), client.sign_out())
        .await
        .unwrap_or_else(|_| Err(ClientError::Network("timed out".into())));
    Ok(Some(signed_out))
}
