//! Closing, publishing, cancelling and exporting a vote.

use super::*;

/// Closes the box after the period and stores the final tally. Refused while paper ballots
/// wait for their check, or before `closes_at` (a vote is not cut short).
pub async fn close(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "open" {
        return Err(Error::Conflict(Text::new(
            "只有表决中的投票可以计票",
            "only an open vote can be closed",
        )));
    }
    if now < v.closes_at {
        return Err(Error::Conflict(Text::owned(
            format!(
                "投票期至 {}(北京时间)截止,截止后才能计票",
                format_local(v.closes_at)
            ),
            format!(
                "the voting period runs to {} (Shanghai time); the count comes after it",
                format_local(v.closes_at)
            ),
        )));
    }
    let pending = papers(db, sid, v.id, true).await?.len();
    if pending > 0 {
        return Err(Error::Conflict(Text::owned(
            format!("还有 {pending} 张纸质选票等待复核,请先复核或退回"),
            format!(
                "{pending} paper ballots are waiting for their check; confirm or reject them first"
            ),
        )));
    }
    let box_ = ballots(db, sid, v.id).await?;
    let header = v
        .chain_header()
        .ok_or_else(|| internal("vote", "no header"))?;
    if let Err(b) = chain::verify_chain(&header, &box_) {
        return Err(internal("ballot chain broken", b));
    }
    let t = count(&v, &box_).ok_or_else(|| internal("vote", "no electorate"))?;
    let result = serde_json::to_string(&t).map_err(|e| internal("result", e))?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'closed', result = $3, closed_by = $4, closed_at = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(sid)
    .bind(id)
    .bind(&result)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人结束",
            "the vote was closed meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.close", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": "open" }))
            .after(json!({
                "status": "closed", "ballots": box_.len(), "head": header_head(&header, &box_),
                "outcome": t.outcome, "summary": t.summary().en,
            })),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

pub(super) fn header_head(h: &ChainHeader, b: &[BallotRecord]) -> String {
    chain::head(h, b)
}

/// Publishes the counted result as a notice for `publicity_days`.
pub async fn publish(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "closed" {
        return Err(Error::Conflict(Text::new(
            "只有已计票的表决可以公示",
            "only a counted vote can be published",
        )));
    }
    let until = now.saturating_add(v.publicity_days.saturating_mul(DAY_MS));
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'published', published_by = $3, published_at = $4, publicity_until = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'closed'",
    )
    .bind(sid)
    .bind(id)
    .bind(actor.user_id)
    .bind(now)
    .bind(until)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人公示",
            "the vote was published meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.publish", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": "closed" }))
            .after(json!({ "status": "published", "publicity_until": until })),
    )
    .await?;
    if let Some(e) = &v.electorate {
        let outcome = v.result.as_ref().map(|t| t.summary());
        let notice = crate::notify::Notice {
            kind: "vote.published".into(),
            case_id: None,
            title_zh: format!("表决结果公示:{}", v.title),
            title_en: format!("Vote result published: {}", v.title),
            body_zh: outcome
                .as_ref()
                .map(|t| t.zh.to_string())
                .unwrap_or_default(),
            body_en: outcome
                .as_ref()
                .map(|t| t.en.to_string())
                .unwrap_or_default(),
            link: format!("/votes/{id}/notice"),
        };
        tell_voters(&mut tx, sid, e, &notice, now).await?;
        crate::notify::notify_unit(&mut tx, sid, v.scope_node_id, &notice).await?;
    }
    tx.commit().await?;
    vote(db, sid, id).await
}

/// Cancels a draft or an open vote, with a reason (its ballots stay in the box, uncounted).
pub async fn cancel(db: &Db, actor: &Actor, id: i64, reason: &str, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::field(
            "reason",
            Text::new("请填写取消原因", "give the reason for cancelling"),
        ));
    }
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'cancelled', cancelled_at = $3 \
         WHERE subdistrict_id = $1 AND id = $2 AND status IN ('draft', 'open')",
    )
    .bind(sid)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "只有草稿或表决中的投票可以取消",
            "only a draft or open vote can be cancelled",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.cancel", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": v.status }))
            .after(json!({ "status": "cancelled" }))
            .reason(reason),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// The export document (`redbutler-vote-export/1`) of an opened vote: staff and observers.
/// `published_result` is `serde_json::to_value(&Tally)` of the final tally (null before close).
pub async fn export(db: &Db, actor: &Actor, id: i64) -> Result<Export> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    if !s.exports() {
        return Err(Error::Forbidden);
    }
    let (Some(e), Some(header)) = (&v.electorate, v.chain_header()) else {
        return Err(Error::Conflict(Text::new(
            "表决尚未开启,没有可导出的票箱",
            "the vote has not opened; there is no box to export",
        )));
    };
    let box_ = ballots(db, sid, v.id).await?;
    let code = tree::subdistricts(db)
        .await?
        .into_iter()
        .find(|x| x.id == sid)
        .map(|x| x.code)
        .unwrap_or_default();
    let result = match &v.result {
        Some(t) => serde_json::to_value(t).map_err(|x| internal("result", x))?,
        None => Value::Null,
    };
    Ok(Export {
        format: export::FORMAT.to_string(),
        head_hash: chain::head(&header, &box_),
        header: ExportHeader {
            vote_id: v.id,
            subdistrict_code: code,
            title: v.title.clone(),
            matter: v.matter,
            form: serde_json::to_value(v.form).map_err(|x| internal("form", x))?,
            thresholds: serde_json::to_value(v.thresholds)
                .map_err(|x| internal("thresholds", x))?,
            thresholds_canonical: v.thresholds_canonical.clone(),
            scope: json!({ "node_id": v.scope_node_id, "kind": v.scope_kind, "name": v.scope_name, "path": v.scope_path }),
            record_date: v.record_date.clone(),
            period_start_ms: v.opens_at,
            period_end_ms: v.closes_at,
            electorate_digest: header.electorate_digest.clone(),
            published_result: result,
        },
        electorate: e
            .voters
            .iter()
            .map(|x| export::Voter {
                key: x.key.clone(),
                area: x.area,
                rooms: x
                    .rooms
                    .iter()
                    .map(|&(room_id, area)| VoterRoom { room_id, area })
                    .collect(),
            })
            .collect(),
        ballots: box_,
    })
}
