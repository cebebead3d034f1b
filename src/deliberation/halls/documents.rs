//! The documents of a hall's policy publicity: files attached to a publicity item by staff
//! who run the hall, read by everyone who may read the hall. What a file is, is decided from
//! its bytes, not its name; a file is never changed or removed once published.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::rules::{Function, Op};
use super::store::{readable, Item};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::{next_id, Db};

/// The largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most files on one publicity item.
pub const MAX_PER_ITEM: i64 = 20;

/// A published file, without its bytes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Document {
    pub id: i64,
    pub item_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: i64,
}

fn field(zh: &'static str, en: &'static str) -> Error {
    Error::field("file", Text::new(zh, en))
}

/// The content type of a document, from its first bytes: PDF, JPEG, PNG, WebP, or an Office
/// file (DOCX, XLSX, PPTX — ZIP containers, told apart by the name's extension).
pub fn sniff(bytes: &[u8], file_name: &str) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(field("文件是空的", "the file is empty"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(field(
            "文件不能超过 10 MB",
            "the file must be at most 10 MiB",
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    if let Ok(k) = crate::cases::attachments::image::sniff(bytes) {
        return Ok(k.content_type());
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let lower = file_name.to_lowercase();
        for (ext, ty) in [
            (
                ".docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            (
                ".xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                ".pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ),
        ] {
            if lower.ends_with(ext) {
                return Ok(ty);
            }
        }
    }
    Err(field(
        "请上传 PDF、图片(JPEG、PNG、WebP)或 Word、Excel、PowerPoint 文件",
        "upload a PDF, an image (JPEG, PNG, WebP) or a Word, Excel or PowerPoint file",
    ))
}

/// A file name safe to store and to send back in a header: the last path segment, control
/// characters and quotes dropped, at most 120 characters; a name is required.
pub fn clean_name(name: &str) -> Result<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(field("请给文件一个名称", "give the file a name"));
    }
    Ok(cleaned)
}

/// Attaches a file to a publicity item (staff who run the hall, while it is open).
pub async fn add(
    db: &Db,
    actor: &Actor,
    hall_id: i64,
    item_id: i64,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Document> {
    let sid = actor.subdistrict_id;
    let (h, s) = readable(db, actor, hall_id).await?;
    if !super::rules::may(s, Op::Run) {
        return Err(Error::Forbidden);
    }
    let item = super::store::item(db, sid, hall_id, item_id).await?;
    if item.function != Function::Publicity.as_str() {
        return Err(Error::field(
            "item_id",
            Text::new(
                "只有政策宣传可以附文件",
                "only policy publicity items take documents",
            ),
        ));
    }
    if h.status != "open" {
        return Err(Error::Conflict(Text::new(
            "议事厅已结束,不能再变更",
            "the hall is closed and cannot change",
        )));
    }
    let file_name = clean_name(file_name)?;
    let content_type = sniff(&bytes, &file_name)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let now = crate::clock::now_ms();
    let id = next_id();
    let mut tx = db.begin().await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hall_documents WHERE subdistrict_id = $1 AND hall_id = $2 AND item_id = $3",
    )
    .bind(sid)
    .bind(hall_id)
    .bind(item_id)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_PER_ITEM {
        return Err(field(
            "这条宣传的文件已达上限(20 个)",
            "this publicity item has the most documents allowed (20)",
        ));
    }
    sqlx::query(
        "INSERT INTO hall_documents (subdistrict_id, id, hall_id, item_id, file_name, content_type, \
         size, sha256, bytes, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(id)
    .bind(hall_id)
    .bind(item_id)
    .bind(&file_name)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(&sha256)
    .bind(bytes.as_slice())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("hall.document", "hall", Some(hall_id))
            .label(&h.name)
            .after(serde_json::json!({
                "item_id": item_id, "document_id": id, "file_name": file_name,
                "content_type": content_type, "size": bytes.len(), "sha256": sha256,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Document {
        id,
        item_id,
        file_name,
        content_type: content_type.to_string(),
        size: bytes.len() as i64,
        sha256,
        uploaded_at: now,
    })
}

/// Every document of a hall, oldest first.
pub async fn of_hall(db: &Db, sid: i64, hall_id: i64) -> Result<Vec<Document>> {
    let rows = sqlx::query(
        "SELECT id, item_id, file_name, content_type, size, sha256, uploaded_at FROM hall_documents \
         WHERE subdistrict_id = $1 AND hall_id = $2 ORDER BY uploaded_at, id",
    )
    .bind(sid)
    .bind(hall_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Document {
            id: r.get("id"),
            item_id: r.get("item_id"),
            file_name: r.get("file_name"),
            content_type: r.get("content_type"),
            size: r.get("size"),
            sha256: r.get("sha256"),
            uploaded_at: r.get("uploaded_at"),
        })
        .collect())
}

/// Hangs each document on its item.
pub fn attach(items: &mut [Item], docs: Vec<Document>) {
    for d in docs {
        if let Some(i) = items.iter_mut().find(|i| i.id == d.item_id) {
            i.documents.push(d);
        }
    }
}

/// One document with its bytes, for whoever may read the hall.
pub async fn file(
    db: &Db,
    actor: &Actor,
    hall_id: i64,
    doc_id: i64,
) -> Result<(Document, Vec<u8>)> {
    let sid = actor.subdistrict_id;
    let (_, s) = readable(db, actor, hall_id).await?;
    if !super::rules::may(s, Op::Read) {
        return Err(Error::Forbidden);
    }
    let r = sqlx::query(
        "SELECT id, item_id, file_name, content_type, size, sha256, uploaded_at, bytes FROM hall_documents \
         WHERE subdistrict_id = $1 AND hall_id = $2 AND id = $3",
    )
    .bind(sid)
    .bind(hall_id)
    .bind(doc_id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((
        Document {
            id: r.get("id"),
            item_id: r.get("item_id"),
            file_name: r.get("file_name"),
            content_type: r.get("content_type"),
            size: r.get("size"),
            sha256: r.get("sha256"),
            uploaded_at: r.get("uploaded_at"),
        },
        r.get("bytes"),
    ))
}

/// The download: its type, a safe `Content-Disposition` (RFC 6266 with the UTF-8 name) and
/// `nosniff`. Images and PDFs open in the browser; Office files download.
pub fn response(d: &Document, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let inline = d.content_type.starts_with("image/") || d.content_type == "application/pdf";
    let ascii: String = d
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = d
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}",
        if inline { "inline" } else { "attachment" }
    );
    (
        [
            (header::CONTENT_TYPE, d.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_bytes_not_by_name() {
        assert_eq!(sniff(b"%PDF-1.7 ...", "x.docx").unwrap(), "application/pdf");
        assert!(sniff(b"PK\x03\x04....", "policy.docx")
            .unwrap()
            .contains("wordprocessingml"));
        assert!(sniff(b"PK\x03\x04....", "Fees.XLSX")
            .unwrap()
            .contains("spreadsheetml"));
        // A ZIP that claims nothing Office, and a script named like a PDF, are refused.
        assert!(sniff(b"PK\x03\x04....", "archive.zip").is_err());
        assert!(sniff(b"<script>alert(1)</script>", "policy.pdf").is_err());
        assert!(sniff(b"", "a.pdf").is_err());
        assert!(sniff(&vec![b'%'; MAX_BYTES + 1], "a.pdf").is_err());
    }

    #[test]
    fn names_lose_their_paths_and_quotes() {
        assert_eq!(
            clean_name("C:\\docs\\加梯政策.pdf").unwrap(),
            "加梯政策.pdf"
        );
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("a\"b\n.pdf").unwrap(), "ab.pdf");
        assert!(clean_name("  ").is_err());
        assert!(clean_name("dir/").is_err());
        assert!(clean_name("..").is_err());
        assert_eq!(clean_name(&"名".repeat(300)).unwrap().chars().count(), 120);
    }
}
