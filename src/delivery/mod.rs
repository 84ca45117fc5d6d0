//! The outbox worker: delivers what the core queued, after the queuing transaction committed,
//! through one [`transport`]. Retries back off exponentially; a message is parked after its last
//! attempt, or at once when the receiver rejects it for good, its error kept.

pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use tokio::sync::watch;

use crate::core::Core;
use crate::core::mail::Rendered;
use crate::store;
use crate::store::webhooks::EndpointRow;

pub const MAX_ATTEMPTS: i64 = 8;
const BATCH: i64 = 100;
/// After a pass that found work but not a full batch, the worker lets messages gather this long
/// before it claims again. Under load this turns hundreds of small claims a second (each a
/// statement on the single SQLite writer that requests are waiting for) into a few full ones;
/// when traffic is quiet the first message after a pause still goes out at once.
const GATHER: Duration = Duration::from_millis(50);

/// Webhook endpoints (with their secrets) looked up during one batch: one query per endpoint,
/// not per delivery. `None`: deleted.
type Endpoints = std::collections::HashMap<String, Option<(EndpointRow, String)>>;

pub struct Worker {
    core: Arc<Core>,
    http: reqwest::Client,
    /// How long a claimed message is reserved for this worker: after a crash mid-delivery, the
    /// message is retried once its lease has run out.
    lease: time::Duration,
    transport: transport::Transport,
    from: Mailbox,
}

