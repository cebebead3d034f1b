//! The registry sheet: its columns, its header row, and the parsing and validation of one
//! row. Pure: no I/O. Import and export both speak exactly this format.

use std::collections::HashMap;

use crate::i18n::Text;
use crate::people::store::{CheckedPerson, NewPerson};
use crate::tree::{area, Track};

/// One column of the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Community,
    Track,
    Grid,
    Building,
    Unit,
    Room,
    Floor,
    RegisteredArea,
    SurveyedArea,
    ContractArea,
    DeveloperUnsold,
    Developer,
    Household,
    Name,
    Gender,
    IdNumber,
    Phone,
    Address,
    Relation,
    Owner,
}

/// Every column, in the order export and the template write them.
pub const COLUMNS: [Column; 20] = [
    Column::Community,
    Column::Track,
    Column::Grid,
    Column::Building,
    Column::Unit,
    Column::Room,
    Column::Floor,
    Column::RegisteredArea,
    Column::SurveyedArea,
    Column::ContractArea,
    Column::DeveloperUnsold,
    Column::Developer,
    Column::Household,
    Column::Name,
    Column::Gender,
    Column::IdNumber,
    Column::Phone,
    Column::Address,
    Column::Relation,
    Column::Owner,
];

/// Columns that every sheet must have.
pub const REQUIRED: [Column; 4] = [
    Column::Community,
    Column::Grid,
    Column::Building,
    Column::Room,
];

/// The columns describing a person: a row with all of them empty is a room without resident.
const PERSON_COLUMNS: [Column; 7] = [
    Column::Name,
    Column::Gender,
    Column::IdNumber,
    Column::Phone,
    Column::Address,
    Column::Relation,
    Column::Owner,
];

impl Column {
    /// The English key (accepted as a header; used in API error lists).
    pub fn key(self) -> &'static str {
        match self {
            Column::Community => "community",
            Column::Track => "track",
            Column::Grid => "grid",
            Column::Building => "building",
            Column::Unit => "unit",
            Column::Room => "room",
            Column::Floor => "floor",
            Column::RegisteredArea => "registered_area",
            Column::SurveyedArea => "surveyed_area",
            Column::ContractArea => "contract_area",
            Column::DeveloperUnsold => "developer_unsold",
            Column::Developer => "developer",
            Column::Household => "household",
            Column::Name => "name",
            Column::Gender => "gender",
            Column::IdNumber => "id_number",
            Column::Phone => "phone",
            Column::Address => "address",
            Column::Relation => "relation",
            Column::Owner => "owner",
        }
    }

    /// The zh header written in the first row.
    pub fn header(self) -> &'static str {
        match self {
            Column::Community => "社区/村",
            Column::Track => "轨道",
            Column::Grid => "网格",
            Column::Building => "楼栋/村民小组",
            Column::Unit => "单元",
            Column::Room => "室号",
            Column::Floor => "楼层",
            Column::RegisteredArea => "登记面积",
            Column::SurveyedArea => "实测面积",
            Column::ContractArea => "合同面积",
            Column::DeveloperUnsold => "开发商未售",
            Column::Developer => "开发商",
            Column::Household => "户号",
            Column::Name => "姓名",
            Column::Gender => "性别",
            Column::IdNumber => "身份证号",
            Column::Phone => "手机号",
            Column::Address => "地址",
            Column::Relation => "与户主关系",
            Column::Owner => "产权人",
        }
    }

    /// The column's name in both languages (for reports).
    pub fn label(self) -> Text {
        let en = match self {
            Column::Community => "community/village",
            Column::Track => "track",
            Column::Grid => "grid",
            Column::Building => "building/village group",
            Column::Unit => "unit",
            Column::Room => "room",
            Column::Floor => "floor",
            Column::RegisteredArea => "registered area",
            Column::SurveyedArea => "surveyed area",
            Column::ContractArea => "contract area",
            Column::DeveloperUnsold => "developer unsold",
            Column::Developer => "developer",
            Column::Household => "household",
            Column::Name => "name",
            Column::Gender => "gender",
            Column::IdNumber => "ID number",
            Column::Phone => "phone",
            Column::Address => "address",
            Column::Relation => "relation to head",
            Column::Owner => "owner",
        };
        Text::new(self.header(), en)
    }

    /// The column a header cell names: the zh header or the English key, trimmed,
    /// ignoring case, a trailing `(m²)` and a leading `*` (required marks).
    pub fn from_header(h: &str) -> Option<Column> {
        let mut s = h
            .trim()
            .trim_start_matches('\u{feff}')
            .trim_start_matches('*')
            .trim();
        for suffix in ["(m²)", "(㎡)", "(m²)", "(㎡)", "(m2)", "(m2)"] {
            s = s.strip_suffix(suffix).unwrap_or(s).trim();
        }
        let lower = s.to_ascii_lowercase();
        COLUMNS
            .into_iter()
            .find(|c| c.header() == s || c.key() == lower)
    }
}

