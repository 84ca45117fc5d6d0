//! Shared short-lived state: accepted HMAC signatures (replay guard) and per-client request
//! counters. Statements run on [`Db::relaxed`](super::Db::relaxed), whose commits do not wait for
//! the disk: losing the last instant of this state in a database crash costs little, while a
//! synchronous flush on every authenticated request would cost a large part of throughput.

use sqlx::AnyConnection;

/// Records `digest` until `expires_at` (unix seconds). False when it is already recorded and
/// still live: a replay. One statement, so two instances racing on one signature cannot both win.
pub async fn first_use(
    conn: &mut AnyConnection,
    digest: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO replay_guard (digest, expires_at) VALUES ($1, $2) \
         ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE replay_guard.expires_at <= $3",
    )
    .bind(digest)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one hit in `bucket`'s window starting at `window_start`; the hits of this window
/// (including this one) and of the window before it.
pub async fn count_hit(
    conn: &mut AnyConnection,
    bucket: &str,
    window_start: i64,
    window_len: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let current: i64 = sqlx::query_scalar(
        "INSERT INTO rate_counters (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1 \
         RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(&mut *conn)
    .await?;
    let previous: Option<i64> = sqlx::query_scalar(
        "SELECT hits FROM rate_counters WHERE bucket = $1 AND window_start = $2",
    )
    .bind(bucket)
    .bind(window_start - window_len)
    .fetch_optional(&mut *conn)
    .await?;
    Ok((current, previous.unwrap_or(0)))
}

/// What [`purge_expired`] deletes: rows that expired before these instants.
pub struct Expired<'a> {
    /// Unix seconds: replay-guard entries.
    pub now: i64,
    /// Unix seconds: counter windows that no longer count.
    pub counters_before: i64,
    /// RFC 3339 (as stored): sessions, OAuth access tokens, and e-mailed tokens (used or not).
    pub now_ts: &'a str,
}

/// Deletes at most `batch` expired rows of each kind; how many went. Small batches keep each
/// statement short, so purging never holds locks that requests wait on.
pub async fn purge_expired(
    conn: &mut AnyConnection,
    expired: &Expired<'_>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let (now, counters_before) = (expired.now, expired.counters_before);
    let replay = sqlx::query(
        "DELETE FROM replay_guard WHERE digest IN \
         (SELECT digest FROM replay_guard WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now)
    .bind(batch)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let counters = sqlx::query(
        "DELETE FROM rate_counters WHERE (bucket, window_start) IN \
         (SELECT bucket, window_start FROM rate_counters WHERE window_start < $1 LIMIT $2)",
    )
    .bind(counters_before)
    .bind(batch)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let mut rows = replay + counters;
    for (table, key) in [
        ("sessions", "token_digest"),
        ("user_tokens", "token_digest"),
        ("oauth_tokens", "token_digest"),
    ] {
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN \
             (SELECT {key} FROM {table} WHERE expires_at < $1 LIMIT $2)"
        );
        rows += sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(expired.now_ts)
            .bind(batch)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(rows)
}

/// The deployment fact `name`, recording `value` first if there is none yet (the first of
/// several instances starting at once wins; all get its value).
pub async fn deployment_fact(
    conn: &mut AnyConnection,
    name: &str,
    value: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO deployment (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT value FROM deployment WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
}
