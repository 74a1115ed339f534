//! Queries on OAuth2 state: providers' OAuth client configurations, authorizations under way,
//! the token pairs of OAuth provider keys (compare-and-set on a generation, refresh leases),
//! inbound client-credentials clients and their issued tokens, and trusted JWT issuers.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use entity::{
    jwt_issuer, oauth_access_token, oauth_authorization, oauth_client, provider_key_token,
    provider_oauth_config,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// A provider's OAuth client configuration as written (secret already encrypted).
#[derive(Debug, Clone)]
pub struct ProviderOAuthRow {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    /// `None` leaves the stored secret as it is; `Some(None)` removes it.
    pub client_secret_ciphertext: Option<Option<String>>,
    pub scopes: String,
    pub extra_params: String,
    pub redirect_uri: String,
    pub client_auth: String,
}

/// A new token pair for a provider key (already encrypted).
#[derive(Debug, Clone)]
pub struct TokenPairRow {
    pub access_token_ciphertext: String,
    /// `None` keeps the stored refresh token (the provider did not send a new one).
    pub refresh_token_ciphertext: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewJwtIssuer {
    pub name: String,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Option<String>,
    pub public_key_pem: Option<String>,
    pub algorithms: String,
    pub client_key_claim: String,
    pub client_keys: String,
    pub clock_skew_secs: i64,
    pub enabled: bool,
}

/// Inbound tokens that must be refused although their signature and expiry are fine.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    pub clients: Vec<i64>,
    pub token_hashes: Vec<String>,
}