/// Raises the calling thread's niceness by `by` (to at most 19). On Linux niceness belongs to a
/// thread (`setpriority` on its thread id), and raising it needs no privilege.
#[cfg(target_os = "linux")]
fn lower_priority(by: i32) {
    use rustix::process::{getpriority_process, setpriority_process};
    let me = Some(rustix::thread::gettid());
    let lowered =
        getpriority_process(me).and_then(|now| setpriority_process(me, (now + by).min(19)));
    if let Err(e) = lowered {
        tracing::warn!(error = %e, "the outbox worker could not lower its CPU priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_by: i32) {}

/// Delay before attempt `n + 1`: 2^n seconds (capped at an hour) with ±25 % jitter.
fn backoff(attempts: i64) -> time::Duration {
    let base = 2f64.powi(attempts.clamp(0, 12) as i32).min(3600.0);
    let jitter = rand::random_range(0.75..1.25);
    time::Duration::milliseconds((base * jitter * 1000.0) as i64)
}

impl Worker {
    pub fn new(
        core: Arc<Core>,
        spec: &transport::Spec,
        from: &str,
        lease: time::Duration,
        webhook_timeout: Duration,
    ) -> anyhow::Result<Worker> {
        let transport = transport::Transport::open(spec)?;
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("usher-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail_from {from:?}: {e}"))?;
        Ok(Worker {
            core,
            http,
            lease,
            transport,
            from,
        })
    }

    /// Runs until `shutdown` turns true; finishes the batch in hand first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut unrecorded = Vec::new();
        loop {
            let delivered = match self.deliver_due(&mut unrecorded).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed");
                    0
                }
            };
            if *shutdown.borrow() {
                return self.record_sent(&unrecorded).await;
            }
            if delivered == 0 {
                tokio::select! {
                    _ = self.core.outbox_wakeup.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return self.record_sent(&unrecorded).await,
                }
            } else if delivered < BATCH as usize {
                tokio::select! {
                    _ = tokio::time::sleep(GATHER) => {}
                    _ = shutdown.changed() => return self.record_sent(&unrecorded).await,
                }
            }
        }
    }

    /// [`Worker::run`] on a thread and runtime of its own whose CPU niceness is raised by
    /// `nice`: when requests and delivery both want the CPU, requests get it, and delivery
    /// catches up in the idle time that follows (docs/benchmarks.md, issue 5). Threads it starts
    /// (the runtime's blocking pool, for file writes) inherit the niceness. The returned task
    /// ends when the thread does.
    ///
    /// For SQLite only: a PostgreSQL connection opened from this runtime would be driven by it,
    /// and requests that use it later would wait for this thread to be scheduled. SQLite
    /// connections run on threads of their own, all opened at start (`store`), and the worker
    /// never holds the writer itself ([`store::outbox::record`]).
    pub fn spawn_niced(
        self,
        nice: i32,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("usher-outbox-io")
            .build()?;
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("usher-outbox".into())
            .spawn(move || {
                lower_priority(nice);
                runtime.block_on(self.run(shutdown));
                let _ = done.send(());
            })?;
        Ok(tokio::spawn(async move {
            let _ = finished.await;
        }))
    }

    /// Marks `ids` sent (before stopping); a failure leaves them to be sent again.
    async fn record_sent(&self, ids: &[String]) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        if let Err(e) = store::outbox::record(&self.core.db, &ids, &self.core.now_ts(), &[]).await {
            tracing::warn!(error = %e, "recording deliveries failed; they will be sent again");
        }
    }

    /// One pass: records the deliveries of the last pass that `unrecorded` holds, claims due
    /// messages and delivers them. Returns how many it handled. A full batch delivered without
    /// a failure is left in `unrecorded`: the next pass, which follows at once, records it with
    /// its claim (one write instead of two; until then a crash would send it again, as it would
    /// a batch interrupted mid-delivery).
    pub async fn deliver_due(&self, unrecorded: &mut Vec<String>) -> anyhow::Result<usize> {
        let now = self.core.clock.now();
        let lease = crate::core::clock::format_ts(now + self.lease);
        let now = crate::core::clock::format_ts(now);
        let sent_before: Vec<&str> = unrecorded.iter().map(String::as_str).collect();
        let batch =
            store::outbox::claim_due(&self.core.db, &now, &lease, BATCH, &sent_before, &now)
                .await?;
        unrecorded.clear();
        if batch.is_empty() {
            return Ok(0);
        }
        // Deliver the whole batch, then record every outcome in one batch: the single SQLite
        // writer is shared with the request path, so fewer write transactions matter.
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut endpoints = Endpoints::new();
        for row in &batch {
            outcomes.push(self.deliver(row, &mut endpoints).await);
        }
        let mut sent = Vec::with_capacity(batch.len());
        let mut failed = Vec::new();
        for (row, result) in batch.iter().zip(outcomes) {
            match result {
                Ok(()) => sent.push(row.id.as_str()),
                Err(e) => failed.push((row, e)),
            }
        }
        if failed.is_empty() && batch.len() == BATCH as usize {
            unrecorded.extend(sent.iter().map(|id| id.to_string()));
        } else {
            let failed: Vec<store::outbox::Failed<'_>> = failed
                .into_iter()
                .map(|(row, failure)| {
                    // A permanent rejection is parked at once: retrying cannot change the answer.
                    let retry_at = (!failure.permanent && row.attempts < MAX_ATTEMPTS).then(|| {
                        crate::core::clock::format_ts(
                            self.core.clock.now() + backoff(row.attempts),
                        )
                    });
                    let error = format!("{:#}", failure.error);
                    tracing::warn!(outbox.id = %row.id, attempts = row.attempts, parked = retry_at.is_none(), permanent = failure.permanent, error = %error, "delivery failed");
                    store::outbox::Failed {
                        id: &row.id,
                        error,
                        retry_at,
                    }
                })
                .collect();
            store::outbox::record(&self.core.db, &sent, &self.core.now_ts(), &failed).await?;
        }
        if !batch.is_empty() {
            metrics::counter!("usher_outbox_processed_total").increment(batch.len() as u64);
        }
        Ok(batch.len())
    }

    async fn deliver(
        &self,
        row: &store::rows::OutboxRow,
        endpoints: &mut Endpoints,
    ) -> Result<(), transport::Failure> {
        match row.kind.as_str() {
            crate::core::mail::KIND_EMAIL => self.deliver_mail(row).await,
            crate::core::webhooks::KIND_WEBHOOK => self.deliver_webhook(row, endpoints).await,
            other => Err(anyhow::anyhow!("unknown outbox kind {other}").into()),
        }
    }

    /// POSTs the event to its endpoint, signed (docs/webhooks.md). Any 2xx is success; any other
    /// answer, a timeout or a refused connection is retried; a deleted or disabled endpoint
    /// parks the delivery at once.
    async fn deliver_webhook(
        &self,
        row: &store::rows::OutboxRow,
        endpoints: &mut Endpoints,
    ) -> Result<(), transport::Failure> {
        let payload = (self.core.crypto)
            .decrypt(&row.id, &row.payload_encrypted)
            .map_err(anyhow::Error::from)?;
        let delivery: crate::core::webhooks::Delivery =
            serde_json::from_slice(&payload).map_err(anyhow::Error::from)?;
        let permanent = |why: &str| transport::Failure {
            permanent: true,
            error: anyhow::anyhow!("{why}"),
        };
        if !endpoints.contains_key(&delivery.endpoint_id) {
            let found = self
                .core
                .endpoint_for_delivery(&delivery.endpoint_id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            endpoints.insert(delivery.endpoint_id.clone(), found);
        }
        let Some((endpoint, secret)) = &endpoints[&delivery.endpoint_id] else {
            return Err(permanent("the endpoint was deleted"));
        };
        if endpoint.enabled != 1 && row.purpose != crate::core::webhooks::TEST_EVENT {
            return Err(permanent("the endpoint is disabled"));
        }
        let timestamp = self.core.clock.now().unix_timestamp();
        let signature =
            crate::core::webhooks::signature(secret, &row.id, timestamp, &delivery.body)
                .ok_or_else(|| anyhow::anyhow!("the endpoint secret is malformed"))?;
        let answer = self
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &row.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body)
            .send()
            .await
            // Without the URL: it can carry a token of the receiver's, and errors are logged.
            .map_err(|e| anyhow::anyhow!("{}", e.without_url()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(anyhow::anyhow!("the endpoint answered HTTP {}", status.as_u16()).into())
        }
    }

    async fn deliver_mail(&self, row: &store::rows::OutboxRow) -> Result<(), transport::Failure> {
        let payload = (self.core.crypto)
            .decrypt(&row.id, &row.payload_encrypted)
            .map_err(anyhow::Error::from)?;
        let mail: Rendered = serde_json::from_slice(&payload).map_err(anyhow::Error::from)?;
        let message = self.format(&row.id, &mail)?;
        self.transport.send(&row.id, message).await
    }

    /// A multipart text + HTML message whose `Message-ID` is stable across retries, so that
    /// receivers can drop duplicates of an at-least-once delivery.
    fn format(&self, id: &str, mail: &Rendered) -> anyhow::Result<lettre::Message> {
        let to: Mailbox = mail.to.parse()?;
        Ok(lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(format!("<{id}@usher>")))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))?)
    }
}
