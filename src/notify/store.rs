//! Notifications in the database: inbox entries, webhooks and the outbox of their
//! deliveries. Writing notices happens inside the caller's transaction; the administration
//! of webhooks (each change one transaction with its audit entry) asks the access rules
//! first (`Action::Configure` on the subdistrict).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::formats::{self, Format};
use super::subscription::{self, Subscription, Unit};
use super::Notice;
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};

/// Outbox states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const STATES: [&str; 3] = [PENDING, DELIVERED, FAILED];

pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_SECRET_CHARS: usize = 200;

// ---------------------------------------------------------------------------------------
// Writing notices (inside the caller's transaction)
// ---------------------------------------------------------------------------------------

/// Puts `notice` in the inbox of each user (existing and not disabled) of `user_ids`.
pub async fn insert_inbox(
    tx: &mut Tx,
    sid: i64,
    user_ids: &[i64],
    notice: &Notice,
    now: i64,
) -> Result<usize> {
    let mut ids: Vec<i64> = user_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut n = 0;
    for uid in ids {
        let r = sqlx::query(
            "INSERT INTO inbox (subdistrict_id, id, user_id, kind, case_id, title_zh, title_en, body_zh, body_en, link, created_at, read_at) \
             SELECT $1, $2, u.id, $4, $5, $6, $7, $8, $9, $10, $11, NULL FROM users u \
             WHERE u.subdistrict_id = $1 AND u.id = $3 AND u.disabled = 0",
        )
        .bind(sid)
        .bind(next_id())
        .bind(uid)
        .bind(&notice.kind)
        .bind(notice.case_id)
        .bind(&notice.title_zh)
        .bind(&notice.title_en)
        .bind(&notice.body_zh)
        .bind(&notice.body_en)
        .bind(&notice.link)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        n += r.rows_affected() as usize;
    }
    Ok(n)
}

