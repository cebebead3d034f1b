//! The measures as an XLSX workbook: a sheet of totals (each measure with its numerator and
//! denominator), a sheet with one row per grid, and a sheet of the monthly series. Rates are
//! written as numbers rounded to one decimal of a percent (formatted `0.0%`), so a sheet
//! shows what the page shows; a zero denominator leaves the cell empty.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::facts::{Facts, Measure, ALL_MEASURES};
use super::store::GridInfo;
use crate::error::{Error, Result};
use crate::i18n::Lang;

/// What the export is about, already in words.
pub struct About {
    pub scope: String,
    pub period: String,
    pub category: String,
    pub owner_unit: String,
}

fn x(e: XlsxError) -> Error {
    Error::Internal(anyhow::anyhow!("writing XLSX: {e}"))
}

fn write_value(ws: &mut Worksheet, row: u32, col: u16, m: &Measure) -> Result<()> {
    let pct = Format::new().set_num_format("0.0%");
    let hours = Format::new().set_num_format("0.0");
    if let Some(t) = m.tenths() {
        if m.kind.is_rate() {
            ws.write_number_with_format(row, col, t as f64 / 1000.0, &pct)
                .map_err(x)?;
        } else {
            ws.write_number_with_format(row, col, t as f64 / 10.0, &hours)
                .map_err(x)?;
        }
    }
    Ok(())
}

fn header(ws: &mut Worksheet, row: u32, cells: &[String]) -> Result<()> {
    let bold = Format::new().set_bold();
    for (c, h) in cells.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, h, &bold)
            .map_err(x)?;
    }
    Ok(())
}

fn measure_heads(lang: Lang) -> Vec<String> {
    ALL_MEASURES
        .iter()
        .map(|m| {
            let l = m.label();
            if m.is_rate() {
                l.get(lang).to_string()
            } else {
                format!("{} ({})", l.get(lang), lang.pick("小时", "hours"))
            }
        })
        .collect()
}

pub fn workbook(
    lang: Lang,
    about: &About,
    totals: &Facts,
    grids: &[(GridInfo, Facts)],
    months: &[(i64, Facts)],
) -> Result<Vec<u8>> {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en).to_string();
    let mut wb = Workbook::new();

    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("总计", "Totals")).map_err(x)?;
    ws.set_column_width(0, 22.0).map_err(x)?;
    ws.set_column_width(1, 14.0).map_err(x)?;
    ws.set_column_width(2, 14.0).map_err(x)?;
    ws.set_column_width(3, 12.0).map_err(x)?;
    ws.set_column_width(4, 44.0).map_err(x)?;
    let info = [
        (t("范围", "Scope"), &about.scope),
        (
            t("时间段(按反映日期)", "Period (by report day)"),
            &about.period,
        ),
        (t("类别", "Category"), &about.category),
        (t("承办单位", "Owning unit"), &about.owner_unit),
    ];
    for (i, (k, v)) in info.iter().enumerate() {
        header(ws, i as u32, std::slice::from_ref(k))?;
        ws.write_string(i as u32, 1, v.as_str()).map_err(x)?;
    }
    let top = info.len() as u32 + 1;
    header(
        ws,
        top,
        &[
            t("指标", "Measure"),
            t("分子", "Numerator"),
            t("分母", "Denominator"),
            t("值", "Value"),
            t("口径", "Definition"),
        ],
    )?;
    for (i, m) in totals.measures().iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write_string(row, 0, m.kind.label().get(lang))
            .map_err(x)?;
        ws.write_number(row, 1, m.ratio.numerator as f64)
            .map_err(x)?;
        ws.write_number(row, 2, m.ratio.denominator as f64)
            .map_err(x)?;
        write_value(ws, row, 3, m)?;
        ws.write_string(row, 4, m.kind.definition().get(lang))
            .map_err(x)?;
    }
    let row = top + 2 + ALL_MEASURES.len() as u32;
    header(ws, row, &[t("反映事项数", "Cases reported")])?;
    ws.write_number(row, 1, totals.reported as f64).map_err(x)?;

    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("网格", "Grids")).map_err(x)?;
    let mut heads = vec![
        t("居民区/村", "Community / village"),
        t("网格", "Grid"),
        t("反映事项数", "Cases reported"),
    ];
    heads.extend(measure_heads(lang));
    header(ws, 0, &heads)?;
    ws.set_column_width(0, 16.0).map_err(x)?;
    ws.set_column_width(1, 16.0).map_err(x)?;
    ws.set_freeze_panes(1, 2).map_err(x)?;
    for (i, (g, f)) in grids.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &g.parent_name).map_err(x)?;
        ws.write_string(row, 1, &g.name).map_err(x)?;
        ws.write_number(row, 2, f.reported as f64).map_err(x)?;
        for (c, m) in f.measures().iter().enumerate() {
            write_value(ws, row, 3 + c as u16, m)?;
        }
    }

    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("月度", "Monthly")).map_err(x)?;
    let mut heads = vec![t("月份", "Month"), t("反映事项数", "Cases reported")];
    heads.extend(measure_heads(lang));
    header(ws, 0, &heads)?;
    ws.set_freeze_panes(1, 1).map_err(x)?;
    for (i, (month, f)) in months.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, format!("{:04}-{:02}", month / 100, month % 100))
            .map_err(x)?;
        ws.write_number(row, 1, f.reported as f64).map_err(x)?;
        for (c, m) in f.measures().iter().enumerate() {
            write_value(ws, row, 2 + c as u16, m)?;
        }
    }
    wb.save_to_buffer().map_err(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_has_three_sheets_and_reads_back() {
        use calamine::{open_workbook_from_rs, Reader, Xlsx};
        let f = Facts {
            reported: 4,
            dispatched: 3,
            responded_on_time: 2,
            ..Facts::default()
        };
        let g = GridInfo {
            id: 5,
            name: "一网格".into(),
            parent_id: 2,
            parent_name: "章浜".into(),
        };
        let about = About {
            scope: "夏阳街道".into(),
            period: "2026-12-01 – 2026-12-31".into(),
            category: "全部".into(),
            owner_unit: "全部".into(),
        };
        let bytes = workbook(Lang::Zh, &about, &f, &[(g, f)], &[(202612, f)]).unwrap();
        let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), ["总计", "网格", "月度"]);
        let totals = wb.worksheet_range("总计").unwrap();
        // The response rate row: 2 / 3 = 66.7 %.
        let row: Vec<String> = (0..4)
            .map(|c| {
                totals
                    .get_value((6, c))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(row[0], "响应率");
        assert_eq!(row[1], "2");
        assert_eq!(row[2], "3");
        assert_eq!(row[3], "0.667");
        let grids = wb.worksheet_range("网格").unwrap();
        assert_eq!(
            grids.get_value((1, 1)).map(|v| v.to_string()).as_deref(),
            Some("一网格")
        );
    }
}
