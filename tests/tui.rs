//! The terminal client (`tollgate tui`) against the real binary: key generation, registering
//! the OpenSSH public key through the API, signing in by challenge-response inside a real
//! pseudo-terminal (tmux, 80×24), the live log, disabling a client key and the proxy refusing
//! it, sign-in refusals (replayed signature, expired challenge, unregistered key), an ended
//! session, a passphrase-protected OpenSSH key, and a member's view of what they may not see.
//! Each view's screen is saved as text under `target/tmp/tui-captures/` for docs/tui.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tollgate_testkit::MockUpstream;
use tollgate_tui::api::{Client, ClientError};
use tollgate_tui::app::{App, Response};
use tollgate_tui::keys::{self, KeyPair, Passphrase};
use tollgate_tui::theme::Theme;

const OPS_PASSWORD: &str = "ops-password-123";

/// A tmux server of this test's own (its own socket), one 80×24 session running a command.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Runs `args` (the `tollgate` binary's) in a new 80×24 session. The pane stays after the
    /// program ends and shows `EXIT=<code>`, so its last words can be read.
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is needed for this test: run scripts/prereqs.sh"
        );
        let socket = dir.join(format!("tmux-{}", common::rand_suffix()));
        let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_tollgate"))
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
            .collect();
        let script = format!("{}; echo EXIT=$?; sleep 600", quoted.join(" "));
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .args(["-e", "TERM=xterm-256color"]);
        for (k, v) in env {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        let status = cmd.args(["sh", "-c", &script]).status().unwrap();
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// Types keys, as tmux names them (`Enter`, `Escape`, `Down`, or literal text).
    fn send(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "0"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-l", "-t", "0", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen once it shows every one of `texts` (a deadline only, so a broken client
    /// fails the test instead of hanging it).
    fn wait_for(&self, texts: &[&str]) -> String {
        self.wait_until(&format!("{texts:?}"), |screen| {
            texts.iter().all(|t| screen.contains(t))
        })
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.capture();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// `tollgate tui` signing in as `ops` with the key at `key`, plus `extra` arguments.
fn tui_as_ops(tg: &Tollgate, key: &Path, extra: &[&str], env: &[(&str, &str)]) -> Tmux {
    let key = key.to_str().unwrap();
    let mut args = vec!["tui", "--url", &tg.admin, "--user", "ops", "--key", key];
    args.extend_from_slice(extra);
    Tmux::start(tg.dir.path(), &args, env)
}

/// Keeps a screen for docs/tui.md.
fn save(name: &str, screen: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tui-captures");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), screen).unwrap();
}

/// `tollgate tui keygen`: returns the public line it printed.
fn keygen(path: &Path, comment: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["tui", "keygen", "--out"])
        .arg(path)
        .args(["--comment", comment])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Creates `ops` (admin) and registers `public_line` for them with their own session.
async fn ops_with_key(tg: &Tollgate, role: &str, public_line: &str) -> (String, i64) {
    tg.create_user("ops", OPS_PASSWORD, role).await;
    let token = tg.session("ops", OPS_PASSWORD).await;
    let (s, v) = tg
        .call(
            Some(&token),
            "POST",
            "/api/auth/public-keys",
            Some(json!({ "public_key": public_line })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    (token, v["id"].as_i64().unwrap())
}

async fn chat(tg: &Tollgate, key: &str) -> reqwest::Response {
    tg.http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

/// The row of `screen` that contains `text`.
fn row<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no row with {text}:\n{screen}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn keygen_sign_in_live_log_and_disabling_a_key_from_the_tui() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let dir = tg.dir.path().to_path_buf();

    // keygen: an OpenSSH pair, the private half readable by its owner only.
    let key_path = dir.join("keys/id_ed25519");
    let line = keygen(&key_path, "ops@e2e");
    assert!(
        line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"),
        "{line}"
    );
    assert!(line.ends_with(" ops@e2e"));
    assert_eq!(
        std::fs::read_to_string(keys::pub_path(&key_path))
            .unwrap()
            .trim(),
        line
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        std::fs::read_to_string(&key_path)
            .unwrap()
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
    );
    // The line is registered as it was printed; its comment names the key.
    let (ops_token, _) = ops_with_key(&tg, "admin", &line).await;
    let (_, keys_list) = tg
        .call(Some(&ops_token), "GET", "/api/auth/public-keys", None)
        .await;
    assert_eq!(keys_list[0]["name"], "ops@e2e");

    let (provider_id, credential_id, client_key) = tg
        .setup("openai", &mock.base_url(), "sk-upstream-tui-1")
        .await;
    let (_, client_keys) = tg.api("GET", "/api/client-keys", None).await;
    let prefix = client_keys[0]["key_prefix"].as_str().unwrap().to_string();

    let tui = tui_as_ops(&tg, &key_path, &[], &[]);
    let screen = tui.wait_for(&["Last 24 hours", "Requests", "ops (admin)"]);
    assert!(screen.lines().next().unwrap().contains("1 Overview"));

    // A proxied request appears in the live log, and its detail has attempts and cost.
    let resp = chat(&tg, &client_key).await;
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let logged = tg.log_row(&request_id).await;
    let cost = logged["cost"].as_str().unwrap().to_string();
    tui.send(&["4"]);
    let screen = tui.wait_for(&["gpt-4o-mini", "following"]);
    let log_line = row(&screen, "gpt-4o-mini");
    assert!(log_line.contains(" 200 "), "{log_line}");
    assert!(log_line.contains("/v1/chat/comp"), "{log_line}");
    save("live-log", &screen);
    tui.send(&["Enter"]);
    let screen = tui.wait_for(&["Attempts (1)", &request_id]);
    assert!(
        screen.contains(&format!("Cost       {cost}")),
        "{cost}:\n{screen}"
    );
    let prompt = logged["prompt_tokens"].as_i64().unwrap();
    assert!(screen.contains(&format!("prompt {prompt} ·")), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.contains("Credential  Status"))
        .unwrap();
    let attempt = lines[header + 1];
    assert!(
        attempt.contains(&credential_id.to_string()) && attempt.contains("200"),
        "{attempt}"
    );
    save("log-detail", &screen);
    tui.send(&["Escape"]);
    tui.send(&["?"]);
    save("help", &tui.wait_for(&["switch view", "filter by key:ID"]));
    tui.send(&["Escape"]);

    // The overview counts it (refreshed every 5 s; `r` asks at once).
    tui.send(&["1", "r"]);
    let screen = tui.wait_until("one request in the overview", |screen| {
        screen
            .lines()
            .find(|l| l.contains("Requests"))
            .is_some_and(|l| l.split_whitespace().filter(|w| *w == "1").count() == 2)
    });
    save("overview", &screen);

    // Credentials: state and check now.
    tui.send(&["2"]);
    let screen = tui.wait_for(&["Cool-off", "healthy"]);
    let name = tg
        .api("GET", &format!("/api/provider-keys/{credential_id}"), None)
        .await
        .1["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(row(&screen, &name[..name.len().min(12)]).contains("healthy"));
    tui.send(&["c"]);
    let screen = tui.wait_for(&[&format!("Credential {credential_id}: check passed (200")]);
    save("credentials", &screen);

    // Client keys: usage shown; disable from the TUI, and the proxy refuses the key.
    tui.send(&["3"]);
    let screen = tui.wait_for(&[&prefix, "Req today"]);
    assert!(row(&screen, &prefix).contains(" yes "), "{screen}");
    save("client-keys", &screen);
    tui.send(&["d"]);
    tui.wait_for(&["Disable client key", "y yes"]);
    tui.send(&["y"]);
    let screen = tui.wait_for(&["disabled: the proxy refuses it"]);
    assert!(row(&screen, &prefix).contains(" no "), "{screen}");
    let refused = chat(&tg, &client_key).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["message"], "This API key is disabled.");

    // Create a key from the TUI: shown once, and it works at once.
    tui.send(&["n"]);
    tui.wait_for(&["New client key", "> Name"]);
    tui.type_text("made-in-tui");
    tui.send(&["Tab"]);
    tui.type_text(&provider_id.to_string());
    tui.send(&["Enter"]);
    let screen = tui.wait_for(&["shown this once"]);
    save("new-key", &screen);
    // The whole key (`tg-` + 43 characters), not a prefix from the list behind the pop-up.
    let key_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let new_key = screen
        .match_indices("tg-")
        .map(|(at, _)| {
            screen[at..]
                .chars()
                .take_while(|c| key_char(*c))
                .collect::<String>()
        })
        .find(|k| k.len() == 46)
        .unwrap_or_else(|| panic!("no key on screen:\n{screen}"));
    assert_eq!(chat(&tg, &new_key).await.status(), 200);
    let (_, created) = tg.api("GET", "/api/client-keys", None).await;
    let made = created
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "made-in-tui")
        .unwrap();
    assert_eq!(made["provider_key_ids"], json!([credential_id]));
    tui.send(&["Escape"]);
    assert!(!tui.wait_for(&["made-in-tui"]).contains(&new_key));

    // Audit: the sign-in and the change made from the TUI.
    tui.send(&["5"]);
    let screen = tui.wait_for(&["keypair_login", "client-keys"]);
    save("audit", &screen);

    // Quit signs out: the session's refresh token is revoked.
    tui.send(&["q"]);
    let screen = tui.wait_for(&["EXIT=0"]);
    assert!(screen.contains("Signed out."), "{screen}");
    let (_, audit) = tg.api("GET", "/api/audit?resource=sessions", None).await;
    let items = audit["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "logout" && e["username"] == "ops"),
        "{audit}"
    );
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "keypair_login" && e["username"] == "ops")
    );
}

/// The sign-in error as the TUI shows it for `error`.
fn sign_in_screen(error: ClientError) -> String {
    let mut app = App::new("http://tollgate:9090", "ops", "id_ed25519");
    app.start();
    app.on_response(Response::SignedIn(Err(error)), chrono::Utc::now());
    tollgate_tui::ui::render_text(&app, Theme::PLAIN, 80, 24).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_expired_and_unregistered_signatures_are_refused_and_shown() {
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__ADMIN__CHALLENGE_TTL_SECS", "1"))
            .await;
    let dir = tg.dir.path().to_path_buf();
    let key_path = dir.join("id_ed25519");
    let line = keygen(&key_path, "ops@e2e");
    ops_with_key(&tg, "member", &line).await;
    let key = keys::load(&key_path, &Passphrase::Prompt).unwrap();
    let client = Client::new(&tg.admin).unwrap();

    // The client's own flow signs in, and its signature is over the nonce's raw bytes.
    client.sign_in("ops", &key).await.unwrap();
    assert_eq!(client.me().await.unwrap().username, "ops");

    // A replayed signature: the same nonce and signature a second time.
    let challenge = client.challenge("ops").await.unwrap();
    let nonce = base64_decode(&challenge.nonce);
    let signature = key.sign_base64(&nonce);
    client
        .answer("ops", &challenge.nonce, &signature)
        .await
        .unwrap();
    let replayed = client
        .answer("ops", &challenge.nonce, &signature)
        .await
        .unwrap_err();
    assert!(
        matches!(replayed, ClientError::SignInRefused(_)),
        "{replayed}"
    );
    assert!(sign_in_screen(replayed).contains("Sign-in refused"));

    // A challenge older than its TTL (1 s here).
    let challenge = client.challenge("ops").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = client
        .answer(
            "ops",
            &challenge.nonce,
            &key.sign_base64(&base64_decode(&challenge.nonce)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(expired, ClientError::SignInRefused(_)),
        "{expired}"
    );
    let screen = sign_in_screen(expired);
    assert!(screen.contains("Sign-in refused"), "{screen}");
    assert!(screen.contains("r sign in again"));

    // A key that is not registered for the user.
    let stranger_path = dir.join("stranger");
    keygen(&stranger_path, "stranger");
    let stranger = keys::load(&stranger_path, &Passphrase::Prompt).unwrap();
    let refused = Client::new(&tg.admin)
        .unwrap()
        .sign_in("ops", &stranger)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::SignInRefused(_)),
        "{refused}"
    );

    // The same in the real TUI: a clear sign-in error, no crash, and q leaves cleanly.
    let tui = tui_as_ops(&tg, &stranger_path, &[], &[]);
    let screen = tui.wait_for(&[
        "Sign-in refused: the server did not accept the signed challenge",
        "Is this public key registered",
    ]);
    save("sign-in-error", &screen);
    // Retrying asks the server again, with a fresh challenge, and is refused again.
    tui.send(&["r"]);
    tui.wait_for(&["Sign-in refused"]);
    tui.send(&["q"]);
    let screen = tui.wait_for(&["EXIT=0"]);
    assert!(!screen.contains("Signed out."), "{screen}");
    assert!(!screen.contains("panicked"));

    // An unreachable server is a sign-in error too.
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let tui = Tmux::start(
        &dir,
        &[
            "tui",
            "--url",
            &closed,
            "--user",
            "ops",
            "--key",
            key_path.to_str().unwrap(),
        ],
        &[],
    );
    tui.wait_for(&["Cannot reach the server", "Check the server URL"]);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_session_and_a_revoked_key_return_to_the_sign_in_screen() {
    let tg = Tollgate::start().await;
    let dir = tg.dir.path().to_path_buf();
    let key_path = dir.join("id_ed25519");
    let line = keygen(&key_path, "ops@e2e");
    let (ops_token, key_id) = ops_with_key(&tg, "admin", &line).await;
    let tui = tui_as_ops(&tg, &key_path, &[], &[]);
    tui.wait_for(&["Last 24 hours"]);
    // The key is revoked and every session of the user ended (from another login).
    let (s, _) = tg
        .call(
            Some(&ops_token),
            "DELETE",
            &format!("/api/auth/public-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let other = tg.session("ops", OPS_PASSWORD).await;
    assert_eq!(
        tg.call(Some(&other), "POST", "/api/auth/logout-all", None)
            .await
            .0,
        204
    );
    // The next refresh finds the session gone: back to the sign-in screen, not a crash.
    let screen = tui.wait_for(&["Session ended", "Sign in again to go on"]);
    save("session-ended", &screen);
    tui.send(&["r"]);
    tui.wait_for(&["Sign-in refused", "Is this public key registered"]);
    tui.send(&["q"]);
    tui.wait_for(&["EXIT=0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passphrase_protected_openssh_key_signs_in_after_the_prompt() {
    let tg = Tollgate::start().await;
    let dir = tg.dir.path().to_path_buf();
    let key_path = dir.join("id_ed25519");
    // A key made by OpenSSH itself, with a passphrase.
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "open sesame",
            "-C",
            "ssh@e2e",
            "-f",
        ])
        .arg(&key_path)
        .output()
        .expect("ssh-keygen is needed for this test: run scripts/prereqs.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = std::fs::read_to_string(keys::pub_path(&key_path)).unwrap();
    ops_with_key(&tg, "admin", line.trim()).await;

    // Asked for before the TUI starts; typed into the terminal.
    let tui = tui_as_ops(&tg, &key_path, &[], &[]);
    tui.wait_for(&["Passphrase for"]);
    tui.type_text("open sesame");
    tui.send(&["Enter"]);
    tui.wait_for(&["Last 24 hours", "ops (admin)"]);
    tui.send(&["q"]);
    tui.wait_for(&["EXIT=0"]);

    // From an environment variable; a wrong one is a clear error before any screen.
    let tui = tui_as_ops(
        &tg,
        &key_path,
        &["--passphrase-env", "KEY_PASS"],
        &[("KEY_PASS", "not it")],
    );
    let screen = tui.wait_for(&["EXIT=1"]);
    // The message is wider than the terminal: read it unwrapped.
    assert!(
        screen.replace('\n', "").contains("the passphrase is wrong"),
        "{screen}"
    );
    let tui = tui_as_ops(
        &tg,
        &key_path,
        &["--passphrase-env", "KEY_PASS"],
        &[("KEY_PASS", "open sesame")],
    );
    tui.wait_for(&["Last 24 hours"]);
    tui.send(&["q"]);
    tui.wait_for(&["EXIT=0"]);

    // The same key, loaded by the library, is the one registered.
    let pair: KeyPair = keys::load(&key_path, &Passphrase::Value("open sesame".into())).unwrap();
    assert_eq!(format!("{}\n", pair.public_line()), line);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_sees_refusals_and_only_their_own_keys() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let dir = tg.dir.path().to_path_buf();
    let (provider_id, credential_id, _) = tg
        .setup("openai", &mock.base_url(), "sk-upstream-tui-2")
        .await;
    let key_path = dir.join("id_ed25519");
    let line = keygen(&key_path, "mia@e2e");
    let (token, _) = ops_with_key(&tg, "member", &line).await;
    // One key of the member's own; the admin's key from setup is not theirs.
    let (s, own) = tg
        .call(
            Some(&token),
            "POST",
            "/api/client-keys",
            Some(json!({"name": "mine", "provider_id": provider_id, "provider_key_ids": [credential_id]})),
        )
        .await;
    assert_eq!(s, 201, "{own}");
    let tui = tui_as_ops(&tg, &key_path, &[], &[]);
    tui.wait_for(&["Last 24 hours", "ops (member)"]);
    tui.send(&["2"]);
    let screen = tui.wait_for(&["403: "]);
    assert!(!screen.contains("c check"), "{screen}");
    tui.send(&["3"]);
    let screen = tui.wait_for(&["mine", "n new"]);
    assert!(
        !screen.contains(" test "),
        "the admin's key is listed:\n{screen}"
    );
    tui.send(&["5"]);
    tui.wait_for(&["Audit", "403: "]);
    tui.send(&["q"]);
    tui.wait_for(&["EXIT=0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_token_is_refreshed_once_for_concurrent_calls_and_sign_out_ends_the_session() {
    let tg = Tollgate::start().await;
    let dir = tg.dir.path().to_path_buf();
    let key_path = dir.join("id_ed25519");
    let line = keygen(&key_path, "ops@e2e");
    ops_with_key(&tg, "admin", &line).await;
    let key = keys::load(&key_path, &Passphrase::Prompt).unwrap();
    let client = std::sync::Arc::new(Client::new(&tg.admin).unwrap());
    client.sign_in("ops", &key).await.unwrap();
    // Take the session's real refresh token, with an access token the server refuses: as
    // after an access token ran out between two refreshes.
    let signed = Client::new(&tg.admin).unwrap();
    let challenge = signed.challenge("ops").await.unwrap();
    let pair = signed
        .answer(
            "ops",
            &challenge.nonce,
            &key.sign_base64(&base64_decode(&challenge.nonce)),
        )
        .await
        .unwrap();
    client
        .adopt(tollgate_tui::api::TokenPair {
            access_token: "expired.or.revoked".into(),
            ..pair
        })
        .await;
    // Eight calls at once: one refresh, the others wait for it (a second use of the same
    // refresh token would look like theft and end the login).
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().username, "ops");
    }
    let (_, audit) = tg.api("GET", "/api/audit?resource=sessions", None).await;
    let items = audit["items"].as_array().unwrap();
    let refreshes = items
        .iter()
        .filter(|e| e["action"] == "refresh" && e["username"] == "ops")
        .count();
    assert_eq!(refreshes, 1, "{audit}");
    assert!(!items.iter().any(|e| e["details"]["reuse_detected"] == true));
    assert_eq!(client.me().await.unwrap().username, "ops");

    // Signing out revokes the login: the client is no longer signed in, and says so.
    client.sign_out().await.unwrap();
    assert!(!client.signed_in().await);
    assert!(matches!(
        client.me().await.unwrap_err(),
        ClientError::SessionEnded(_)
    ));
    let (_, audit) = tg.api("GET", "/api/audit?resource=sessions", None).await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "logout" && e["username"] == "ops")
    );
}