/// The users holding a grant at the node or organisation `unit_id`.
pub async fn unit_users(tx: &mut Tx, sid: i64, unit_id: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT DISTINCT g.user_id FROM role_grants g \
         WHERE g.subdistrict_id = $1 AND (g.node_id = $2 OR g.org_id = $2) ORDER BY g.user_id",
    )
    .bind(sid)
    .bind(unit_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

/// Where a unit is: a node's path, or an organisation and the path of its node.
async fn unit_place(tx: &mut Tx, sid: i64, unit_id: i64) -> Result<(Option<String>, Option<i64>)> {
    let node = sqlx::query("SELECT path FROM nodes WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(unit_id)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(r) = node {
        return Ok((Some(r.get::<String, _>(0)), None));
    }
    let org = sqlx::query(
        "SELECT o.id, n.path FROM orgs o \
         LEFT JOIN nodes n ON n.subdistrict_id = o.subdistrict_id AND n.id = o.node_id \
         WHERE o.subdistrict_id = $1 AND o.id = $2",
    )
    .bind(sid)
    .bind(unit_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match org {
        Some(r) => (
            r.try_get::<Option<String>, _>(1).ok().flatten(),
            Some(r.get::<i64, _>(0)),
        ),
        None => (None, None),
    })
}

/// Queues `notice` for every enabled webhook subscribed to the unit and its kind.
pub async fn enqueue_for_unit(
    tx: &mut Tx,
    sid: i64,
    unit_id: i64,
    notice: &Notice,
    now: i64,
) -> Result<usize> {
    let (path, org_id) = unit_place(tx, sid, unit_id).await?;
    let unit = Unit {
        path: path.as_deref(),
        org_id,
    };
    let rows = sqlx::query(
        "SELECT w.id, w.format, w.kinds, w.org_id, n.path AS node_path FROM webhooks w \
         LEFT JOIN nodes n ON n.subdistrict_id = w.subdistrict_id AND n.id = w.node_id \
         WHERE w.subdistrict_id = $1 AND w.enabled = 1 ORDER BY w.id",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for r in &rows {
        let kinds = subscription::split_kinds(&r.get::<String, _>("kinds"));
        let node_path = r.try_get::<Option<String>, _>("node_path").ok().flatten();
        let sub = Subscription {
            node_path: node_path.as_deref(),
            org_id: opt_i64(r, "org_id"),
            kinds: &kinds,
        };
        let Some(format) = Format::parse(&r.get::<String, _>("format")) else {
            continue;
        };
        if subscription::wants(&sub, &unit, &notice.kind) {
            enqueue(tx, sid, r.get("id"), format, notice, now).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Queues one delivery of `notice` to one webhook, due now.
pub async fn enqueue(
    tx: &mut Tx,
    sid: i64,
    webhook_id: i64,
    format: Format,
    notice: &Notice,
    now: i64,
) -> Result<i64> {
    let id = next_id();
    let payload = formats::payload(format, notice, super::site_url().as_deref());
    sqlx::query(
        "INSERT INTO outbox (subdistrict_id, id, webhook_id, kind, title, payload, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
    )
    .bind(sid)
    .bind(id)
    .bind(webhook_id)
    .bind(&notice.kind)
    .bind(&notice.title_zh)
    .bind(payload.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------
// The inbox
// ---------------------------------------------------------------------------------------

/// One notice in a user's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub id: i64,
    pub kind: String,
    pub case_id: Option<i64>,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

fn inbox_from(r: &AnyRow) -> InboxItem {
    InboxItem {
        id: r.get("id"),
        kind: r.get("kind"),
        case_id: opt_i64(r, "case_id"),
        title_zh: r.get("title_zh"),
        title_en: r.get("title_en"),
        body_zh: r.get("body_zh"),
        body_en: r.get("body_en"),
        link: r.get("link"),
        created_at: r.get("created_at"),
        read_at: opt_i64(r, "read_at"),
    }
}

/// A user's notices, newest first; only the unread ones when `unread_only`.
pub async fn inbox(
    db: &Db,
    sid: i64,
    user_id: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<InboxItem>> {
    let rows = sqlx::query(
        "SELECT id, kind, case_id, title_zh, title_en, body_zh, body_en, link, created_at, read_at \
         FROM inbox WHERE subdistrict_id = $1 AND user_id = $2 AND ($3 = 0 OR read_at IS NULL) \
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
    )
    .bind(sid)
    .bind(user_id)
    .bind(i64::from(unread_only))
    .bind(limit.clamp(1, 500))
    .bind(offset.max(0))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(inbox_from).collect())
}

/// How many notices of a user are unread.
pub async fn unread_count(db: &Db, sid: i64, user_id: i64) -> Result<i64> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM inbox WHERE subdistrict_id = $1 AND user_id = $2 AND read_at IS NULL",
    )
    .bind(sid)
    .bind(user_id)
    .fetch_one(db.read())
    .await?;
    Ok(r.get::<i64, _>(0))
}

/// Marks one of the user's notices read (again is fine); another user's notice is not found.
pub async fn mark_read(db: &Db, sid: i64, user_id: i64, id: i64, now: i64) -> Result<i64> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT read_at FROM inbox WHERE subdistrict_id = $1 AND id = $2 AND user_id = $3",
    )
    .bind(sid)
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    if let Some(at) = opt_i64(&row, "read_at") {
        tx.commit().await?;
        return Ok(at);
    }
    sqlx::query(
        "UPDATE inbox SET read_at = $4 WHERE subdistrict_id = $1 AND id = $2 AND user_id = $3 AND read_at IS NULL",
    )
    .bind(sid)
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(now)
}

/// Marks all of a user's notices read; answers how many were unread.
pub async fn mark_all_read(db: &Db, sid: i64, user_id: i64, now: i64) -> Result<i64> {
    let r = sqlx::query(
        "UPDATE inbox SET read_at = $3 WHERE subdistrict_id = $1 AND user_id = $2 AND read_at IS NULL",
    )
    .bind(sid)
    .bind(user_id)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() as i64)
}

// ---------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------

/// A stored webhook. `secret` never leaves this module except to sign; [`Webhook::view`]
/// is what people and clients see.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub format: Format,
    pub url: String,
    pub secret: Option<String>,
    pub node_id: Option<i64>,
    pub org_id: Option<i64>,
    /// The subscribed node's or organisation's name.
    pub unit_name: String,
    pub kinds: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Webhook {
    /// What may be shown: the URL and the secret masked.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "format": self.format,
            "url": formats::mask_url(&self.url),
            "has_secret": self.secret.is_some(),
            "secret": self.secret.as_deref().map(formats::mask_secret),
            "node_id": self.node_id,
            "org_id": self.org_id,
            "unit_name": self.unit_name,
            "kinds": self.kinds,
            "enabled": self.enabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

const WEBHOOK_SELECT: &str = "SELECT w.id, w.name, w.format, w.url, w.secret, w.node_id, w.org_id, w.kinds, w.enabled, w.created_at, w.updated_at, \
     COALESCE(n.name, o.name, '') AS unit_name FROM webhooks w \
     LEFT JOIN nodes n ON n.subdistrict_id = w.subdistrict_id AND n.id = w.node_id \
     LEFT JOIN orgs o ON o.subdistrict_id = w.subdistrict_id AND o.id = w.org_id \
     WHERE w.subdistrict_id = $1";

fn webhook_from(r: &AnyRow) -> Webhook {
    Webhook {
        id: r.get("id"),
        name: r.get("name"),
        format: Format::parse(&r.get::<String, _>("format")).unwrap_or(Format::Generic),
        url: r.get("url"),
        secret: r.try_get::<Option<String>, _>("secret").ok().flatten(),
        node_id: opt_i64(r, "node_id"),
        org_id: opt_i64(r, "org_id"),
        unit_name: r.get("unit_name"),
        kinds: subscription::split_kinds(&r.get::<String, _>("kinds")),
        enabled: r.get::<i64, _>("enabled") != 0,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

/// The subdistrict's webhooks, by name.
pub async fn webhooks(db: &Db, sid: i64) -> Result<Vec<Webhook>> {
    let rows = sqlx::query(&format!("{WEBHOOK_SELECT} ORDER BY w.name"))
        .bind(sid)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(webhook_from).collect())
}

pub async fn webhook(db: &Db, sid: i64, id: i64) -> Result<Webhook> {
    let r = sqlx::query(&format!("{WEBHOOK_SELECT} AND w.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(webhook_from(&r))
}

/// Kinds as a client sends them: a list, or one text separated by commas.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KindsInput {
    List(Vec<String>),
    Text(String),
}

impl KindsInput {
    fn text(&self) -> String {
        match self {
            KindsInput::List(l) => l.join(","),
            KindsInput::Text(t) => t.clone(),
        }
    }
}

/// What a form or a client sends to add or change a webhook. When changing one, a missing
/// or blank `url` or `secret` keeps the stored one; `clear_secret` removes the secret.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub clear_secret: bool,
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub org_id: Option<i64>,
    #[serde(default)]
    pub kinds: Option<KindsInput>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A checked webhook, ready to store.
struct Checked {
    name: String,
    format: Format,
    url: String,
    secret: Option<String>,
    node_id: Option<i64>,
    org_id: Option<i64>,
    kinds: Vec<String>,
    enabled: bool,
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, Text::new("此项必填", "required"))
}

async fn check(db: &Db, sid: i64, input: &WebhookInput, old: Option<&Webhook>) -> Result<Checked> {
    let mut errors = Vec::new();
    let name = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| old.map(|o| o.name.clone()));
    match &name {
        None => errors.push(required("name")),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => errors.push(FieldError::new(
            "name",
            Text::new("名称最多 60 个字", "at most 60 characters"),
        )),
        _ => {}
    }
    let format = match input
        .format
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(f) => match Format::parse(f) {
            Some(f) => Some(f),
            None => {
                errors.push(FieldError::new(
                    "format",
                    Text::new(
                        "格式须为 wecom、dingtalk、feishu 或 generic",
                        "format must be wecom, dingtalk, feishu or generic",
                    ),
                ));
                None
            }
        },
        None => match old {
            Some(o) => Some(o.format),
            None => {
                errors.push(required("format"));
                None
            }
        },
    };
    let url = match input
        .url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => match formats::check_url(u) {
            Ok(u) => Some(u),
            Err(t) => {
                errors.push(FieldError::new("url", t));
                None
            }
        },
        None => match old {
            Some(o) => Some(o.url.clone()),
            None => {
                errors.push(required("url"));
                None
            }
        },
    };
    let new_secret = input
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let secret = if input.clear_secret {
        None
    } else {
        match new_secret {
            Some(s) if s.chars().count() > MAX_SECRET_CHARS => {
                errors.push(FieldError::new(
                    "secret",
                    Text::new("密钥最多 200 个字符", "at most 200 characters"),
                ));
                None
            }
            Some(s) => Some(s.to_string()),
            None => old.and_then(|o| o.secret.clone()),
        }
    };
    if format == Some(Format::WeCom) && new_secret.is_some() {
        errors.push(FieldError::new(
            "secret",
            Text::new(
                "企业微信群机器人不使用签名密钥,密钥已包含在地址的 key 参数中",
                "WeCom robots are not signed: their key is the URL's key parameter",
            ),
        ));
    }
    let secret = if format == Some(Format::WeCom) {
        None
    } else {
        secret
    };
    let kinds = match &input.kinds {
        Some(k) => match subscription::parse_kinds(&k.text()) {
            Ok(k) => k,
            Err(t) => {
                errors.push(FieldError::new("kinds", t));
                Vec::new()
            }
        },
        None => old.map(|o| o.kinds.clone()).unwrap_or_default(),
    };
    let (mut node_id, mut org_id) = match (input.node_id, input.org_id) {
        (None, None) => match old {
            Some(o) => (o.node_id, o.org_id),
            // Unsaid, a webhook hears the whole subdistrict.
            None => (Some(sid), None),
        },
        (n, o) => (n, o),
    };
    if node_id.is_some() && org_id.is_some() {
        errors.push(FieldError::new(
            "node_id",
            Text::new(
                "请只选择一个节点或一个组织",
                "choose a node or an organisation, not both",
            ),
        ));
        org_id = None;
    }
    if let Some(n) = node_id {
        let found = sqlx::query("SELECT id FROM nodes WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(n)
            .fetch_optional(db.read())
            .await?;
        if found.is_none() {
            errors.push(FieldError::new(
                "node_id",
                Text::new("节点不存在", "the node does not exist"),
            ));
            node_id = None;
        }
    }
    if let Some(o) = org_id {
        let found = sqlx::query("SELECT id FROM orgs WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(o)
            .fetch_optional(db.read())
            .await?;
        if found.is_none() {
            errors.push(FieldError::new(
                "org_id",
                Text::new("组织不存在", "the organisation does not exist"),
            ));
        }
    }
    let enabled = input.enabled.unwrap_or(old.is_none_or(|o| o.enabled));
    match (errors.is_empty(), name, format, url) {
        (true, Some(name), Some(format), Some(url)) => Ok(Checked {
            name,
            format,
            url,
            secret,
            node_id,
            org_id,
            kinds,
            enabled,
        }),
        _ => Err(Error::Invalid(errors)),
    }
}

fn summary(c: &Checked) -> Value {
    json!({
        "name": c.name, "format": c.format, "url": formats::mask_url(&c.url),
        "has_secret": c.secret.is_some(), "node_id": c.node_id, "org_id": c.org_id,
        "kinds": c.kinds, "enabled": c.enabled,
    })
}

fn old_summary(w: &Webhook) -> Value {
    json!({
        "name": w.name, "format": w.format, "url": formats::mask_url(&w.url),
        "has_secret": w.secret.is_some(), "node_id": w.node_id, "org_id": w.org_id,
        "kinds": w.kinds, "enabled": w.enabled,
    })
}

fn name_taken(e: sqlx::Error) -> Error {
    if is_unique_violation(&e) {
        Error::field(
            "name",
            Text::new("已有同名的机器人", "a webhook with this name exists"),
        )
    } else {
        e.into()
    }
}

/// Only subdistrict administrators keep webhooks.
pub fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Adds a webhook (with its audit entry).
pub async fn create(db: &Db, actor: &Actor, input: &WebhookInput) -> Result<Webhook> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let c = check(db, sid, input, None).await?;
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO webhooks (subdistrict_id, id, name, format, url, secret, node_id, org_id, kinds, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(sid)
    .bind(id)
    .bind(&c.name)
    .bind(c.format.code())
    .bind(&c.url)
    .bind(c.secret.clone())
    .bind(c.node_id)
    .bind(c.org_id)
    .bind(subscription::join_kinds(&c.kinds))
    .bind(i64::from(c.enabled))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    audit::record(
        &mut tx,
        actor,
        Change::new("webhook.create", "webhook", Some(id))
            .label(&c.name)
            .after(summary(&c)),
    )
    .await?;
    tx.commit().await?;
    webhook(db, sid, id).await
}

/// Changes a webhook (with its audit entry).
pub async fn update(db: &Db, actor: &Actor, id: i64, input: &WebhookInput) -> Result<Webhook> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let old = webhook(db, sid, id).await?;
    let c = check(db, sid, input, Some(&old)).await?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE webhooks SET name = $3, format = $4, url = $5, secret = $6, node_id = $7, org_id = $8, kinds = $9, enabled = $10, updated_at = $11 \
         WHERE subdistrict_id = $1 AND id = $2",
    )
    .bind(sid)
    .bind(id)
    .bind(&c.name)
    .bind(c.format.code())
    .bind(&c.url)
    .bind(c.secret.clone())
    .bind(c.node_id)
    .bind(c.org_id)
    .bind(subscription::join_kinds(&c.kinds))
    .bind(i64::from(c.enabled))
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await
    .map_err(name_taken)?;
    if r.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("webhook.update", "webhook", Some(id))
            .label(&c.name)
            .before(old_summary(&old))
            .after(summary(&c)),
    )
    .await?;
    tx.commit().await?;
    webhook(db, sid, id).await
}