/// A problem in one cell (or the row as a whole when `column` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub column: Option<Column>,
    pub message: Text,
}

impl CellError {
    pub fn new(column: Column, message: Text) -> Self {
        CellError {
            column: Some(column),
            message,
        }
    }
}

/// Which sheet column holds which registry column.
#[derive(Debug, Clone)]
pub struct Header {
    positions: HashMap<Column, usize>,
    /// Header cells that name no column (ignored).
    pub ignored: Vec<String>,
}

impl Header {
    /// Reads the header row. Unknown headers are ignored (offices add remarks columns);
    /// a column named twice or a missing required column is an error.
    pub fn parse<S: AsRef<str>>(cells: &[S]) -> Result<Header, Vec<CellError>> {
        let mut positions = HashMap::new();
        let mut ignored = Vec::new();
        let mut errors = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            let text = cell.as_ref().trim();
            if text.is_empty() {
                continue;
            }
            match Column::from_header(text) {
                Some(c) => {
                    if positions.insert(c, i).is_some() {
                        errors.push(CellError::new(
                            c,
                            Text::owned(
                                format!("表头中“{}”列出现了两次", c.header()),
                                format!("the column “{}” appears twice in the header", c.key()),
                            ),
                        ));
                    }
                }
                None => ignored.push(text.to_string()),
            }
        }
        for c in REQUIRED {
            if !positions.contains_key(&c) {
                errors.push(CellError::new(
                    c,
                    Text::owned(
                        format!("缺少“{}”列(表头可用中文或英文名 {})", c.header(), c.key()),
                        format!(
                            "the column “{}” ({}) is missing from the header",
                            c.key(),
                            c.header()
                        ),
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Header { positions, ignored })
        } else {
            Err(errors)
        }
    }

    /// The cell of a column in a row, trimmed ("" when the column or cell is absent).
    pub fn get<'a, S: AsRef<str>>(&self, row: &'a [S], c: Column) -> &'a str {
        self.positions
            .get(&c)
            .and_then(|&i| row.get(i))
            .map(|s| s.as_ref().trim())
            .unwrap_or("")
    }

    pub fn has(&self, c: Column) -> bool {
        self.positions.contains_key(&c)
    }
}

/// How a resident relates to the head of the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    Head,
    Spouse,
    Child,
    Parent,
    Other,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Head => "head",
            Relation::Spouse => "spouse",
            Relation::Child => "child",
            Relation::Parent => "parent",
            Relation::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Relation::Head => "户主",
            Relation::Spouse => "配偶",
            Relation::Child => "子女",
            Relation::Parent => "父母",
            Relation::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Option<Relation> {
        match s.trim().to_ascii_lowercase().as_str() {
            "户主" | "本人" | "head" => Some(Relation::Head),
            "配偶" | "妻" | "夫" | "妻子" | "丈夫" | "spouse" => Some(Relation::Spouse),
            "子女" | "子" | "女" | "儿子" | "女儿" | "child" => Some(Relation::Child),
            "父母" | "父亲" | "母亲" | "parent" => Some(Relation::Parent),
            "其他" | "other" => Some(Relation::Other),
            _ => None,
        }
    }
}

