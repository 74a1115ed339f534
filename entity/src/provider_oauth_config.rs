//! A provider's OAuth2 client configuration (authorization-code + PKCE); secret encrypted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_oauth_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i64,
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    /// base64(nonce || AES-256-GCM ciphertext); NULL for a public client.
    pub client_secret_ciphertext: Option<String>,
    /// JSON array of scopes.
    pub scopes: String,
    /// JSON object of extra authorize-URL parameters.
    pub extra_params: String,
    pub redirect_uri: String,
    /// `basic` (HTTP Basic) or `post` (in the form body).
    pub client_auth: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