/// Inserts the pending token row of a new OAuth provider key (inside its creation).
pub(super) async fn insert_pending_token<C: ConnectionTrait>(
    db: &C,
    provider_key_id: i64,
) -> Result<(), StoreError> {
    provider_key_token::ActiveModel {
        provider_key_id: Set(provider_key_id),
        access_token_ciphertext: Set(None),
        refresh_token_ciphertext: Set(None),
        expires_at: Set(None),
        generation: Set(0),
        status: Set("pending".into()),
        reason: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        connected_at: Set(None),
        refreshed_at: Set(None),
        updated_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

impl Store {
    // --- provider OAuth configuration ---

    pub async fn get_provider_oauth(
        &self,
        provider_id: i64,
    ) -> Result<Option<provider_oauth_config::Model>, StoreError> {
        Ok(provider_oauth_config::Entity::find_by_id(provider_id)
            .one(&self.db)
            .await?)
    }

    pub async fn list_provider_oauth(
        &self,
    ) -> Result<Vec<provider_oauth_config::Model>, StoreError> {
        Ok(provider_oauth_config::Entity::find().all(&self.db).await?)
    }

    /// Creates or replaces the configuration; the secret follows `client_secret_ciphertext`.
    pub async fn put_provider_oauth(
        &self,
        provider_id: i64,
        row: ProviderOAuthRow,
    ) -> Result<provider_oauth_config::Model, StoreError> {
        let now = Utc::now();
        let current = self.get_provider_oauth(provider_id).await?;
        let secret = match (&row.client_secret_ciphertext, &current) {
            (Some(s), _) => s.clone(),
            (None, Some(c)) => c.client_secret_ciphertext.clone(),
            (None, None) => None,
        };
        let mut m = provider_oauth_config::ActiveModel {
            provider_id: Set(provider_id),
            authorize_url: Set(row.authorize_url),
            token_url: Set(row.token_url),
            client_id: Set(row.client_id),
            client_secret_ciphertext: Set(secret),
            scopes: Set(row.scopes),
            extra_params: Set(row.extra_params),
            redirect_uri: Set(row.redirect_uri),
            client_auth: Set(row.client_auth),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match current {
            Some(c) => {
                m.created_at = Set(c.created_at);
                m.update(&self.db).await
            }
            None => m.insert(&self.db).await,
        }
        .map_err(|e| StoreError::from_write(e, "provider OAuth configuration"))
    }

    pub async fn delete_provider_oauth(&self, provider_id: i64) -> Result<(), StoreError> {
        provider_oauth_config::Entity::delete_by_id(provider_id)
            .exec(&self.db)
            .await?;
        Ok(())
    }

    // --- authorizations under way ---

    pub async fn create_authorization(
        &self,
        provider_key_id: i64,
        state_hash: String,
        verifier_ciphertext: String,
        created_by: Option<i64>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        oauth_authorization::ActiveModel {
            provider_key_id: Set(provider_key_id),
            state_hash: Set(state_hash),
            verifier_ciphertext: Set(verifier_ciphertext),
            created_by: Set(created_by),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "authorization"))?;
        Ok(())
    }

    /// Takes an authorization out, once: of two callers presenting the same state, only one
    /// gets it. Expired ones are returned too (the caller refuses them).
    pub async fn take_authorization(
        &self,
        state_hash: &str,
    ) -> Result<Option<oauth_authorization::Model>, StoreError> {
        let Some(row) = oauth_authorization::Entity::find()
            .filter(oauth_authorization::Column::StateHash.eq(state_hash))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let res = oauth_authorization::Entity::delete_by_id(row.id)
            .exec(&self.db)
            .await?;
        Ok((res.rows_affected == 1).then_some(row))
    }

    /// Removes authorizations never completed within their lifetime; returns how many.
    pub async fn delete_expired_authorizations(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let res = oauth_authorization::Entity::delete_many()
            .filter(oauth_authorization::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    // --- token pairs of OAuth provider keys ---

    pub async fn list_key_tokens(&self) -> Result<Vec<provider_key_token::Model>, StoreError> {
        Ok(provider_key_token::Entity::find().all(&self.db).await?)
    }

    pub async fn get_key_token(
        &self,
        provider_key_id: i64,
    ) -> Result<Option<provider_key_token::Model>, StoreError> {
        Ok(provider_key_token::Entity::find_by_id(provider_key_id)
            .one(&self.db)
            .await?)
    }

    /// Stores a new pair in one statement, only if the row is still at `expected_generation`
    /// (so a stale writer never replaces a newer pair); the old pair is gone in the same
    /// write. Returns the row after the write, or `None` when the generation had moved on.
    pub async fn store_token_pair(
        &self,
        provider_key_id: i64,
        expected_generation: i64,
        pair: TokenPairRow,
        connected: bool,
    ) -> Result<Option<provider_key_token::Model>, StoreError> {
        use provider_key_token::Column as C;
        let now = Utc::now();
        let mut q = provider_key_token::Entity::update_many()
            .col_expr(
                C::AccessTokenCiphertext,
                Expr::value(pair.access_token_ciphertext),
            )
            .col_expr(C::ExpiresAt, Expr::value(pair.expires_at))
            .col_expr(C::Generation, Expr::col(C::Generation).add(1))
            .col_expr(C::Status, Expr::value("connected"))
            .col_expr(C::Reason, Expr::value(Option::<String>::None))
            .col_expr(C::UpdatedAt, Expr::value(now));
        if let Some(refresh) = pair.refresh_token_ciphertext {
            q = q.col_expr(C::RefreshTokenCiphertext, Expr::value(refresh));
        } else if connected {
            q = q.col_expr(
                C::RefreshTokenCiphertext,
                Expr::value(Option::<String>::None),
            );
        }
        q = if connected {
            q.col_expr(C::ConnectedAt, Expr::value(now))
        } else {
            q.col_expr(C::RefreshedAt, Expr::value(now))
        };
        let res = q
            .filter(C::ProviderKeyId.eq(provider_key_id))
            .filter(C::Generation.eq(expected_generation))
            .exec(&self.db)
            .await?;
        self.after_compare_and_set(provider_key_id, res.rows_affected)
            .await
    }

    /// Marks the credential unusable with a reason, if still at `expected_generation`.
    pub async fn mark_token_invalid(
        &self,
        provider_key_id: i64,
        expected_generation: i64,
        reason: &str,
    ) -> Result<Option<provider_key_token::Model>, StoreError> {
        use provider_key_token::Column as C;
        let res = provider_key_token::Entity::update_many()
            .col_expr(C::Generation, Expr::col(C::Generation).add(1))
            .col_expr(C::Status, Expr::value("invalid"))
            .col_expr(C::Reason, Expr::value(reason.to_string()))
            .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
            .filter(C::ProviderKeyId.eq(provider_key_id))
            .filter(C::Generation.eq(expected_generation))
            .exec(&self.db)
            .await?;
        self.after_compare_and_set(provider_key_id, res.rows_affected)
            .await
    }

    /// The row after a compare-and-set write, or `None` when it did not apply.
    async fn after_compare_and_set(
        &self,
        provider_key_id: i64,
        rows_affected: u64,
    ) -> Result<Option<provider_key_token::Model>, StoreError> {
        if rows_affected == 0 {
            return Ok(None);
        }
        self.get_key_token(provider_key_id).await
    }

    /// Takes the refresh lease of a key when nobody holds a live one; true when taken.
    pub async fn acquire_token_lease(
        &self,
        provider_key_id: i64,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use provider_key_token::Column as C;
        let now = Utc::now();
        let res = provider_key_token::Entity::update_many()
            .col_expr(C::LeaseOwner, Expr::value(owner.to_string()))
            .col_expr(C::LeaseUntil, Expr::value(until))
            .filter(C::ProviderKeyId.eq(provider_key_id))
            .filter(
                sea_orm::Condition::any()
                    .add(C::LeaseUntil.is_null())
                    .add(C::LeaseUntil.lt(now))
                    .add(C::LeaseOwner.eq(owner)),
            )
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    pub async fn release_token_lease(
        &self,
        provider_key_id: i64,
        owner: &str,
    ) -> Result<(), StoreError> {
        use provider_key_token::Column as C;
        provider_key_token::Entity::update_many()
            .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(C::ProviderKeyId.eq(provider_key_id))
            .filter(C::LeaseOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    // --- inbound client-credentials clients and tokens ---

    pub async fn create_oauth_client(
        &self,
        client_key_id: i64,
        client_id: String,
        secret_hash: String,
        name: String,
    ) -> Result<oauth_client::Model, StoreError> {
        oauth_client::ActiveModel {
            client_key_id: Set(client_key_id),
            client_id: Set(client_id),
            secret_hash: Set(secret_hash),
            name: Set(name),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "OAuth client"))
    }

    /// The client key's clients that are not revoked.
    pub async fn list_oauth_clients(
        &self,
        client_key_id: i64,
    ) -> Result<Vec<oauth_client::Model>, StoreError> {
        Ok(oauth_client::Entity::find()
            .filter(oauth_client::Column::ClientKeyId.eq(client_key_id))
            .filter(oauth_client::Column::RevokedAt.is_null())
            .order_by_asc(oauth_client::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn find_oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<oauth_client::Model>, StoreError> {
        Ok(oauth_client::Entity::find()
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .filter(oauth_client::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?)
    }

    /// Revokes a client of the client key, and with it every token issued to it.
    pub async fn revoke_oauth_client(&self, client_key_id: i64, id: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let res = oauth_client::Entity::update_many()
            .col_expr(oauth_client::Column::RevokedAt, Expr::value(now))
            .filter(oauth_client::Column::Id.eq(id))
            .filter(oauth_client::Column::ClientKeyId.eq(client_key_id))
            .filter(oauth_client::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        oauth_access_token::Entity::update_many()
            .col_expr(oauth_access_token::Column::RevokedAt, Expr::value(now))
            .filter(oauth_access_token::Column::OauthClientId.eq(id))
            .filter(oauth_access_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn insert_access_token(
        &self,
        oauth_client_id: i64,
        token_hash: String,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        // Expired rows are of no use to anyone: drop them as new ones come.
        oauth_access_token::Entity::delete_many()
            .filter(oauth_access_token::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        oauth_access_token::ActiveModel {
            oauth_client_id: Set(oauth_client_id),
            token_hash: Set(token_hash),
            created_at: Set(now),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "access token"))?;
        Ok(())
    }

    /// Revokes one token issued to the client (RFC 7009); false when it is not theirs.
    pub async fn revoke_access_token(
        &self,
        oauth_client_id: i64,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        let res = oauth_access_token::Entity::update_many()
            .col_expr(
                oauth_access_token::Column::RevokedAt,
                Expr::value(Utc::now()),
            )
            .filter(oauth_access_token::Column::OauthClientId.eq(oauth_client_id))
            .filter(oauth_access_token::Column::TokenHash.eq(token_hash))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Revoked clients, and revoked tokens that have not expired yet.
    pub async fn inbound_revocations(&self) -> Result<Revocations, StoreError> {
        let clients = oauth_client::Entity::find()
            .filter(oauth_client::Column::RevokedAt.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let token_hashes = oauth_access_token::Entity::find()
            .filter(oauth_access_token::Column::RevokedAt.is_not_null())
            .filter(oauth_access_token::Column::ExpiresAt.gt(Utc::now()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| t.token_hash)
            .collect();
        Ok(Revocations {
            clients,
            token_hashes,
        })
    }

    // --- JWT issuers ---

    pub async fn list_jwt_issuers(&self) -> Result<Vec<jwt_issuer::Model>, StoreError> {
        Ok(jwt_issuer::Entity::find()
            .order_by_asc(jwt_issuer::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn get_jwt_issuer(&self, id: i64) -> Result<jwt_issuer::Model, StoreError> {
        jwt_issuer::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_jwt_issuer(
        &self,
        i: NewJwtIssuer,
    ) -> Result<jwt_issuer::Model, StoreError> {
        let now = Utc::now();
        jwt_issuer::ActiveModel {
            name: Set(i.name),
            issuer: Set(i.issuer),
            audience: Set(i.audience),
            jwks_url: Set(i.jwks_url),
            public_key_pem: Set(i.public_key_pem),
            algorithms: Set(i.algorithms),
            client_key_claim: Set(i.client_key_claim),
            client_keys: Set(i.client_keys),
            clock_skew_secs: Set(i.clock_skew_secs),
            enabled: Set(i.enabled),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, "a JWT issuer with that name"))
    }

    /// Replaces every field of an issuer.
    pub async fn replace_jwt_issuer(
        &self,
        id: i64,
        i: NewJwtIssuer,
    ) -> Result<jwt_issuer::Model, StoreError> {
        let mut m: jwt_issuer::ActiveModel = self.get_jwt_issuer(id).await?.into();
        m.name = Set(i.name);
        m.issuer = Set(i.issuer);
        m.audience = Set(i.audience);
        m.jwks_url = Set(i.jwks_url);
        m.public_key_pem = Set(i.public_key_pem);
        m.algorithms = Set(i.algorithms);
        m.client_key_claim = Set(i.client_key_claim);
        m.client_keys = Set(i.client_keys);
        m.clock_skew_secs = Set(i.clock_skew_secs);
        m.enabled = Set(i.enabled);
        m.updated_at = Set(Utc::now());
        m.update(&self.db)
            .await
            .map_err(|e| StoreError::from_write(e, "a JWT issuer with that name"))
    }

    pub async fn delete_jwt_issuer(&self, id: i64) -> Result<(), StoreError> {
        let res = jwt_issuer::Entity::delete_by_id(id).exec(&self.db).await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
