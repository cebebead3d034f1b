//! Personal information (PIPL): validation of ID and mobile numbers, the masks shown in
//! lists, and sealing of sensitive fields at rest. No I/O here but the key file.

pub mod mask;
pub mod seal;
pub mod validate;

pub use seal::Seal;

/// A sensitive field of a person that can be opened in full, with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Phone,
    IdNumber,
    Address,
}

impl Field {
    pub fn parse(s: &str) -> Option<Field> {
        match s {
            "phone" => Some(Field::Phone),
            "id_number" => Some(Field::IdNumber),
            "address" => Some(Field::Address),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Phone => "phone",
            Field::IdNumber => "id_number",
            Field::Address => "address",
        }
    }

    pub fn label(self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            Field::Phone => Text::new("手机号", "Phone"),
            Field::IdNumber => Text::new("身份证号", "ID number"),
            Field::Address => Text::new("地址", "Address"),
        }
    }
}
