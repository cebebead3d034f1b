//! Categories stored per subdistrict, and their editor.
//!
//! Each subdistrict's tree is one versioned document (`category_tree_versions`, migration 8):
//! version 0 is the shipped tree (no rows), the first change stores a whole copy as version
//! 1, and every change appends the next version, so the rows are the full history. A change
//! is judged on the whole tree: [`CategoryTree::validate`] (errors by field, both languages)
//! and [`CategoryTree::check_successor`] (nothing deleted: categories are retired, and codes
//! never change once cases may use them). It names the version it was made on; a stale
//! version is refused with 409, and of two changes racing on one version the primary key
//! lets one win. Each change writes its audit entry (the changed categories, before and
//! after) in the same transaction.
//!
//! [`tree`] is what cases read (every category, retired ones too, so old cases keep their
//! names and deadlines); [`offered`] is what new cases may be filed under.
//! Pages are in `category_store/web.rs`, the API in `category_store/api.rs`.

mod api;
mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use serde_json::{json, Value};
use sqlx::Row;

use super::category::{Category, CategoryTree};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, opt_i64, Db};
use crate::web::AppState;

/// The live tree of a subdistrict and where it stands in its history.
#[derive(Debug, Clone)]
pub struct Stored {
    /// 0 for the shipped tree (nothing stored yet).
    pub version: i64,
    pub tree: CategoryTree,
    pub updated_at: Option<i64>,
    pub updated_by: Option<i64>,
}

/// One version of the history (without its document).
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionInfo {
    pub version: i64,
    pub summary: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Parsed documents by (subdistrict, version). A version is never rewritten, so an entry
/// never goes stale; what is live is asked of the database each time.
type Cache = Mutex<HashMap<(i64, i64), Arc<CategoryTree>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached(sid: i64, version: i64) -> Option<Arc<CategoryTree>> {
    cache().lock().ok()?.get(&(sid, version)).cloned()
}

fn remember(sid: i64, version: i64, tree: &CategoryTree) -> Arc<CategoryTree> {
    let t = Arc::new(tree.clone());
    if let Ok(mut c) = cache().lock() {
        // Only the newest version of each subdistrict is worth keeping.
        c.retain(|(s, _), _| *s != sid);
        c.insert((sid, version), t.clone());
    }
    t
}

fn parse(document: &str) -> Result<CategoryTree> {
    serde_json::from_str(document)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored category tree does not parse: {e}")))
}

/// The live tree of a subdistrict with its version.
pub async fn current(db: &Db, sid: i64) -> Result<Stored> {
    let head = sqlx::query(
        "SELECT version, created_at, created_by FROM category_tree_versions \
         WHERE subdistrict_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(sid)
    .fetch_optional(db.read())
    .await?;
    let Some(head) = head else {
        return Ok(Stored {
            version: 0,
            tree: CategoryTree::seeded(),
            updated_at: None,
            updated_by: None,
        });
    };
    let version: i64 = head.get(0);
    let tree = match cached(sid, version) {
        Some(t) => t,
        None => {
            let doc: String = sqlx::query(
                "SELECT document FROM category_tree_versions WHERE subdistrict_id = $1 AND version = $2",
            )
            .bind(sid)
            .bind(version)
            .fetch_one(db.read())
            .await?
            .get(0);
            remember(sid, version, &parse(&doc)?)
        }
    };
    Ok(Stored {
        version,
        tree: (*tree).clone(),
        updated_at: Some(head.get(1)),
        updated_by: opt_i64(&head, "created_by"),
    })
}

/// The subdistrict's category tree: the stored one, else the seeded one. Retired categories
/// are in it (old cases keep their names and deadlines); see [`offered`] for new cases.
pub async fn tree(db: &Db, sid: i64) -> Result<CategoryTree> {
    Ok(current(db, sid).await?.tree)
}

/// What new cases may be filed under ([`CategoryTree::offered`] of [`tree`]).
pub async fn offered(db: &Db, sid: i64) -> Result<CategoryTree> {
    Ok(tree(db, sid).await?.offered())
}

/// [`offered`], shared: what every intake validates against, cached per subdistrict (see
/// `storage::memo`; saving a tree calls `memo::changed`).
pub async fn offered_shared(db: &Db, sid: i64) -> Result<Arc<CategoryTree>> {
    let memo = db.memo::<OfferedTrees>();
    if let Some(t) = memo.0.get(&sid) {
        return Ok(t);
    }
    let began = crate::storage::memo::Generation::now();
    let t = Arc::new(offered(db, sid).await?);
    memo.0.put(began, sid, t.clone());
    Ok(t)
}

struct OfferedTrees(crate::storage::memo::Cache<i64, Arc<CategoryTree>>);

impl Default for OfferedTrees {
    fn default() -> Self {
        OfferedTrees(crate::storage::memo::Cache::new(1_000))
    }
}

/// The history, newest first.
pub async fn history(db: &Db, sid: i64) -> Result<Vec<VersionInfo>> {
    let rows = sqlx::query(
        "SELECT version, summary, created_by, created_at FROM category_tree_versions \
         WHERE subdistrict_id = $1 ORDER BY version DESC",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| VersionInfo {
            version: r.get(0),
            summary: r.get(1),
            created_by: opt_i64(r, "created_by"),
            created_at: r.get(3),
        })
        .collect())
}

/// One stored version's tree (`NotFound` for an unknown one; 0 is the shipped tree).
pub async fn version(db: &Db, sid: i64, version: i64) -> Result<CategoryTree> {
    if version == 0 {
        return Ok(CategoryTree::seeded());
    }
    let doc: String = sqlx::query(
        "SELECT document FROM category_tree_versions WHERE subdistrict_id = $1 AND version = $2",
    )
    .bind(sid)
    .bind(version)
    .fetch_one(db.read())
    .await?
    .get(0);
    parse(&doc)
}

/// Only subdistrict administrators change the tree.
pub fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The error for a change made on a version that is no longer the live one.
pub fn stale(expected: i64, live: i64) -> Error {
    Error::Conflict(Text::owned(
        format!("类别已被他人修改(您编辑的是第 {expected} 版,当前为第 {live} 版),请刷新后重新修改"),
        format!("the categories were changed by someone else (you edited version {expected}, the current one is {live}); reload and make your change again"),
    ))
}

/// What a change did, for the history and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Replace,
    Add,
    Update,
    Retire,
    Restore,
}