/// 是/否 (also yes/no, y/n, true/false, 1/0). Empty is `None`.
pub fn parse_yes_no(s: &str) -> Result<Option<bool>, ()> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "是" | "yes" | "y" | "true" | "1" | "√" => Ok(Some(true)),
        "否" | "no" | "n" | "false" | "0" | "×" => Ok(Some(false)),
        _ => Err(()),
    }
}

pub fn yes_no(v: bool) -> &'static str {
    if v {
        "是"
    } else {
        "否"
    }
}

/// The person on a row, validated.
#[derive(Debug, Clone)]
pub struct Resident {
    pub person: CheckedPerson,
    /// `None`: not a household member (an owner who lives elsewhere).
    pub relation: Option<Relation>,
    pub owner: bool,
}

/// One valid row of the sheet.
#[derive(Debug, Clone)]
pub struct Row {
    pub community: String,
    pub track: Option<Track>,
    pub grid: String,
    pub building: String,
    pub unit: Option<String>,
    pub room: String,
    pub floor: Option<i64>,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    /// `None` when the cell is empty (no opinion; new rooms are sold).
    pub developer_unsold: Option<bool>,
    pub developer: Option<String>,
    /// The household label (the room number when empty).
    pub household: String,
    pub resident: Option<Resident>,
}

impl Row {
    /// The names from the community down to the node holding the room.
    pub fn chain(&self) -> Vec<&str> {
        let mut c = vec![
            self.community.as_str(),
            self.grid.as_str(),
            self.building.as_str(),
        ];
        if let Some(u) = &self.unit {
            c.push(u);
        }
        c
    }
}

/// The column holding each level of [`Row::chain`].
pub const CHAIN_COLUMNS: [Column; 4] = [
    Column::Community,
    Column::Grid,
    Column::Building,
    Column::Unit,
];

fn name_cell(
    errors: &mut Vec<CellError>,
    c: Column,
    v: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    if v.is_empty() {
        if required {
            errors.push(CellError::new(
                c,
                Text::owned(
                    format!("请填写“{}”", c.header()),
                    format!("{} is required", c.key()),
                ),
            ));
        }
        return None;
    }
    if v.chars().count() > max {
        errors.push(CellError::new(
            c,
            Text::owned(
                format!("“{}”不超过{max}字", c.header()),
                format!("{} has at most {max} characters", c.key()),
            ),
        ));
        return None;
    }
    if v.contains('/') || v.chars().any(char::is_control) {
        errors.push(CellError::new(
            c,
            Text::owned(
                format!("“{}”不能含有“/”或控制字符", c.header()),
                format!("{} may not contain “/” or control characters", c.key()),
            ),
        ));
        return None;
    }
    Some(v.to_string())
}

fn area_cell(errors: &mut Vec<CellError>, c: Column, v: &str) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    match area::parse(v) {
        Ok(a) => Some(a),
        Err(t) => {
            errors.push(CellError::new(c, t));
            None
        }
    }
}

/// Lowest and highest floor accepted (basements are negative).
pub const FLOORS: std::ops::RangeInclusive<i64> = -10..=200;

