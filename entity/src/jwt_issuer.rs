//! A trusted external JWT issuer: where its keys are, what it must say, which client key a
//! claim selects.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jwt_issuers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// The exact `iss` required.
    pub issuer: String,
    /// The `aud` required (one of the token's audiences).
    pub audience: String,
    pub jwks_url: Option<String>,
    pub public_key_pem: Option<String>,
    /// JSON array of allowed algorithms (asymmetric only).
    pub algorithms: String,
    /// The claim whose value selects the client key.
    pub client_key_claim: String,
    /// JSON object: claim value → client key id.
    pub client_keys: String,
    pub clock_skew_secs: i64,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
