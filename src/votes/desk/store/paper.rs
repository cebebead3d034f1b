//! Paper ballots: entered by one staff member with the proxy file, confirmed or rejected by another.

use super::*;

/// A paper or proxy ballot entered by staff, waiting for (or after) its second check.
#[derive(Debug, Clone, Serialize)]
pub struct Paper {
    pub id: i64,
    pub vote_id: i64,
    pub voter_key: String,
    pub choice: Choice,
    pub channel: String,
    pub proxy_holder: String,
    pub proxy_sha256: Option<String>,
    pub entered_by: i64,
    pub entered_by_name: String,
    pub entered_at: i64,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub ballot_seq: Option<i64>,
    pub note: String,
}

/// The paper entries of a vote (`pending` only, or all), oldest first.
pub async fn papers(db: &Db, sid: i64, vote_id: i64, pending_only: bool) -> Result<Vec<Paper>> {
    let rows = sqlx::query(
        "SELECT p.*, u.display_name FROM paper_ballots p \
         LEFT JOIN users u ON u.subdistrict_id = p.subdistrict_id AND u.id = p.entered_by \
         WHERE p.subdistrict_id = $1 AND p.vote_id = $2 AND ($3 = 0 OR p.status = 'pending') \
         ORDER BY p.entered_at, p.id",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(i64::from(pending_only))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Paper {
                id: r.get("id"),
                vote_id,
                voter_key: r.get("voter_key"),
                choice: serde_json::from_str(&r.get::<String, _>("choice"))
                    .map_err(|e| internal("choice", e))?,
                channel: r.get("channel"),
                proxy_holder: r.get("proxy_holder"),
                proxy_sha256: text(r, "proxy_sha256"),
                entered_by: r.get("entered_by"),
                entered_by_name: text(r, "display_name").unwrap_or_default(),
                entered_at: r.get("entered_at"),
                status: r.get("status"),
                decided_by: opt_i64(r, "decided_by"),
                decided_at: opt_i64(r, "decided_at"),
                ballot_seq: opt_i64(r, "ballot_seq"),
                note: r.get("note"),
            })
        })
        .collect()
}

/// A scanned written proxy as uploaded.
#[derive(Debug, Clone)]
pub struct ProxyFile {
    pub bytes: Vec<u8>,
}

