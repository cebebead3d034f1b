//! The quarterly publication (公示) of an estate's public income: the notice text (Chinese,
//! a blank line, English) and the XLSX (the quarter's figures and its entries), built from what
//! the store read. No database here; amounts as exact text (yuan with two decimals).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::rules::Quarter;
use super::store::{Account, Entry};
use crate::error::{Error, Result};
use crate::property::fund::ledger::yuan;

/// The notice: Chinese, a blank line, English.
pub fn notice(a: &Account, q: &Quarter, entries: usize, date: &str) -> String {
    let mut s = format!(
        "{}公共收益公示({})\n本季度收入 {} 元,支出 {} 元,补充维修资金 {} 元;截至 {date} 账户余额 {} 元,本季度分录 {} 笔。",
        a.estate_name,
        q.quarter,
        yuan(q.income),
        yuan(q.expense),
        yuan(q.top_up),
        yuan(a.balance),
        entries
    );
    if q.compliant {
        s.push_str("本季度补充维修资金超过收入的50%,符合规定。");
    } else {
        s.push_str(&format!(
            "本季度补充维修资金未超过收入的50%,尚须补充至少 {} 元。",
            yuan(q.shortfall)
        ));
    }
    s.push_str(&format!("账目哈希链尾 {}。\n\n", a.head_hash));
    s.push_str(&format!(
        "Public income of {} ({})\nThis quarter: income {} yuan, expenses {} yuan, top-ups of the maintenance fund {} yuan; balance {} yuan as of {date}; {} entries.",
        a.estate_name,
        q.quarter,
        yuan(q.income),
        yuan(q.expense),
        yuan(q.top_up),
        yuan(a.balance),
        entries
    ));
    if q.compliant {
        s.push_str(" The top-ups are more than half of the income, as required.");
    } else {
        s.push_str(&format!(
            " The top-ups are not more than half of the income: at least {} yuan more is due.",
            yuan(q.shortfall)
        ));
    }
    s.push_str(&format!(" Head hash {}.", a.head_hash));
    s
}

fn x(e: XlsxError) -> Error {
    Error::Internal(anyhow::anyhow!("writing XLSX: {e}"))
}

/// The workbook: sheet 汇总 (the quarter's figures) and sheet 分录 (its entries).
pub fn xlsx(a: &Account, q: &Quarter, entries: &[&Entry]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("汇总").map_err(x)?;
    ws.write_string_with_format(0, 0, format!("{} {}", a.estate_name, q.quarter), &bold)
        .map_err(x)?;
    let rows = [
        ("收入(元) income", yuan(q.income)),
        ("支出(元) expenses", yuan(q.expense)),
        ("补充维修资金(元) top-ups", yuan(q.top_up)),
        (
            "超过50% more than half",
            if q.compliant { "是 yes" } else { "否 no" }.to_owned(),
        ),
        ("尚须补充(元) shortfall", yuan(q.shortfall)),
        ("账户余额(元) balance", yuan(a.balance)),
        ("链尾哈希 head hash", a.head_hash.clone()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string_with_format(r, 0, *k, &bold).map_err(x)?;
        ws.write_string_with_format(r, 1, v, &text).map_err(x)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("分录").map_err(x)?;
    let head = [
        "序号 seq",
        "日期 date",
        "类型 kind",
        "来源 source",
        "金额(元) amount",
        "对余额 effect",
        "付款方 counterparty",
        "说明 note",
        "依据 authority",
        "所属季度 for quarter",
        "冲正 reverses",
        "哈希 hash",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, e) in entries.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, e.seq.to_string()).map_err(x)?;
        ws.write_string(row, 1, &e.value_date).map_err(x)?;
        let k = e.kind.label();
        ws.write_string(row, 2, format!("{} {}", k.zh, k.en))
            .map_err(x)?;
        let src = e
            .source
            .map(|s| {
                let l = s.label();
                format!("{} {}", l.zh, l.en)
            })
            .unwrap_or_default();
        ws.write_string(row, 3, src).map_err(x)?;
        ws.write_string_with_format(row, 4, yuan(e.amount), &text)
            .map_err(x)?;
        ws.write_string_with_format(row, 5, yuan(e.effect), &text)
            .map_err(x)?;
        ws.write_string(row, 6, &e.counterparty).map_err(x)?;
        ws.write_string(row, 7, &e.note).map_err(x)?;
        let auth = match (e.vote_id, e.decision_id) {
            (Some(v), _) => format!("表决 vote {v}"),
            (_, Some(d)) => format!("业委会决定 decision {d}"),
            _ => String::new(),
        };
        ws.write_string(row, 8, auth).map_err(x)?;
        ws.write_string(row, 9, e.for_quarter.as_deref().unwrap_or(""))
            .map_err(x)?;
        ws.write_string(
            row,
            10,
            e.reverses.map(|s| s.to_string()).unwrap_or_default(),
        )
        .map_err(x)?;
        ws.write_string(row, 11, &e.hash).map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}
