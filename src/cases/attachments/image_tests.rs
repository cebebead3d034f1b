//! Tests of the photo rules, with every input built here byte by byte.

use super::*;
use ::image::codecs::png::PngEncoder;
use ::image::codecs::webp::WebPEncoder;
use ::image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

/// A recognisable picture: left half red, right half blue.
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

fn plain_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&picture(w, h))
        .unwrap();
    out
}

fn png_rgba(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([0, 200, 0, 255])
        }
    });
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .encode(picture(w, h).as_raw(), w, h, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// The latitude a phone would write: 31° 9' 1234/100" N, bytes a test can look for.
const LAT: [u32; 6] = [31, 1, 9, 1, 1234, 100];

/// An EXIF block (big-endian TIFF): IFD0 with the orientation and a pointer to a GPS IFD
/// holding GPSLatitudeRef "N" and GPSLatitude.
fn exif_block(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = Vec::new();
    t.extend_from_slice(b"MM\0*");
    t.extend_from_slice(&8u32.to_be_bytes());
    // IFD0 at 8: two entries (2 + 2*12 + 4 = 30 bytes), so the GPS IFD starts at 38.
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&2u16.to_be_bytes());
    let o = orientation.to_be_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 38);
    // GPS IFD at 38: two entries (30 bytes), the rationals at 68.
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 68u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 68);
    for v in LAT {
        t.extend_from_slice(&v.to_be_bytes());
    }
    let mut block = b"Exif\0\0".to_vec();
    block.extend_from_slice(&t);
    block
}