/// The type of a scanned proxy from its first bytes: JPEG, PNG, WebP or PDF.
pub fn sniff_proxy(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(Error::field(
            "proxy_file",
            Text::new("授权委托书文件是空的", "the proxy file is empty"),
        ));
    }
    if bytes.len() > MAX_PROXY_BYTES {
        return Err(Error::field(
            "proxy_file",
            Text::new(
                "授权委托书文件不能超过 10 MB",
                "the proxy file must be at most 10 MiB",
            ),
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    match crate::cases::attachments::image::sniff(bytes) {
        Ok(k) => Ok(k.content_type()),
        Err(_) => Err(Error::field(
            "proxy_file",
            Text::new(
                "授权委托书请上传 JPEG、PNG、WebP 图片或 PDF",
                "upload the proxy as a JPEG, PNG or WebP image or a PDF",
            ),
        )),
    }
}

/// A paper ballot as staff type it in.
#[derive(Debug, Clone, Deserialize)]
pub struct NewPaper {
    pub voter_key: String,
    pub choice: Choice,
    /// For a written proxy: who holds it (the file is required then).
    #[serde(default)]
    pub proxy_holder: Option<String>,
}

/// Enters a paper ballot (or a proxy's, with its scanned authorisation) to wait for a second
/// staff user's check. Nothing enters the box yet.
pub async fn enter_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    p: NewPaper,
    proxy: Option<ProxyFile>,
    now: i64,
) -> Result<Paper> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let key = p.voter_key.trim().to_string();
    let castable = v
        .electorate
        .as_ref()
        .and_then(|e| e.voter(&key))
        .is_some_and(|x| x.castable());
    if !castable {
        return Err(Error::field(
            "voter_key",
            Text::new(
                "表决范围内没有这个业主",
                "no such owner in this vote's scope",
            ),
        ));
    }
    let choice = check_choice(&v.form, p.choice)?;
    let holder = p
        .proxy_holder
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let (channel, file) = match (holder.is_empty(), proxy) {
        (true, None) => ("paper", None),
        (false, Some(f)) => {
            let ct = sniff_proxy(&f.bytes)?;
            ("proxy", Some((chain::sha256_hex(&f.bytes), ct, f.bytes)))
        }
        (false, None) => {
            return Err(Error::field(
                "proxy_file",
                Text::new(
                    "委托投票须附书面授权委托书",
                    "a proxy ballot needs the written authorisation attached",
                ),
            ))
        }
        (true, Some(_)) => {
            return Err(Error::field(
                "proxy_holder",
                Text::new("请填写受托人姓名", "name the proxy holder"),
            ))
        }
    };
    if holder.chars().count() > 50 {
        return Err(Error::field(
            "proxy_holder",
            Text::new("姓名不超过 50 字", "at most 50 characters"),
        ));
    }
    if has_ballot(db, sid, v.id, &key).await? {
        return Err(already_voted());
    }
    let waiting = sqlx::query(
        "SELECT id FROM paper_ballots WHERE subdistrict_id = $1 AND vote_id = $2 AND voter_key = $3 \
         AND status = 'pending'",
    )
    .bind(sid)
    .bind(v.id)
    .bind(&key)
    .fetch_optional(db.write())
    .await?;
    if waiting.is_some() {
        return Err(Error::Conflict(Text::new(
            "该业主已有一张纸质选票等待复核",
            "a paper ballot of this owner is already waiting for its check",
        )));
    }
    let pid = next_id();
    let choice_json = serde_json::to_string(&choice).map_err(|e| internal("choice", e))?;
    let mut tx = db.begin().await?;
    if let Some((sha, ct, bytes)) = &file {
        let exists = sqlx::query(
            "SELECT sha256 FROM vote_proxy_files WHERE subdistrict_id = $1 AND vote_id = $2 AND sha256 = $3",
        )
        .bind(sid)
        .bind(v.id)
        .bind(sha)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO vote_proxy_files (subdistrict_id, vote_id, sha256, content_type, size, data, \
                 uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(sid)
            .bind(v.id)
            .bind(sha)
            .bind(*ct)
            .bind(bytes.len() as i64)
            .bind(bytes.clone())
            .bind(actor.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    let sha = file.as_ref().map(|f| f.0.clone());
    sqlx::query(
        "INSERT INTO paper_ballots (subdistrict_id, id, vote_id, voter_key, choice, channel, proxy_holder, \
         proxy_sha256, entered_by, entered_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
    )
    .bind(sid)
    .bind(pid)
    .bind(v.id)
    .bind(&key)
    .bind(&choice_json)
    .bind(channel)
    .bind(&holder)
    .bind(sha.as_deref())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.paper_enter", "vote", Some(v.id))
            .label(&v.title)
            .after(json!({
                "paper_ballot_id": pid, "channel": channel, "proxy_sha256": sha,
            })),
    )
    .await?;
    tx.commit().await?;
    papers(db, sid, v.id, false)
        .await?
        .into_iter()
        .find(|x| x.id == pid)
        .ok_or(Error::NotFound)
}

pub(super) async fn pending_paper(db: &Db, sid: i64, vote_id: i64, paper_id: i64) -> Result<Paper> {
    papers(db, sid, vote_id, true)
        .await?
        .into_iter()
        .find(|x| x.id == paper_id)
        .ok_or_else(|| {
            Error::Conflict(Text::new(
                "没有等待复核的这张纸质选票",
                "no such paper ballot waiting for its check",
            ))
        })
}

/// A second staff user checks a paper entry: it is sealed into the box (channel paper or
/// proxy, cast by the user who entered it, confirmed by this one).
pub async fn confirm_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    paper_id: i64,
    now: i64,
) -> Result<Receipt> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    let p = pending_paper(db, sid, v.id, paper_id).await?;
    if p.entered_by == actor.user_id {
        return Err(Error::Conflict(Text::new(
            "录入人不能复核自己录入的选票,请由另一名工作人员复核",
            "whoever entered a paper ballot cannot check it; another staff member must",
        )));
    }
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let channel = if p.channel == "proxy" {
        BallotChannel::Proxy
    } else {
        BallotChannel::Paper
    };
    let nb = NewBallot {
        vote_id: v.id,
        voter_key: p.voter_key.clone(),
        choice: p.choice.clone(),
        channel,
        cast_by: format!("user:{}", p.entered_by),
        confirmed_by: Some(format!("user:{}", actor.user_id)),
        proxy_attachment_sha256: p.proxy_sha256.clone(),
        cast_at_ms: now,
    };
    let aside = Aside {
        cast_user_id: None,
        entered_by: Some(p.entered_by),
        proxy_holder: p.proxy_holder.clone(),
        paper_id: Some(p.id),
    };
    let rec = seal(db, actor, &v, nb, aside, now).await?;
    Ok(chain::receipt(&rec))
}

/// Rejects a paper entry (a typing mistake, an invalid paper): it never enters the box.
pub async fn reject_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    paper_id: i64,
    note: &str,
    now: i64,
) -> Result<()> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    pending_paper(db, sid, v.id, paper_id).await?;
    let note: String = note.trim().chars().take(500).collect();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE paper_ballots SET status = 'rejected', decided_by = $3, decided_at = $4, note = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(sid)
    .bind(paper_id)
    .bind(actor.user_id)
    .bind(now)
    .bind(&note)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "这张纸质选票已被处理",
            "this paper ballot was handled meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.paper_reject", "vote", Some(v.id))
            .label(&v.title)
            .after(json!({ "paper_ballot_id": paper_id, "note": note })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The scanned proxy with this SHA-256 (staff and observers).
pub async fn proxy_file(db: &Db, actor: &Actor, id: i64, sha: &str) -> Result<(String, Vec<u8>)> {
    let (v, s) = readable(db, actor, id).await?;
    if !s.exports() {
        return Err(Error::Forbidden);
    }
    let r = sqlx::query(
        "SELECT content_type, data FROM vote_proxy_files WHERE subdistrict_id = $1 AND vote_id = $2 AND sha256 = $3",
    )
    .bind(actor.subdistrict_id)
    .bind(v.id)
    .bind(sha)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((r.get("content_type"), r.get("data")))
}
