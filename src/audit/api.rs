//! The audit log over the API (subdistrict admins), and the filter parsing the audit page
//! shares with it.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, Entry, Filter};
use crate::access::{allows, Action, Actor, Target};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::Db;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

/// Only a subdistrict admin browses the audit log.
pub(crate) fn require_reader(actor: &Actor) -> Result<()> {
    if allows(actor, Action::ReadAudit, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The largest page.
pub(crate) const MAX_LIMIT: i64 = 500;
/// The page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: i64 = 50;

/// The filters as typed (query string or form): everything text, checked by [`parse`].
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub subject_type: Option<String>,
    #[serde(default)]
    pub subject_id: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn date_error(field: &str) -> FieldError {
    FieldError::new(
        field,
        Text::new(
            "日期格式应为 YYYY-MM-DD(上海时间)",
            "a date is written YYYY-MM-DD (Shanghai time)",
        ),
    )
}

impl RawFilter {
    /// Checks every field, naming each bad one.
    pub(crate) fn parse(&self) -> Result<Filter> {
        let mut errors = Vec::new();
        let mut int = |v: &Option<String>, field: &str, min: i64, max: i64| -> Option<i64> {
            let s = filled(v)?;
            match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        field,
                        if field == "limit" {
                            Text::new("条数应为1到500之间的数", "give a number from 1 to 500")
                        } else {
                            Text::new("请填写数字编号", "give a numeric id")
                        },
                    ));
                    None
                }
            }
        };
        let subject_id = int(&self.subject_id, "subject_id", i64::MIN, i64::MAX);
        let before = int(&self.before, "before", 1, i64::MAX);
        let limit = int(&self.limit, "limit", 1, MAX_LIMIT);
        let from = filled(&self.from);
        let to = filled(&self.to);
        let from_ms = from.map(|d| (d, crate::clock::parse_local_date(d)));
        let to_ms = to.map(|d| (d, crate::clock::parse_local_date(d)));
        if let Some((_, None)) = from_ms {
            errors.push(date_error("from"));
        }
        if let Some((_, None)) = to_ms {
            errors.push(date_error("to"));
        }
        if let (Some((_, Some(a))), Some((_, Some(b)))) = (from_ms, to_ms) {
            if a > b {
                errors.push(FieldError::new(
                    "to",
                    Text::new(
                        "截止日期不能早于开始日期",
                        "the end date is before the start date",
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(Filter {
            actor: filled(&self.actor).map(str::to_string),
            action: filled(&self.action).map(str::to_string),
            subject_type: filled(&self.subject_type).map(str::to_string),
            subject_id,
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            before,
            limit,
        })
    }

    /// The query string of these filters (without `before`), for paging links.
    pub(crate) fn query_without_before(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject_type", &self.subject_type),
            ("subject_id", &self.subject_id),
            ("from", &self.from),
            ("to", &self.to),
            ("limit", &self.limit),
        ] {
            if let Some(v) = filled(v) {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }
}

/// One page of entries, newest first, and the `before` of the next page when there is one.
pub(crate) async fn page(db: &Db, sid: i64, filter: &Filter) -> Result<(Vec<Entry>, Option<i64>)> {
    let want = filter.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    // Ask for one more to learn whether an older page exists.
    let mut f = filter.clone();
    f.limit = Some(want + 1);
    let mut entries = store::list(db, sid, &f).await?;
    let more = entries.len() as i64 > want || (want == MAX_LIMIT && entries.len() as i64 == want);
    entries.truncate(want as usize);
    let next = if more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok((entries, next))
}

async fn list(
    State(st): State<AppState>,
    actor: Actor,
    Query(raw): Query<RawFilter>,
) -> Result<axum::Json<Value>> {
    require_reader(&actor)?;
    let filter = raw.parse()?;
    let (entries, next) = page(&st.db, actor.subdistrict_id, &filter).await?;
    Ok(axum::Json(
        json!({ "entries": entries, "next_before": next }),
    ))
}
