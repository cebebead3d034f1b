//! Reading the intake forms' `multipart/form-data` bodies: the text fields as pairs (in the
//! order sent, so repeated names survive) and the chosen photos. A file input left empty
//! sends a part without bytes, which is skipped.

use axum::extract::{FromRequest, Multipart, Request};

use super::rules::MAX_PHOTOS;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::map_rejection;
use crate::web::AppState;

/// One uploaded photo as it came.
#[derive(Debug, Clone)]
pub struct Photo {
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A posted intake form.
#[derive(Debug, Default)]
pub struct Posted {
    pub pairs: Vec<(String, String)>,
    pub photos: Vec<Photo>,
}

impl Posted {
    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, v)| k == name && !v.trim().is_empty())
    }
}

/// The field photos are posted under (the attachments' own).
pub use crate::cases::attachments::PHOTO_FIELD;

fn too_many() -> Error {
    Error::field(
        PHOTO_FIELD,
        Text::owned(
            format!("最多上传 {MAX_PHOTOS} 张照片"),
            format!("at most {MAX_PHOTOS} photos"),
        ),
    )
}

/// Reads the whole form; a form that is url-encoded (no photos) is read as well.
pub async fn read(req: Request, st: &AppState) -> Result<Posted> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let crate::web::errors::Form(pairs) =
            crate::web::errors::Form::<Vec<(String, String)>>::from_request(req, st).await?;
        return Ok(Posted {
            pairs,
            photos: Vec::new(),
        });
    }
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|rej| map_rejection(rej.status(), &rej.body_text()))?;
    let mut out = Posted::default();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(map_rejection(e.status(), &e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        if field.file_name().is_some() || name == PHOTO_FIELD {
            let file_name = field.file_name().unwrap_or("").to_string();
            let content_type = field.content_type().map(str::to_string);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| map_rejection(e.status(), &e.body_text()))?;
            if bytes.is_empty() {
                continue;
            }
            if out.photos.len() == MAX_PHOTOS {
                return Err(too_many());
            }
            out.photos.push(Photo {
                file_name,
                content_type,
                bytes: bytes.to_vec(),
            });
        } else {
            let value = field
                .text()
                .await
                .map_err(|e| map_rejection(e.status(), &e.body_text()))?;
            out.pairs.push((name, value));
        }
    }
    Ok(out)
}