impl ChangeKind {
    fn action(self) -> &'static str {
        match self {
            ChangeKind::Replace => "category.replace",
            ChangeKind::Add => "category.add",
            ChangeKind::Update => "category.update",
            ChangeKind::Retire => "category.retire",
            ChangeKind::Restore => "category.restore",
        }
    }
}

/// Checks a whole new tree against the live one, without saving.
pub fn check(before: &CategoryTree, after: &CategoryTree) -> Result<()> {
    let mut errors: Vec<FieldError> = Vec::new();
    if let Err(e) = after.validate() {
        errors.extend(e);
    }
    if let Err(e) = after.check_successor(before) {
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Saves `after` as the next version after `expected`, checked and audited, in one
/// transaction. Saving a tree equal to the live one stores nothing and answers the live one.
pub async fn save(
    db: &Db,
    actor: &Actor,
    expected: i64,
    after: CategoryTree,
    kind: ChangeKind,
    subject: &str,
) -> Result<Stored> {
    crate::storage::memo::changed();
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let live = current(db, sid).await?;
    if live.version != expected {
        return Err(stale(expected, live.version));
    }
    check(&live.tree, &after)?;
    let changes = after.changes(&live.tree);
    if changes.is_empty() {
        return Ok(live);
    }
    let version = expected + 1;
    let document = serde_json::to_string(&after)
        .map_err(|e| Error::Internal(anyhow::anyhow!("serialising a category tree: {e}")))?;
    let codes: Vec<&str> = changes.iter().map(|(c, _, _)| *c).collect();
    let summary = format!("{}: {}", kind.action(), codes.join(", "));
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO category_tree_versions (subdistrict_id, version, document, summary, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sid)
    .bind(version)
    .bind(&document)
    .bind(&summary)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(stale(expected, version)),
        Err(e) => return Err(e.into()),
    }
    let before_json: Value = changes
        .iter()
        .map(|(c, b, _)| (c.to_string(), json!(b)))
        .collect::<serde_json::Map<String, Value>>()
        .into();
    let after_json: Value = changes
        .iter()
        .map(|(c, _, a)| (c.to_string(), json!(a)))
        .collect::<serde_json::Map<String, Value>>()
        .into();
    let label = if subject.is_empty() {
        codes.join(", ")
    } else {
        subject.to_string()
    };
    audit::record(
        &mut tx,
        actor,
        Change::new(kind.action(), "category_tree", Some(version))
            .label(&label)
            .before(json!({ "version": expected, "categories": before_json }))
            .after(json!({ "version": version, "categories": after_json })),
    )
    .await?;
    tx.commit().await?;
    remember(sid, version, &after);
    Ok(Stored {
        version,
        tree: after,
        updated_at: Some(now),
        updated_by: (actor.user_id != 0).then_some(actor.user_id),
    })
}

/// Rewrites the validation errors of the category at `index` to name its own fields
/// (`categories[3].name_zh` → `name_zh`), so a form for one category can show them by
/// field; errors of other categories keep their names, prefixed by the category's code.
pub fn localise_errors(e: Error, tree: &CategoryTree, index: usize) -> Error {
    let Error::Invalid(errors) = e else {
        return e;
    };
    let own = format!("categories[{index}].");
    Error::Invalid(
        errors
            .into_iter()
            .map(|f| {
                if let Some(rest) = f.field.strip_prefix(&own) {
                    return FieldError::new(rest, f.message);
                }
                let code = f
                    .field
                    .strip_prefix("categories[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| tree.categories.get(i))
                    .map(|c| c.code.clone());
                match code {
                    Some(code) => FieldError::new(
                        f.field.clone(),
                        Text::owned(
                            format!("{code}:{}", f.message.zh),
                            format!("{code}: {}", f.message.en),
                        ),
                    ),
                    None => f,
                }
            })
            .collect(),
    )
}

/// Adds a category (a child of `parent`, or a root) to the tree of `expected`.
pub async fn add(db: &Db, actor: &Actor, expected: i64, category: Category) -> Result<Stored> {
    require_admin(actor)?;
    let live = current(db, actor.subdistrict_id).await?;
    if live.version != expected {
        return Err(stale(expected, live.version));
    }
    let mut after = live.tree.clone();
    let code = category.code.clone();
    // A new child goes after its parent's last descendant, so the written order stays a tree.
    let at = match category.parent.as_deref() {
        Some(p) if after.get(p).is_some() => {
            let subtree: Vec<String> = after
                .categories
                .iter()
                .filter(|c| after.ancestors(&c.code).iter().any(|a| a.code == p))
                .map(|c| c.code.clone())
                .collect();
            after
                .categories
                .iter()
                .rposition(|c| subtree.contains(&c.code))
                .map_or(after.categories.len(), |i| i + 1)
        }
        _ => after.categories.len(),
    };
    after.categories.insert(at, category);
    let checked = check(&live.tree, &after);
    if let Err(e) = checked {
        return Err(localise_errors(e, &after, at));
    }
    save(db, actor, expected, after.clone(), ChangeKind::Add, &code)
        .await
        .map_err(|e| localise_errors(e, &after, at))
}

/// Replaces the category `code` (its code cannot change) in the tree of `expected`.
pub async fn update(
    db: &Db,
    actor: &Actor,
    expected: i64,
    code: &str,
    category: Category,
) -> Result<Stored> {
    require_admin(actor)?;
    let live = current(db, actor.subdistrict_id).await?;
    let index = live.tree.index_of(code).ok_or(Error::NotFound)?;
    if live.version != expected {
        return Err(stale(expected, live.version));
    }
    if category.code != code {
        return Err(Error::field(
            "code",
            Text::new("类别代码不能修改", "a category's code cannot be changed"),
        ));
    }
    let kind = match (live.tree.categories[index].retired, category.retired) {
        (false, true) => ChangeKind::Retire,
        (true, false) => ChangeKind::Restore,
        _ => ChangeKind::Update,
    };
    let mut after = live.tree.clone();
    after.categories[index] = category;
    save(db, actor, expected, after.clone(), kind, code)
        .await
        .map_err(|e| localise_errors(e, &after, index))
}

/// Retires (or, with `retired = false`, restores) the category `code`.
pub async fn set_retired(
    db: &Db,
    actor: &Actor,
    expected: i64,
    code: &str,
    retired: bool,
) -> Result<Stored> {
    require_admin(actor)?;
    let live = current(db, actor.subdistrict_id).await?;
    let mut c = live.tree.get(code).cloned().ok_or(Error::NotFound)?;
    c.retired = retired;
    update(db, actor, expected, code, c).await
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    api::routes()
}
