//! A provider's OAuth2 client (the `oauth2` crate over `reqwest`), built from its stored
//! configuration, and what a token endpoint's failure means for the credential.

use super::OAuthError;
use crate::auth::MasterKey;
use entity::provider_oauth_config;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpClientError,
    RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// The client and what goes into its authorize URL.
pub struct ProviderClient {
    pub client: ConfiguredClient,
    pub scopes: Vec<Scope>,
    pub extra_params: Vec<(String, String)>,
}

/// The HTTP client for token and JWKS endpoints: no redirects (they would open the door to
/// request forgery), bounded time.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, OAuthError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| OAuthError::Internal(format!("cannot build the HTTP client: {e}")))
}

pub fn build(
    cfg: &provider_oauth_config::Model,
    master: &MasterKey,
) -> Result<ProviderClient, OAuthError> {
    let bad = |what: &str| OAuthError::Misconfigured(format!("the provider's {what} is invalid"));
    let mut client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_uri(AuthUrl::new(cfg.authorize_url.clone()).map_err(|_| bad("authorize_url"))?)
        .set_token_uri(TokenUrl::new(cfg.token_url.clone()).map_err(|_| bad("token_url"))?)
        .set_redirect_uri(
            RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|_| bad("redirect_uri"))?,
        );
    if let Some(ct) = &cfg.client_secret_ciphertext {
        let secret = master
            .decrypt(ct)
            .map_err(|_| OAuthError::Internal("client secret cannot be decrypted".into()))?;
        client = client.set_client_secret(ClientSecret::new(secret));
    }
    if cfg.client_auth == "post" {
        client = client.set_auth_type(AuthType::RequestBody);
    }
    let scopes: Vec<String> = serde_json::from_str(&cfg.scopes).unwrap_or_default();
    let extra: BTreeMap<String, String> =
        serde_json::from_str(&cfg.extra_params).unwrap_or_default();
    Ok(ProviderClient {
        client,
        scopes: scopes.into_iter().map(Scope::new).collect(),
        extra_params: extra.into_iter().collect(),
    })
}

/// What a token endpoint said, without any token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `invalid_grant`: the grant is spent, revoked or expired; only a new authorization helps.
    Rejected(String),
    /// Network, timeout, 5xx or an unreadable answer: worth another try later.
    Transient(String),
}

pub fn classify(err: &TokenError) -> Failure {
    match err {
        RequestTokenError::ServerResponse(e)
            if *e.error() == BasicErrorResponseType::InvalidGrant =>
        {
            Failure::Rejected("the provider refused the grant (invalid_grant)".into())
        }
        RequestTokenError::ServerResponse(e) => {
            Failure::Transient(format!("the token endpoint answered `{}`", e.error()))
        }
        RequestTokenError::Request(_) => {
            Failure::Transient("the token endpoint could not be reached".into())
        }
        RequestTokenError::Parse(..) => Failure::Transient(
            "the token endpoint's answer was not a token response (server error?)".into(),
        ),
        RequestTokenError::Other(_) => {
            Failure::Transient("the token endpoint's answer was not usable".into())
        }
    }
}

/// The parts of a token response Tollgate keeps.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<Duration>,
}

pub fn issued(resp: &BasicTokenResponse) -> Issued {
    Issued {
        access_token: resp.access_token().secret().clone(),
        refresh_token: resp.refresh_token().map(|r| r.secret().clone()),
        expires_in: resp.expires_in(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use oauth2::StandardErrorResponse;

    fn server(kind: BasicErrorResponseType) -> TokenError {
        RequestTokenError::ServerResponse(StandardErrorResponse::new(kind, None, None))
    }

    #[test]
    fn only_invalid_grant_needs_a_reconnect() {
        assert!(matches!(
            classify(&server(BasicErrorResponseType::InvalidGrant)),
            Failure::Rejected(_)
        ));
        for kind in [
            BasicErrorResponseType::InvalidClient,
            BasicErrorResponseType::Extension("temporarily_unavailable".into()),
            BasicErrorResponseType::Extension("server_error".into()),
        ] {
            assert!(matches!(classify(&server(kind)), Failure::Transient(_)));
        }
        assert!(matches!(
            classify(&RequestTokenError::Other("x".into())),
            Failure::Transient(_)
        ));
    }

    #[test]
    fn the_client_follows_its_configuration() {
        let master = MasterKey::generate();
        let now = chrono::Utc::now();
        let mut cfg = provider_oauth_config::Model {
            provider_id: 1,
            authorize_url: "https://auth.test/authorize".into(),
            token_url: "https://auth.test/token".into(),
            client_id: "cid".into(),
            client_secret_ciphertext: Some(master.encrypt("shh").unwrap()),
            scopes: r#"["a","b"]"#.into(),
            extra_params: r#"{"prompt":"consent"}"#.into(),
            redirect_uri: "https://tg.test/api/oauth/callback".into(),
            client_auth: "basic".into(),
            created_at: now,
            updated_at: now,
        };
        let pc = build(&cfg, &master).unwrap();
        assert_eq!(pc.scopes.len(), 2);
        assert_eq!(
            pc.extra_params,
            [("prompt".to_string(), "consent".to_string())]
        );
        // A secret encrypted under another master key is an error, not a panic.
        cfg.client_secret_ciphertext = Some(MasterKey::generate().encrypt("x").unwrap());
        assert!(build(&cfg, &master).is_err());
        cfg.client_secret_ciphertext = None;
        cfg.token_url = "not a url".into();
        assert!(build(&cfg, &master).is_err());
    }
}
