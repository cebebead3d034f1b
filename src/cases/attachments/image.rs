//! Photos made safe to keep and to show. Pure: bytes in, bytes out — no clock, database or
//! network.
//!
//! The type is sniffed from the bytes (JPEG, PNG or WebP; everything else is refused with the
//! reason), never from a file name or a `Content-Type`. The header's dimensions are checked
//! before a pixel is decoded, so a small file claiming 30000×30000 pixels (a decompression
//! bomb) costs nothing. The photo is then decoded, turned upright by its EXIF orientation,
//! scaled to a display version (long side 1600 px) and a thumbnail (long side 320 px), and
//! both are encoded afresh as JPEG: the encoder writes pixels only, so EXIF, GPS, XMP and
//! every other piece of metadata of the upload are gone from what the public sees.

use std::io::Cursor;

use ::image::codecs::jpeg::JpegEncoder;
use ::image::imageops::FilterType;
use ::image::metadata::Orientation;
use ::image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

use crate::i18n::Text;

/// Largest photo accepted, in bytes (10 MiB).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most photos in one upload.
pub const MAX_PER_UPLOAD: usize = 9;
/// Long side of the display version, in pixels.
pub const DISPLAY_SIDE: u32 = 1600;
/// Long side of the thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
/// Longest side a photo may claim (phone cameras stay well below).
pub const MAX_SIDE: u32 = 12_000;
/// Most pixels a photo may claim (a 108-megapixel sensor's binned output is 12 MP).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Most memory the decoder may ask for (four bytes per pixel at the pixel limit, and slack).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
const DISPLAY_QUALITY: u8 = 82;
const THUMB_QUALITY: u8 = 75;

/// The photo types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    /// The MIME type the bytes are served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::WebP => "image/webp",
        }
    }

    /// The kind stored under a MIME type (what [`Kind::content_type`] gave).
    pub fn from_content_type(s: &str) -> Option<Kind> {
        match s {
            "image/jpeg" => Some(Kind::Jpeg),
            "image/png" => Some(Kind::Png),
            "image/webp" => Some(Kind::WebP),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::WebP => ImageFormat::WebP,
        }
    }
}

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No photo was sent.
    NoPhoto,
    /// More photos than [`MAX_PER_UPLOAD`] in one upload.
    TooMany { count: usize },
    /// An empty file.
    Empty,
    /// Larger than [`MAX_BYTES`].
    TooLarge { bytes: usize },
    /// A known image type that is not accepted (GIF, SVG, HEIC, …), by name.
    Unsupported { name: &'static str },
    /// Not an image type recognised at all.
    NotAnImage,
    /// The header claims more pixels than allowed.
    TooManyPixels { width: u32, height: u32 },
    /// The bytes are damaged, truncated or a variant the decoder cannot read.
    Corrupt,
}

fn mib(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

impl Refusal {
    /// The reason in both languages, for the `photo` field.
    pub fn text(&self) -> Text {
        match self {
            Refusal::NoPhoto => Text::new("请选择要上传的照片", "choose a photo to upload"),
            Refusal::TooMany { count } => Text::owned(
                format!("一次最多上传 {MAX_PER_UPLOAD} 张照片(选择了 {count} 张)"),
                format!("at most {MAX_PER_UPLOAD} photos at a time ({count} chosen)"),
            ),
            Refusal::Empty => Text::new("文件是空的", "the file is empty"),
            Refusal::TooLarge { bytes } => Text::owned(
                format!("每张照片不能超过 10 MB(这张有 {} MB)", mib(*bytes)),
                format!("each photo must be at most 10 MiB (this one is {} MiB)", mib(*bytes)),
            ),
            Refusal::Unsupported { name: "HEIC" } => Text::new(
                "不支持 HEIC/HEIF 格式,请上传 JPEG、PNG 或 WebP 照片(苹果手机可在“设置 › 相机 › 格式”中选择“兼容性最佳”)",
                "HEIC/HEIF images are not accepted; upload a JPEG, PNG or WebP photo (on an iPhone: Settings › Camera › Formats › Most Compatible)",
            ),
            Refusal::Unsupported { name } => Text::owned(
                format!("不支持 {name} 格式,请上传 JPEG、PNG 或 WebP 照片"),
                format!("{name} files are not accepted; upload a JPEG, PNG or WebP photo"),
            ),
            Refusal::NotAnImage => Text::new(
                "这不是可识别的图片,请上传 JPEG、PNG 或 WebP 照片",
                "this is not a recognised image; upload a JPEG, PNG or WebP photo",
            ),
            Refusal::TooManyPixels { width, height } => Text::owned(
                format!(
                    "图片尺寸过大({width}×{height} 像素);边长最多 {MAX_SIDE} 像素,总共最多 5000 万像素"
                ),
                format!(
                    "the image is too large ({width}×{height} pixels); at most {MAX_SIDE} pixels a side and 50 megapixels"
                ),
            ),
            Refusal::Corrupt => Text::new(
                "图片已损坏或不完整,无法读取",
                "the image is damaged or incomplete and cannot be read",
            ),
        }
    }
}

/// Checks how many photos an upload carries: one to [`MAX_PER_UPLOAD`].
pub fn check_count(count: usize) -> Result<(), Refusal> {
    match count {
        0 => Err(Refusal::NoPhoto),
        n if n > MAX_PER_UPLOAD => Err(Refusal::TooMany { count: n }),
        _ => Ok(()),
    }
}

/// The type of a file from its first bytes: an accepted [`Kind`], or why not.
pub fn sniff(bytes: &[u8]) -> Result<Kind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let at = |range: std::ops::Range<usize>| bytes.get(range).unwrap_or(&[]);
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Kind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Kind::Png);
    }
    if at(0..4) == b"RIFF" && at(8..12) == b"WEBP" {
        return Ok(Kind::WebP);
    }
    let unsupported = |name| Err(Refusal::Unsupported { name });
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return unsupported("GIF");
    }
    if at(4..8) == b"ftyp" {
        return match at(8..12) {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                unsupported("HEIC")
            }
            b"avif" | b"avis" => unsupported("AVIF"),
            _ => unsupported("MP4/MOV"),
        };
    }
    if bytes.starts_with(b"BM") {
        return unsupported("BMP");
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return unsupported("TIFF");
    }
    if bytes.starts_with(b"%PDF") {
        return unsupported("PDF");
    }
    // SVG is text: skip a byte-order mark and white space, then look for the markup.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let head: Vec<u8> = text[start..]
        .iter()
        .take(256)
        .map(u8::to_ascii_lowercase)
        .collect();
    if head.starts_with(b"<svg") || head.starts_with(b"<?xml") || head.starts_with(b"<!doctype svg")
    {
        return unsupported("SVG");
    }
    Err(Refusal::NotAnImage)
}

