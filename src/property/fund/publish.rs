//! The half-yearly publication (公示) of a building's fund: the notice text and the XLSX file
//! (room accounts and every entry), built from what the store read. No database here; amounts
//! are written as exact text (yuan with two decimals), never floats.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::chain::Posting;
use super::ledger::{yuan, Reference};
use super::store::{Fund, RoomAccount};
use crate::error::{Error, Result};
use crate::tree::area;

/// The notice, Chinese first then English.
pub fn notice(f: &Fund, rooms: &[RoomAccount], period: &str, date: &str) -> String {
    let low = rooms.iter().filter(|r| r.low_balance).count();
    let mut s = format!(
        "{}专项维修资金账目公示({period})\n截至 {date}:账户余额 {} 元,首期归集合计 {} 元,分录 {} 笔,{} 户。",
        f.building_name,
        yuan(f.balance),
        yuan(f.first_deposit_total),
        f.seq,
        rooms.len()
    );
    if f.low_balance {
        s.push_str(&format!(
            "余额已低于首期归集的30%,须续筹(至少 {} 元)。",
            yuan(f.top_up_needed)
        ));
    }
    if low > 0 {
        s.push_str(&format!("{low} 户分户余额低于其首期的30%。"));
    }
    s.push_str(&format!(
        "账目哈希链尾 {},可下载导出文件用 redbutler ledger verify 核验。\n\n",
        f.head_hash
    ));
    s.push_str(&format!(
        "Maintenance fund accounts of {} ({period})\nAs of {date}: balance {} yuan, first deposits {} yuan, {} entries, {} rooms.",
        f.building_name,
        yuan(f.balance),
        yuan(f.first_deposit_total),
        f.seq,
        rooms.len()
    ));
    if f.low_balance {
        s.push_str(&format!(
            " The balance is below 30% of the first deposits and must be topped up (at least {} yuan).",
            yuan(f.top_up_needed)
        ));
    }
    if low > 0 {
        s.push_str(&format!(
            " {low} room(s) are below 30% of their first deposit."
        ));
    }
    s.push_str(&format!(
        " Head hash {}; check the export with redbutler ledger verify.",
        f.head_hash
    ));
    s
}

fn x(e: XlsxError) -> Error {
    Error::Internal(anyhow::anyhow!("writing XLSX: {e}"))
}

/// The workbook: sheet 分户账 (rooms) and sheet 分录 (entries).
pub fn xlsx(f: &Fund, rooms: &[RoomAccount], ps: &[Posting], period: &str) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("分户账").map_err(x)?;
    ws.write_string_with_format(0, 0, format!("{} {period}", f.building_name), &bold)
        .map_err(x)?;
    let head = [
        "房屋 room",
        "面积㎡ area m²",
        "首期归集(元) first deposit",
        "余额(元) balance",
        "低于30% low",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, r) in rooms.iter().enumerate() {
        let row = i as u32 + 2;
        ws.write_string_with_format(row, 0, &r.label, &text)
            .map_err(x)?;
        ws.write_string_with_format(row, 1, area::format(r.area), &text)
            .map_err(x)?;
        ws.write_string_with_format(row, 2, yuan(r.first_deposit), &text)
            .map_err(x)?;
        ws.write_string_with_format(row, 3, yuan(r.balance), &text)
            .map_err(x)?;
        ws.write_string(row, 4, if r.low_balance { "是 yes" } else { "" })
            .map_err(x)?;
    }
    let total = rooms.len() as u32 + 2;
    ws.write_string_with_format(total, 0, "合计 total", &bold)
        .map_err(x)?;
    ws.write_string_with_format(total, 2, yuan(f.first_deposit_total), &text)
        .map_err(x)?;
    ws.write_string_with_format(total, 3, yuan(f.balance), &text)
        .map_err(x)?;
    let ws = wb.add_worksheet();
    ws.set_name("分录").map_err(x)?;
    let head = [
        "序号 seq",
        "日期 date",
        "类型 kind",
        "金额(元) amount",
        "依据 authority",
        "审价 cost review",
        "说明 memo",
        "冲正 reverses",
        "哈希 hash",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, p) in ps.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, p.seq.to_string()).map_err(x)?;
        ws.write_string(row, 1, &p.value_date).map_err(x)?;
        let k = p.kind.label();
        ws.write_string(row, 2, format!("{} {}", k.zh, k.en))
            .map_err(x)?;
        ws.write_string_with_format(row, 3, yuan(p.amount), &text)
            .map_err(x)?;
        let r = match p.reference {
            Some(Reference::Vote(id)) => format!("表决 vote {id}"),
            Some(Reference::Emergency(id)) => format!("应急 emergency {id}"),
            None => String::new(),
        };
        ws.write_string(row, 4, r).map_err(x)?;
        ws.write_string(row, 5, &p.cost_review).map_err(x)?;
        ws.write_string(row, 6, &p.memo).map_err(x)?;
        ws.write_string(
            row,
            7,
            p.reverses.map(|s| s.to_string()).unwrap_or_default(),
        )
        .map_err(x)?;
        ws.write_string(row, 8, p.hash.hex()).map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}