/// Parses and validates one data row; every problem is reported, each naming its column.
pub fn parse_row<S: AsRef<str>>(h: &Header, cells: &[S]) -> Result<Row, Vec<CellError>> {
    let mut errors = Vec::new();
    let get = |c| h.get(cells, c);
    let community = name_cell(
        &mut errors,
        Column::Community,
        get(Column::Community),
        100,
        true,
    );
    let grid = name_cell(&mut errors, Column::Grid, get(Column::Grid), 100, true);
    let building = name_cell(
        &mut errors,
        Column::Building,
        get(Column::Building),
        100,
        true,
    );
    let unit = name_cell(&mut errors, Column::Unit, get(Column::Unit), 100, false);
    let room = name_cell(&mut errors, Column::Room, get(Column::Room), 32, true);
    let track = match get(Column::Track) {
        "" => None,
        t => match Track::parse(t).or_else(|| Track::parse(&t.to_ascii_lowercase())) {
            Some(t) => Some(t),
            None => {
                errors.push(CellError::new(
                    Column::Track,
                    Text::new(
                        "轨道应为“城市”或“农村”",
                        "track is urban (城市) or rural (农村)",
                    ),
                ));
                None
            }
        },
    };
    let floor = match get(Column::Floor) {
        "" => None,
        f => match f
            .trim_end_matches(['层', '楼', 'F', 'f'])
            .trim()
            .parse::<i64>()
        {
            Ok(n) if FLOORS.contains(&n) => Some(n),
            _ => {
                errors.push(CellError::new(
                    Column::Floor,
                    Text::new(
                        "楼层应为-10到200之间的整数",
                        "floor is a whole number from -10 to 200",
                    ),
                ));
                None
            }
        },
    };
    let registered_area = area_cell(
        &mut errors,
        Column::RegisteredArea,
        get(Column::RegisteredArea),
    );
    let surveyed_area = area_cell(&mut errors, Column::SurveyedArea, get(Column::SurveyedArea));
    let contract_area = area_cell(&mut errors, Column::ContractArea, get(Column::ContractArea));
    let developer_unsold = match parse_yes_no(get(Column::DeveloperUnsold)) {
        Ok(v) => v,
        Err(()) => {
            errors.push(CellError::new(
                Column::DeveloperUnsold,
                Text::new(
                    "开发商未售应填“是”或“否”",
                    "developer unsold is 是 (yes) or 否 (no)",
                ),
            ));
            None
        }
    };
    let developer = name_cell(
        &mut errors,
        Column::Developer,
        get(Column::Developer),
        100,
        false,
    );
    if developer_unsold == Some(true) && developer.is_none() && get(Column::Developer).is_empty() {
        errors.push(CellError::new(
            Column::Developer,
            Text::new(
                "开发商未售的房屋须填写开发商名称",
                "name the developer of an unsold room",
            ),
        ));
    }
    let household_cell = name_cell(
        &mut errors,
        Column::Household,
        get(Column::Household),
        50,
        false,
    );

    // The person, when any person column is filled.
    let has_person = PERSON_COLUMNS.iter().any(|&c| !get(c).is_empty());
    let mut resident = None;
    if has_person {
        let np = NewPerson {
            name: get(Column::Name).to_string(),
            gender: Some(get(Column::Gender).to_string()),
            id_number: Some(get(Column::IdNumber).to_string()),
            phone: Some(get(Column::Phone).to_string()),
            address: Some(get(Column::Address).to_string()),
        };
        let person = match np.check() {
            Ok(p) => Some(p),
            Err(fe) => {
                for e in fe {
                    let c = match e.field.as_str() {
                        "name" => Column::Name,
                        "gender" => Column::Gender,
                        "id_number" => Column::IdNumber,
                        "phone" => Column::Phone,
                        _ => Column::Address,
                    };
                    errors.push(CellError::new(c, e.message));
                }
                None
            }
        };
        let relation = match get(Column::Relation) {
            "" => None,
            r => match Relation::parse(r) {
                Some(r) => Some(r),
                None => {
                    errors.push(CellError::new(
                        Column::Relation,
                        Text::new(
                            "与户主关系应为户主、配偶、子女、父母或其他",
                            "relation is 户主 (head), 配偶 (spouse), 子女 (child), 父母 (parent) or 其他 (other)",
                        ),
                    ));
                    None
                }
            },
        };
        let owner = match parse_yes_no(get(Column::Owner)) {
            Ok(v) => v.unwrap_or(false),
            Err(()) => {
                errors.push(CellError::new(
                    Column::Owner,
                    Text::new("产权人应填“是”或“否”", "owner is 是 (yes) or 否 (no)"),
                ));
                false
            }
        };
        if relation.is_none() && !owner && get(Column::Relation).is_empty() {
            errors.push(CellError::new(
                Column::Relation,
                Text::new(
                    "请填写与户主关系(不住在此处的产权人:关系留空,产权人填“是”)",
                    "give the relation to the head (an owner living elsewhere: leave it empty and put 是 under owner)",
                ),
            ));
        }
        if owner && developer_unsold == Some(true) {
            errors.push(CellError::new(
                Column::Owner,
                Text::new(
                    "开发商未售的房屋不能有个人产权人",
                    "an unsold room has no personal owner",
                ),
            ));
        }
        if let Some(person) = person {
            resident = Some(Resident {
                person,
                relation,
                owner,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let room = room.unwrap_or_default();
    Ok(Row {
        community: community.unwrap_or_default(),
        track,
        grid: grid.unwrap_or_default(),
        building: building.unwrap_or_default(),
        unit,
        household: household_cell.unwrap_or_else(|| room.clone()),
        room,
        floor,
        registered_area,
        surveyed_area,
        contract_area,
        developer_unsold,
        developer: if developer_unsold == Some(true) {
            developer
        } else {
            None
        },
        resident,
    })
}

/// True when every cell of a row is blank (such rows are skipped).
pub fn is_blank<S: AsRef<str>>(cells: &[S]) -> bool {
    cells.iter().all(|c| c.as_ref().trim().is_empty())
}

/// The header row as written: the zh headers in [`COLUMNS`] order.
pub fn header_row() -> Vec<String> {
    COLUMNS.iter().map(|c| c.header().to_string()).collect()
}

/// One row to write, in [`COLUMNS`] order (export and the template).
#[derive(Debug, Clone, Default)]
pub struct OutRow {
    pub community: String,
    pub track: Option<Track>,
    pub grid: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub floor: Option<i64>,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    pub developer_unsold: bool,
    pub developer: String,
    pub household: String,
    pub name: String,
    pub gender: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub relation: Option<Relation>,
    /// `None` on a row without a person.
    pub owner: Option<bool>,
}

impl OutRow {
    pub fn cells(&self) -> Vec<String> {
        let area = |a: Option<i64>| a.map(area::format).unwrap_or_default();
        COLUMNS
            .iter()
            .map(|c| match c {
                Column::Community => self.community.clone(),
                Column::Track => match self.track {
                    Some(Track::Urban) => "城市".into(),
                    Some(Track::Rural) => "农村".into(),
                    None => String::new(),
                },
                Column::Grid => self.grid.clone(),
                Column::Building => self.building.clone(),
                Column::Unit => self.unit.clone(),
                Column::Room => self.room.clone(),
                Column::Floor => self.floor.map(|f| f.to_string()).unwrap_or_default(),
                Column::RegisteredArea => area(self.registered_area),
                Column::SurveyedArea => area(self.surveyed_area),
                Column::ContractArea => area(self.contract_area),
                Column::DeveloperUnsold => yes_no(self.developer_unsold).into(),
                Column::Developer => self.developer.clone(),
                Column::Household => self.household.clone(),
                Column::Name => self.name.clone(),
                Column::Gender => match self.gender.as_str() {
                    "M" => "男".into(),
                    "F" => "女".into(),
                    _ => String::new(),
                },
                Column::IdNumber => self.id_number.clone(),
                Column::Phone => self.phone.clone(),
                Column::Address => self.address.clone(),
                Column::Relation => self
                    .relation
                    .map(|r| r.zh().to_string())
                    .unwrap_or_default(),
                Column::Owner => self
                    .owner
                    .map(|o| yes_no(o).to_string())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// The example row of the template (a valid row).
pub fn example_row() -> OutRow {
    let first17 = "11010119900307001";
    let mut d = [0u32; 17];
    for (i, c) in first17.chars().enumerate() {
        d[i] = c.to_digit(10).unwrap_or(0);
    }
    let id = format!("{first17}{}", crate::pii::validate::id_check_char(&d));
    OutRow {
        community: "章浜居民区".into(),
        track: Some(Track::Urban),
        grid: "章浜一网格".into(),
        building: "城中东路311号".into(),
        unit: "1单元".into(),
        room: "601".into(),
        floor: Some(6),
        registered_area: Some(8_550),
        surveyed_area: Some(8_600),
        contract_area: None,
        developer_unsold: false,
        developer: String::new(),
        household: "601室".into(),
        name: "张三".into(),
        gender: "M".into(),
        id_number: id,
        phone: "13812341234".into(),
        address: "城中东路311号1单元601室".into(),
        relation: Some(Relation::Head),
        owner: Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(first17: &str) -> String {
        let mut d = [0u32; 17];
        for (i, c) in first17.chars().enumerate() {
            d[i] = c.to_digit(10).unwrap();
        }
        format!("{first17}{}", crate::pii::validate::id_check_char(&d))
    }

    fn header() -> Header {
        Header::parse(&header_row()).unwrap()
    }

    /// A row from (column, value) pairs, the rest empty.
    fn row(pairs: &[(Column, &str)]) -> Vec<String> {
        COLUMNS
            .iter()
            .map(|c| {
                pairs
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn base() -> Vec<(Column, &'static str)> {
        vec![
            (Column::Community, "章浜居民区"),
            (Column::Track, "城市"),
            (Column::Grid, "一网格"),
            (Column::Building, "311号"),
            (Column::Room, "502"),
        ]
    }

    fn errors_of(pairs: &[(Column, &str)]) -> Vec<CellError> {
        parse_row(&header(), &row(pairs)).unwrap_err()
    }

    fn columns_of(errs: &[CellError]) -> Vec<Column> {
        errs.iter().filter_map(|e| e.column).collect()
    }

    #[test]
    fn every_column_is_found_by_zh_header_or_english_key() {
        for c in COLUMNS {
            assert_eq!(Column::from_header(c.header()), Some(c));
            assert_eq!(Column::from_header(c.key()), Some(c));
            assert_eq!(
                Column::from_header(&format!(" {} ", c.key().to_uppercase())),
                Some(c)
            );
            assert_eq!(Column::from_header(&format!("*{}", c.header())), Some(c));
        }
        assert_eq!(
            Column::from_header("登记面积(m²)"),
            Some(Column::RegisteredArea)
        );
        assert_eq!(
            Column::from_header("\u{feff}社区/村"),
            Some(Column::Community)
        );
        assert_eq!(Column::from_header("备注"), None);
    }

    #[test]
    fn header_in_any_order_with_extra_columns() {
        let h = Header::parse(&["室号", "备注", "grid", "楼栋/村民小组", "community"]).unwrap();
        assert_eq!(h.ignored, vec!["备注".to_string()]);
        let cells = ["101", "x", "G", "B", "C"];
        assert_eq!(h.get(&cells, Column::Room), "101");
        assert_eq!(h.get(&cells, Column::Community), "C");
        assert_eq!(h.get(&cells, Column::Name), "");
        assert!(h.has(Column::Grid) && !h.has(Column::Name));
    }

    #[test]
    fn header_without_required_columns_or_with_duplicates_is_refused() {
        let e = Header::parse(&["社区/村", "网格"]).unwrap_err();
        assert_eq!(columns_of(&e), vec![Column::Building, Column::Room]);
        let e =
            Header::parse(&["社区/村", "community", "网格", "楼栋/村民小组", "室号"]).unwrap_err();
        assert_eq!(columns_of(&e), vec![Column::Community]);
    }

    #[test]
    fn a_room_without_resident_parses() {
        let r = parse_row(&header(), &row(&base())).unwrap();
        assert_eq!(r.community, "章浜居民区");
        assert_eq!(r.track, Some(Track::Urban));
        assert_eq!(r.chain(), vec!["章浜居民区", "一网格", "311号"]);
        assert_eq!(
            r.household, "502",
            "the household label defaults to the room"
        );
        assert!(r.resident.is_none());
        assert_eq!(r.developer_unsold, None);
    }

    #[test]
    fn a_full_row_parses_every_field() {
        let idn = id("31011819800101001");
        let mut p = base();
        p.extend([
            (Column::Unit, "1单元"),
            (Column::Floor, "5"),
            (Column::RegisteredArea, "85.5"),
            (Column::SurveyedArea, "86"),
            (Column::ContractArea, "85.55㎡"),
            (Column::DeveloperUnsold, "否"),
            (Column::Household, "502室"),
            (Column::Name, "张三"),
            (Column::Gender, "男"),
            (Column::IdNumber, idn.as_str()),
            (Column::Phone, "13812341234"),
            (Column::Address, "某路1号"),
            (Column::Relation, "户主"),
            (Column::Owner, "是"),
        ]);
        let r = parse_row(&header(), &row(&p)).unwrap();
        assert_eq!(r.unit.as_deref(), Some("1单元"));
        assert_eq!(r.chain().len(), 4);
        assert_eq!(r.floor, Some(5));
        assert_eq!(r.registered_area, Some(8550));
        assert_eq!(r.surveyed_area, Some(8600));
        assert_eq!(r.contract_area, Some(8555));
        assert_eq!(r.developer_unsold, Some(false));
        assert_eq!(r.household, "502室");
        let res = r.resident.unwrap();
        assert_eq!(res.person.name, "张三");
        assert_eq!(res.person.gender, "M");
        assert_eq!(res.person.id_number.as_deref(), Some(idn.as_str()));
        assert_eq!(res.person.birth_year, Some(1980));
        assert_eq!(res.relation, Some(Relation::Head));
        assert!(res.owner);
    }

    #[test]
    fn required_cells_are_named_when_empty() {
        let e = errors_of(&[(Column::Track, "城市")]);
        assert_eq!(
            columns_of(&e),
            vec![
                Column::Community,
                Column::Grid,
                Column::Building,
                Column::Room
            ]
        );
    }

    #[test]
    fn bad_cells_each_name_their_column() {
        let mut p = base();
        p.extend([
            (Column::Track, "郊区"),
            (Column::Floor, "五"),
            (Column::RegisteredArea, "85.555"),
            (Column::SurveyedArea, "-3"),
            (Column::ContractArea, "abc"),
            (Column::DeveloperUnsold, "也许"),
        ]);
        p.remove(1);
        let e = errors_of(&p);
        assert_eq!(
            columns_of(&e),
            vec![
                Column::Track,
                Column::Floor,
                Column::RegisteredArea,
                Column::SurveyedArea,
                Column::ContractArea,
                Column::DeveloperUnsold
            ]
        );
    }

    #[test]
    fn english_and_alternative_values_are_accepted() {
        let mut p = base();
        p[1] = (Column::Track, "Rural");
        p.extend([
            (Column::Floor, "-1"),
            (Column::DeveloperUnsold, "yes"),
            (Column::Developer, "某开发商"),
        ]);
        let r = parse_row(&header(), &row(&p)).unwrap();
        assert_eq!(r.track, Some(Track::Rural));
        assert_eq!(r.floor, Some(-1));
        assert_eq!(r.developer_unsold, Some(true));
        assert_eq!(r.developer.as_deref(), Some("某开发商"));
        for (s, rel) in [
            ("户主", Relation::Head),
            ("spouse", Relation::Spouse),
            ("子女", Relation::Child),
            ("父母", Relation::Parent),
            ("其他", Relation::Other),
            ("OTHER", Relation::Other),
        ] {
            assert_eq!(Relation::parse(s), Some(rel), "{s}");
            assert_eq!(Relation::parse(rel.zh()), Some(rel));
            assert_eq!(Relation::parse(rel.as_str()), Some(rel));
        }
        assert_eq!(Relation::parse("邻居"), None);
        assert_eq!(parse_yes_no("是"), Ok(Some(true)));
        assert_eq!(parse_yes_no("N"), Ok(Some(false)));
        assert_eq!(parse_yes_no(" "), Ok(None));
        assert_eq!(parse_yes_no("maybe"), Err(()));
    }

    #[test]
    fn an_unsold_room_needs_its_developer_and_no_personal_owner() {
        let mut p = base();
        p.push((Column::DeveloperUnsold, "是"));
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Developer]);
        p.extend([
            (Column::Developer, "开发商甲"),
            (Column::Name, "张三"),
            (Column::Owner, "是"),
        ]);
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Owner]);
        // A developer named on a sold room is not kept.
        let mut p = base();
        p.push((Column::Developer, "开发商甲"));
        assert_eq!(parse_row(&header(), &row(&p)).unwrap().developer, None);
    }

    #[test]
    fn person_fields_are_checked_by_the_people_rules() {
        let mut p = base();
        p.extend([
            (Column::Gender, "女"),
            (Column::IdNumber, "310118198001010011"),
            (Column::Phone, "12345"),
            (Column::Relation, "邻居"),
            (Column::Owner, "也许"),
        ]);
        let cols = columns_of(&errors_of(&p));
        for c in [
            Column::Name,
            Column::IdNumber,
            Column::Phone,
            Column::Relation,
            Column::Owner,
        ] {
            assert!(cols.contains(&c), "{c:?} in {cols:?}");
        }
        // Gender contradicting the ID number.
        let idn = id("31011819800101001");
        let mut p = base();
        p.extend([
            (Column::Name, "张三"),
            (Column::Gender, "女"),
            (Column::IdNumber, idn.as_str()),
            (Column::Relation, "户主"),
        ]);
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Gender]);
    }

    #[test]
    fn a_person_is_a_resident_or_an_owner() {
        let mut p = base();
        p.push((Column::Name, "张三"));
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Relation]);
        p.push((Column::Owner, "否"));
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Relation]);
        let mut p = base();
        p.extend([(Column::Name, "张三"), (Column::Owner, "是")]);
        let r = parse_row(&header(), &row(&p)).unwrap().resident.unwrap();
        assert_eq!(r.relation, None);
        assert!(r.owner);
    }

    #[test]
    fn names_are_limited_and_may_not_contain_slashes() {
        let long = "楼".repeat(101);
        let mut p = base();
        p[3] = (Column::Building, long.as_str());
        p[4] = (Column::Room, "5/02");
        assert_eq!(
            columns_of(&errors_of(&p)),
            vec![Column::Building, Column::Room]
        );
        let long_room = "1".repeat(33);
        let mut p = base();
        p[4] = (Column::Room, long_room.as_str());
        assert_eq!(columns_of(&errors_of(&p)), vec![Column::Room]);
    }

    #[test]
    fn blank_rows_are_recognised() {
        assert!(is_blank(&["", " ", "\t"]));
        assert!(!is_blank(&["", "x"]));
    }

    #[test]
    fn the_example_row_and_header_parse_back() {
        let h = Header::parse(&header_row()).unwrap();
        assert!(h.ignored.is_empty());
        let r = parse_row(&h, &example_row().cells()).unwrap();
        assert_eq!(r.room, "601");
        assert_eq!(r.registered_area, Some(8550));
        assert!(r.resident.as_ref().unwrap().owner);
    }

    #[test]
    fn out_rows_write_what_parse_reads() {
        let mut o = example_row();
        o.track = Some(Track::Rural);
        o.developer_unsold = true;
        o.developer = "开发商甲".into();
        o.owner = Some(false);
        o.relation = Some(Relation::Child);
        o.gender = "F".into();
        o.id_number = id("31011819900101002");
        o.contract_area = Some(1);
        let r = parse_row(&header(), &o.cells()).unwrap();
        assert_eq!(r.track, Some(Track::Rural));
        assert_eq!(r.developer.as_deref(), Some("开发商甲"));
        assert_eq!(r.contract_area, Some(1));
        let res = r.resident.unwrap();
        assert_eq!(res.relation, Some(Relation::Child));
        assert_eq!(res.person.gender, "F");
        assert!(!res.owner);
        // An empty room writes an empty person.
        let empty = OutRow {
            community: "C".into(),
            grid: "G".into(),
            building: "B".into(),
            room: "1".into(),
            ..Default::default()
        };
        let r = parse_row(&header(), &empty.cells()).unwrap();
        assert!(r.resident.is_none());
        assert_eq!(r.developer_unsold, Some(false));
    }
}