/// Queues a test message to one webhook; answers the outbox id.
pub async fn send_test(db: &Db, actor: &Actor, id: i64) -> Result<i64> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let w = webhook(db, sid, id).await?;
    if !w.enabled {
        return Err(Error::Conflict(Text::new(
            "该机器人已停用,启用后才能发送测试消息",
            "this webhook is disabled; enable it to send a test message",
        )));
    }
    let mut tx = db.begin().await?;
    let out = enqueue(
        &mut tx,
        sid,
        id,
        w.format,
        &formats::test_notice(&w.name),
        crate::clock::now_ms(),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("webhook.test", "webhook", Some(id))
            .label(&w.name)
            .after(json!({ "outbox_id": out })),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The outbox as admins see it
// ---------------------------------------------------------------------------------------

/// One delivery.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub webhook_name: String,
    pub kind: String,
    pub title: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

fn delivery_from(r: &AnyRow) -> Delivery {
    Delivery {
        id: r.get("id"),
        webhook_id: r.get("webhook_id"),
        webhook_name: r.get("webhook_name"),
        kind: r.get("kind"),
        title: r.get("title"),
        state: r.get("state"),
        attempts: r.get("attempts"),
        next_attempt_at: r.get("next_attempt_at"),
        last_attempt_at: opt_i64(r, "last_attempt_at"),
        last_status: opt_i64(r, "last_status"),
        last_error: r.try_get::<Option<String>, _>("last_error").ok().flatten(),
        created_at: r.get("created_at"),
        delivered_at: opt_i64(r, "delivered_at"),
    }
}

const DELIVERY_SELECT: &str = "SELECT o.id, o.webhook_id, COALESCE(w.name, '') AS webhook_name, o.kind, o.title, o.state, o.attempts, \
     o.next_attempt_at, o.last_attempt_at, o.last_status, o.last_error, o.created_at, o.delivered_at FROM outbox o \
     LEFT JOIN webhooks w ON w.subdistrict_id = o.subdistrict_id AND w.id = o.webhook_id \
     WHERE o.subdistrict_id = $1";

/// Deliveries, newest first, optionally in one state (`""` = any) and of one webhook.
pub async fn deliveries(
    db: &Db,
    sid: i64,
    state: &str,
    webhook_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(&format!(
        "{DELIVERY_SELECT} AND ($2 = '' OR o.state = $2) AND ($3 = 0 OR o.webhook_id = $3) \
         ORDER BY o.created_at DESC, o.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(sid)
    .bind(state.to_string())
    .bind(webhook_id.unwrap_or(0))
    .bind(limit.clamp(1, 500))
    .bind(offset.max(0))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(delivery_from).collect())
}

pub async fn delivery(db: &Db, sid: i64, id: i64) -> Result<Delivery> {
    let r = sqlx::query(&format!("{DELIVERY_SELECT} AND o.id = $2"))
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(delivery_from(&r))
}

/// How many deliveries are in each state.
pub async fn state_counts(db: &Db, sid: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE subdistrict_id = $1 GROUP BY state",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(STATES
        .iter()
        .map(|s| {
            let n = rows
                .iter()
                .find(|r| r.get::<String, _>("state") == *s)
                .map(|r| r.get::<i64, _>("n"))
                .unwrap_or(0);
            (s.to_string(), n)
        })
        .collect())
}

/// Sends a delivery again: a failed one gets a fresh round of attempts, a pending one that
/// is waiting for its next attempt is made due now. A delivered one, or one being sent at
/// this moment, answers 409.
pub async fn retry(db: &Db, actor: &Actor, id: i64) -> Result<Delivery> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let before = delivery(db, sid, id).await?;
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, \
         next_attempt_at = $3, claim = NULL \
         WHERE subdistrict_id = $1 AND id = $2 AND (state = 'failed' OR (state = 'pending' AND claim IS NULL))",
    )
    .bind(sid)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(Error::Conflict(if before.state == DELIVERED {
            Text::new(
                "该消息已送达,无需重试",
                "this message was delivered already",
            )
        } else {
            Text::new(
                "该消息正在发送,请稍后刷新",
                "this message is being sent right now; reload in a moment",
            )
        }));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("outbox.retry", "outbox", Some(id))
            .label(&before.webhook_name)
            .before(json!({ "state": before.state, "attempts": before.attempts, "last_error": before.last_error }))
            .after(json!({ "state": PENDING })),
    )
    .await?;
    tx.commit().await?;
    delivery(db, sid, id).await
}
