//! Management users who log in to port 9090; `role` names a built-in or custom role.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub enabled: bool,
    /// Access tokens issued before this instant are refused (set on password change and
    /// logout-all).
    pub sessions_valid_after: Option<DateTimeUtc>,
    /// Set for the first admin and by an admin's password reset; cleared when the user
    /// changes their password. The console then asks for a new one.
    pub must_change_password: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