/// A JPEG with an APP1 EXIF segment right after the start-of-image marker.
fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let plain = plain_jpeg(w, h);
    let block = exif_block(orientation);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((block.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&block);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The JPEG markers of a file up to the start of scan.
fn markers(jpeg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let m = jpeg[i + 1];
        out.push(m);
        if m == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    out
}

fn latitude_bytes() -> Vec<u8> {
    LAT.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn dims(jpeg: &[u8]) -> (u32, u32) {
    let img = ::image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
    (img.width(), img.height())
}

#[test]
fn the_test_photo_really_carries_gps_and_the_decoder_sees_it() {
    let photo = jpeg_with_exif(40, 20, 1);
    assert!(contains(&photo, b"Exif\0\0"));
    assert!(contains(&photo, &latitude_bytes()));
    assert!(markers(&photo).contains(&0xE1));
    let mut d = ::image::codecs::jpeg::JpegDecoder::new(Cursor::new(&photo)).unwrap();
    let exif = d.exif_metadata().unwrap().expect("exif is read");
    assert!(contains(&exif, &latitude_bytes()));
}

#[test]
fn a_photo_with_gps_comes_out_without_any_metadata() {
    let photo = jpeg_with_exif(40, 20, 1);
    let p = process(&photo).unwrap();
    assert_eq!(p.kind, Kind::Jpeg);
    for out in [&p.display, &p.thumb] {
        assert!(out.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
        assert!(!contains(out, b"Exif"), "no EXIF block");
        assert!(!contains(out, &latitude_bytes()), "no GPS data");
        let m = markers(out);
        assert!(!m.contains(&0xE1), "no APP1 segment: {m:x?}");
        assert!(
            !m.iter().any(|m| (0xE2..=0xEF).contains(m)),
            "no APPn but JFIF: {m:x?}"
        );
    }
    assert_eq!(p.sha256, sha256_hex(&photo));
}

#[test]
fn the_exif_orientation_turns_the_photo_upright() {
    // Orientation 6: the camera was turned; the upright picture is 20 wide and 40 high.
    let p = process(&jpeg_with_exif(40, 20, 6)).unwrap();
    assert_eq!((p.width, p.height), (20, 40));
    assert_eq!(dims(&p.display), (20, 40));
    // Red was on the left; turned 90° clockwise it is at the top.
    let img = ::image::load_from_memory(&p.display).unwrap().to_rgb8();
    let top = img.get_pixel(10, 3);
    let bottom = img.get_pixel(10, 36);
    assert!(top[0] > 150 && top[2] < 100, "top is red: {top:?}");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom is blue: {bottom:?}"
    );
    let p = process(&jpeg_with_exif(40, 20, 1)).unwrap();
    assert_eq!((p.width, p.height), (40, 20));
}

#[test]
fn large_photos_are_scaled_to_display_and_thumbnail_sizes() {
    let p = process(&plain_jpeg(4000, 3000)).unwrap();
    assert_eq!((p.width, p.height), (4000, 3000));
    assert_eq!(dims(&p.display), (1600, 1200));
    assert_eq!(dims(&p.thumb), (320, 240));
    let p = process(&plain_jpeg(900, 3000)).unwrap();
    assert_eq!(dims(&p.display), (480, 1600));
    assert_eq!(dims(&p.thumb), (96, 320));
}

#[test]
fn small_photos_are_never_enlarged() {
    let p = process(&plain_jpeg(100, 50)).unwrap();
    assert_eq!(dims(&p.display), (100, 50));
    assert_eq!(dims(&p.thumb), (100, 50));
}

#[test]
fn fit_keeps_the_aspect_and_never_enlarges() {
    assert_eq!(fit(4000, 3000, 1600), (1600, 1200));
    assert_eq!(fit(3000, 4000, 1600), (1200, 1600));
    assert_eq!(fit(1600, 10, 320), (320, 2));
    assert_eq!(fit(10_000, 1, 320), (320, 1));
    assert_eq!(fit(1600, 1600, 1600), (1600, 1600));
    assert_eq!(fit(5, 7, 320), (5, 7));
    assert_eq!(fit(0, 0, 320), (0, 0));
}

#[test]
fn png_and_webp_are_accepted_and_become_jpeg() {
    let p = process(&png_rgba(64, 32)).unwrap();
    assert_eq!(p.kind, Kind::Png);
    assert!(p.display.starts_with(&[0xFF, 0xD8]));
    // The transparent half is laid on white, not black.
    let img = ::image::load_from_memory(&p.display).unwrap().to_rgb8();
    let px = img.get_pixel(5, 16);
    assert!(px[0] > 240 && px[1] > 240 && px[2] > 240, "{px:?}");
    let p = process(&webp(64, 32)).unwrap();
    assert_eq!(p.kind, Kind::WebP);
    assert_eq!(dims(&p.display), (64, 32));
    assert_eq!(p.kind.content_type(), "image/webp");
    assert_eq!(Kind::from_content_type("image/png"), Some(Kind::Png));
    assert_eq!(Kind::from_content_type("image/gif"), None);
}

#[test]
fn the_type_comes_from_the_bytes() {
    assert_eq!(sniff(&plain_jpeg(8, 8)), Ok(Kind::Jpeg));
    assert_eq!(sniff(&png_rgba(8, 8)), Ok(Kind::Png));
    assert_eq!(sniff(&webp(8, 8)), Ok(Kind::WebP));
    let refused = |bytes: &[u8]| match sniff(bytes) {
        Err(Refusal::Unsupported { name }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(b"GIF89a\x01\0\x01\0\0\0\0;"), "GIF");
    assert_eq!(refused(b"GIF87a\x01\0\x01\0"), "GIF");
    assert_eq!(
        refused(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        "SVG"
    );
    assert_eq!(
        refused(b"\xEF\xBB\xBF  \n<?xml version=\"1.0\"?><svg/>"),
        "SVG"
    );
    assert_eq!(refused(b"<!DOCTYPE svg PUBLIC><svg/>"), "SVG");
    assert_eq!(refused(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), "HEIC");
    assert_eq!(refused(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"), "HEIC");
    assert_eq!(refused(b"\0\0\0\x1cftypavif\0\0\0\0"), "AVIF");
    assert_eq!(refused(b"\0\0\0\x20ftypisom\0\0\0\0"), "MP4/MOV");
    assert_eq!(refused(b"BM\x36\0\0\0\0\0"), "BMP");
    assert_eq!(refused(b"II*\0\x08\0\0\0"), "TIFF");
    assert_eq!(refused(b"%PDF-1.7\n"), "PDF");
    assert_eq!(sniff(b"hello, world"), Err(Refusal::NotAnImage));
    assert_eq!(sniff(b"<html><body>"), Err(Refusal::NotAnImage));
    assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Err(Refusal::NotAnImage));
    assert_eq!(sniff(b"\xFF\xD8"), Err(Refusal::NotAnImage));
    assert_eq!(sniff(b""), Err(Refusal::Empty));
    assert_eq!(
        process(b"GIF89a\x01\0\x01\0\0\0\0;"),
        Err(Refusal::Unsupported { name: "GIF" })
    );
}

#[test]
fn every_refusal_says_why_in_both_languages() {
    let all = [
        Refusal::NoPhoto,
        Refusal::TooMany { count: 12 },
        Refusal::Empty,
        Refusal::TooLarge {
            bytes: 12 * 1024 * 1024,
        },
        Refusal::Unsupported { name: "HEIC" },
        Refusal::Unsupported { name: "GIF" },
        Refusal::NotAnImage,
        Refusal::TooManyPixels {
            width: 30_000,
            height: 30_000,
        },
        Refusal::Corrupt,
    ];
    for r in all {
        let t = r.text();
        assert!(!t.zh.is_empty() && !t.en.is_empty(), "{r:?}");
        assert!(!t.zh.is_ascii(), "{r:?} zh: {}", t.zh);
    }
    assert!(Refusal::Unsupported { name: "GIF" }
        .text()
        .en
        .contains("GIF"));
    assert!(Refusal::TooLarge {
        bytes: 12 * 1024 * 1024
    }
    .text()
    .en
    .contains("12.0 MiB"));
    assert!(Refusal::TooManyPixels {
        width: 30_000,
        height: 30_000
    }
    .text()
    .zh
    .contains("30000×30000"));
}

#[test]
fn sizes_and_counts_are_limited() {
    let mut big = plain_jpeg(16, 16);
    big.resize(MAX_BYTES + 1, 0);
    assert_eq!(
        process(&big),
        Err(Refusal::TooLarge {
            bytes: MAX_BYTES + 1
        })
    );
    assert_eq!(process(&[]), Err(Refusal::Empty));
    assert_eq!(check_count(0), Err(Refusal::NoPhoto));
    assert_eq!(check_count(1), Ok(()));
    assert_eq!(check_count(MAX_PER_UPLOAD), Ok(()));
    assert_eq!(
        check_count(MAX_PER_UPLOAD + 1),
        Err(Refusal::TooMany { count: 10 })
    );
    // Just at the limit is fine (trailing bytes after the image are ignored by decoders).
    let mut at_limit = plain_jpeg(16, 16);
    at_limit.resize(MAX_BYTES, 0);
    assert!(process(&at_limit).is_ok());
}

#[test]
fn corrupt_files_are_refused_not_panicking() {
    assert_eq!(
        process(b"\xFF\xD8\xFF\xE0 this is not really a jpeg at all"),
        Err(Refusal::Corrupt)
    );
    assert_eq!(
        process(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRbroken"),
        Err(Refusal::Corrupt)
    );
    assert_eq!(
        process(b"RIFF\x10\0\0\0WEBPVP8 junk"),
        Err(Refusal::Corrupt)
    );
    // Cut short, and with bytes flipped all over: refused or read, never a panic.
    let good = jpeg_with_exif(64, 48, 6);
    for cut in [3, 10, 40, good.len() / 2, good.len() - 2] {
        let _ = process(&good[..cut]);
    }
    let mut state: u32 = 0x1234_5678;
    for png in [false, true] {
        let base = if png { png_rgba(32, 32) } else { good.clone() };
        for _ in 0..200 {
            let mut b = base.clone();
            for _ in 0..8 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let i = (state as usize >> 8) % b.len();
                b[i] ^= (state >> 24) as u8 | 1;
            }
            let _ = process(&b);
        }
    }
}

/// A small JPEG whose frame header claims `w` × `h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut b = plain_jpeg(16, 16);
    let sof = b
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("baseline frame header");
    b[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    b
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header claims `w` × `h` (with a correct checksum).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = png_rgba(16, 16);
    // Signature (8), length (4), "IHDR" at 12, data at 16..29, CRC at 29..33.
    assert_eq!(&b[12..16], b"IHDR");
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let bomb = jpeg_claiming(30_000, 30_000);
    assert!(bomb.len() < 2_000);
    assert_eq!(
        process(&bomb),
        Err(Refusal::TooManyPixels {
            width: 30_000,
            height: 30_000
        })
    );
    assert_eq!(
        process(&png_claiming(30_000, 30_000)),
        Err(Refusal::TooManyPixels {
            width: 30_000,
            height: 30_000
        })
    );
    // Within each side's limit but too many pixels all together.
    assert_eq!(
        process(&png_claiming(10_000, 10_000)),
        Err(Refusal::TooManyPixels {
            width: 10_000,
            height: 10_000
        })
    );
    assert_eq!(
        process(&png_claiming(12_001, 10)),
        Err(Refusal::TooManyPixels {
            width: 12_001,
            height: 10
        })
    );
    // A header that is honest about its size passes that check.
    assert!(process(&png_claiming(16, 16)).is_ok());
}

#[test]
fn the_same_bytes_have_the_same_digest() {
    let a = plain_jpeg(10, 10);
    assert_eq!(process(&a).unwrap().sha256, process(&a).unwrap().sha256);
    assert_ne!(sha256_hex(&a), sha256_hex(&plain_jpeg(11, 10)));
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
