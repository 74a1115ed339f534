//! Queries on request logs: filtered pages for the API, retention deletes. (The ledger writer's
//! inserts are in `rollups`, together with the rollups they update.)

use super::{Store, StoreError};
use entity::request_log;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub client_key_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub provider_key_id: Option<i64>,
    pub model: Option<String>,
    pub status: Option<i32>,
    /// 2 for 2xx, 4 for 4xx, …
    pub status_class: Option<i32>,
    pub partial: Option<bool>,
    pub error_kind: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Restricts to client keys owned by this user.
    pub owner_key_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone)]
pub struct LogPage {
    pub items: Vec<request_log::Model>,
    pub total: u64,
}

impl LogFilter {
    fn apply(&self, mut q: Select<request_log::Entity>) -> Select<request_log::Entity> {
        use request_log::Column as C;
        if let Some(v) = self.client_key_id {
            q = q.filter(C::ClientKeyId.eq(v));
        }
        if let Some(v) = self.provider_id {
            q = q.filter(C::ProviderId.eq(v));
        }
        if let Some(v) = self.provider_key_id {
            q = q.filter(C::ProviderKeyId.eq(v));
        }
        if let Some(v) = &self.model {
            q = q.filter(C::Model.eq(v.clone()));
        }
        if let Some(v) = self.status {
            q = q.filter(C::Status.eq(v));
        }
        if let Some(c) = self.status_class {
            if c == 2 {
                // Successes are most rows: reading the newest rows by id and keeping the 2xx
                // ones stops after about one page, where the status index would collect (and
                // sort) every success first. The expression keeps the planner off that index.
                q = q.filter(Expr::col(C::Status).div(100).eq(c));
            } else {
                // Errors are few: their index range is small.
                let low = c.saturating_mul(100);
                q = q.filter(C::Status.gte(low)).filter(C::Status.lt(low + 100));
            }
        }
        if let Some(v) = self.partial {
            q = q.filter(C::Partial.eq(v));
        }
        if let Some(v) = &self.error_kind {
            q = q.filter(C::ErrorKind.eq(v.clone()));
        }
        if let Some(v) = self.from {
            q = q.filter(C::CreatedAt.gte(v));
        }
        if let Some(v) = self.to {
            q = q.filter(C::CreatedAt.lt(v));
        }
        if let Some(ids) = &self.owner_key_ids {
            q = q.filter(C::ClientKeyId.is_in(ids.clone()));
        }
        q
    }
}

impl Store {
    pub async fn list_logs(
        &self,
        filter: &LogFilter,
        offset: u64,
        limit: u64,
    ) -> Result<LogPage, StoreError> {
        let total = filter
            .apply(request_log::Entity::find())
            .count(&self.db)
            .await?;
        let items = filter
            .apply(request_log::Entity::find())
            .order_by_desc(request_log::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(LogPage { items, total })
    }

    /// A keyset page: up to `limit` rows older than `before` (all when None), newest first.
    /// No count, so the cost is the page's, however large the table.
    pub async fn list_logs_before(
        &self,
        filter: &LogFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<request_log::Model>, StoreError> {
        let mut q = filter.apply(request_log::Entity::find());
        if let Some(b) = before {
            q = q.filter(request_log::Column::Id.lt(b));
        }
        Ok(q.order_by_desc(request_log::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Which of these request ids are already recorded.
    /// Which of `ids` are stored, with the time of their request.
    pub async fn existing_request_ids(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, chrono::DateTime<chrono::Utc>>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(String, chrono::DateTime<chrono::Utc>)> = request_log::Entity::find()
                .select_only()
                .column(request_log::Column::RequestId)
                .column(request_log::Column::CreatedAt)
                .filter(request_log::Column::RequestId.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    pub async fn get_log(&self, id: i64) -> Result<request_log::Model, StoreError> {
        request_log::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes at most `limit` of the oldest rows created before `cutoff` (one short
    /// statement, so writers are never held up for long); returns how many went.
    pub async fn delete_logs_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: u64,
    ) -> Result<u64, StoreError> {
        use request_log::Column as C;
        use sea_orm::sea_query::{Order, Query};
        let oldest = Query::select()
            .column(C::Id)
            .from(request_log::Entity)
            .and_where(C::CreatedAt.lt(cutoff))
            .order_by(C::Id, Order::Asc)
            .limit(limit)
            .to_owned();
        let res = request_log::Entity::delete_many()
            .filter(C::Id.in_subquery(oldest))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

/// What one client key has spent: ever, and since a day began.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct ClientKeyTotals {
    pub client_key_id: i64,
    pub lifetime_cost_nanos: i64,
    pub day_requests: i64,
    pub day_tokens: i64,
    pub day_cost_nanos: i64,
}

impl Store {
    /// Spend per client key (seeds the limit counters at start-up): the lifetime cost from the
    /// usage rollups, which retention never deletes; today's figures from the request logs,
    /// which retention keeps for at least a day.
    pub async fn client_key_totals(
        &self,
        day_start: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ClientKeyTotals>, StoreError> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        use std::collections::BTreeMap;
        let backend = self.db.get_database_backend();
        let p = if backend == DbBackend::Postgres {
            "$1"
        } else {
            "?"
        };
        let today = format!(
            "SELECT client_key_id, CAST(0 AS BIGINT) AS lifetime_cost_nanos, \
             CAST(COUNT(*) AS BIGINT) AS day_requests, \
             CAST(COALESCE(SUM(prompt_tokens + completion_tokens + cache_write_tokens), 0) AS BIGINT) AS day_tokens, \
             CAST(COALESCE(SUM(COALESCE(cost_nanos, 0)), 0) AS BIGINT) AS day_cost_nanos \
             FROM request_logs WHERE client_key_id IS NOT NULL AND provider_key_id IS NOT NULL AND created_at >= {p} \
             GROUP BY client_key_id"
        );
        let stmt = Statement::from_sql_and_values(backend, today, vec![day_start.into()]);
        let mut totals: BTreeMap<i64, ClientKeyTotals> = ClientKeyTotals::find_by_statement(stmt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| (t.client_key_id, t))
            .collect();
        let lifetime = Statement::from_string(
            backend,
            "SELECT client_key_id, CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT) AS lifetime_cost_nanos, \
             CAST(0 AS BIGINT) AS day_requests, CAST(0 AS BIGINT) AS day_tokens, CAST(0 AS BIGINT) AS day_cost_nanos \
             FROM usage_rollups WHERE client_key_id <> 0 GROUP BY client_key_id",
        );
        for t in ClientKeyTotals::find_by_statement(lifetime)
            .all(&self.db)
            .await?
        {
            totals
                .entry(t.client_key_id)
                .or_insert_with(|| ClientKeyTotals {
                    client_key_id: t.client_key_id,
                    lifetime_cost_nanos: 0,
                    day_requests: 0,
                    day_tokens: 0,
                    day_cost_nanos: 0,
                })
                .lifetime_cost_nanos = t.lifetime_cost_nanos;
        }
        Ok(totals.into_values().collect())
    }
}
