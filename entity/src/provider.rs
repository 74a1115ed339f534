//! Upstream AI providers: API format, base URL, credential placement and timeouts as data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// `openai`, `anthropic` or `gemini`: the wire format the provider speaks.
    pub api_format: String,
    /// Origin plus optional path prefix; the client's path is appended to it.
    pub base_url: String,
    /// Where the credential goes upstream: `bearer`, `x-api-key`, `x-goog-api-key` or `api-key`.
    pub auth_scheme: String,
    pub enabled: bool,
    pub connect_timeout_ms: i64,
    pub first_byte_timeout_ms: i64,
    /// Path of the active health check; NULL means the format's default.
    pub health_check_path: Option<String>,
    /// Resend a request whose body was fully sent when the upstream timed out or reset before
    /// answering (the provider may bill both): off unless the provider is known to be safe.
    pub retry_after_send: bool,
    /// JSON array of extra request header names forwarded to this provider, beyond its API
    /// format's allowlist.
    pub forward_headers: Option<String>,
    /// Unified API: parameters a translated request asks for that this provider cannot honour
    /// are dropped (listed in the log) instead of refused with a 400.
    pub drop_unsupported_params: bool,
    /// The upstream path in place of `{base path}{client path}`: `{path}` is the client's path
    /// after its version segment (`/chat/completions`), `{model}` the model asked for; may end
    /// in a query (`?api-version=…`). NULL: the client's path as is.
    pub path_template: Option<String>,
    /// Path of the provider's model list (under the base URL); NULL: the format's own.
    pub models_path: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::provider_key::Entity")]
    ProviderKey,
}

impl Related<super::provider_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProviderKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