/// A photo checked and converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The type of the upload (the original is kept as it came).
    pub kind: Kind,
    /// The photo's size upright, in pixels.
    pub width: u32,
    pub height: u32,
    /// JPEG, long side at most [`DISPLAY_SIDE`], no metadata.
    pub display: Vec<u8>,
    /// JPEG, long side at most [`THUMB_SIDE`], no metadata.
    pub thumb: Vec<u8>,
    /// SHA-256 of the upload, lowercase hex: the same bytes are the same attachment.
    pub sha256: String,
}

/// SHA-256 of some bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The size of `(width, height)` scaled to fit a square of `side`, never enlarged; each side
/// at least one pixel.
pub fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= side || long == 0 {
        return (width, height);
    }
    let scale = |v: u32| {
        ((u64::from(v) * u64::from(side) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    (scale(width), scale(height))
}

/// Checks, decodes and converts one photo (see the module documentation).
pub fn process(bytes: &[u8]) -> Result<Processed, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(Refusal::TooLarge { bytes: bytes.len() });
    }
    let kind = sniff(bytes)?;
    // Decoders are meant never to panic on bad input; should one still do, the upload is
    // refused like any other damaged file rather than taking the request down.
    let img = std::panic::catch_unwind(|| decode(bytes, kind)).map_err(|_| Refusal::Corrupt)??;
    let (width, height) = (img.width(), img.height());
    let display = shrink(&img, DISPLAY_SIDE, FilterType::Triangle);
    let thumb = shrink(&display, THUMB_SIDE, FilterType::Triangle);
    Ok(Processed {
        kind,
        width,
        height,
        display: jpeg(&display, DISPLAY_QUALITY)?,
        thumb: jpeg(&thumb, THUMB_QUALITY)?,
        sha256: sha256_hex(bytes),
    })
}

fn limits(max_side: Option<u32>) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = max_side;
    l.max_image_height = max_side;
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn decoding_refusal(e: ImageError) -> Refusal {
    match e {
        ImageError::Limits(_) => Refusal::TooManyPixels {
            width: 0,
            height: 0,
        },
        _ => Refusal::Corrupt,
    }
}

/// Reads the header, checks the dimensions, then decodes and turns the image upright.
fn decode(bytes: &[u8], kind: Kind) -> Result<DynamicImage, Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    // The header alone first (no side limit yet, so the refusal can name the size).
    reader.limits(limits(None));
    let mut decoder = reader.into_decoder().map_err(decoding_refusal)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(Refusal::Corrupt);
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels { width, height });
    }
    decoder
        .set_limits(limits(Some(MAX_SIDE)))
        .map_err(decoding_refusal)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decoding_refusal)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The image scaled to fit `side`, or itself when it already fits.
fn shrink(img: &DynamicImage, side: u32, filter: FilterType) -> DynamicImage {
    let (w, h) = fit(img.width(), img.height(), side);
    if (w, h) == (img.width(), img.height()) {
        return img.clone();
    }
    img.resize_exact(w, h, filter)
}

/// Eight-bit RGB, transparent parts laid on white (JPEG has no transparency).
fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src[3]);
        for c in 0..3 {
            dst[c] = ((u32::from(src[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

/// Encodes as baseline JPEG: pixels only, no metadata.
fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let rgb = flatten(img);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|_| Refusal::Corrupt)?;
    Ok(out)
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
