//! Storage of persons, households, members and room owners.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::pii::{mask, validate, Field, Seal};
use crate::storage::{next_id, opt_i64, Db, Tx};

/// A person as entered: raw values, validated by [`NewPerson::check`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewPerson {
    pub name: String,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A validated person, ready to seal and store.
#[derive(Debug, Clone)]
pub struct CheckedPerson {
    pub name: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl NewPerson {
    /// Validates every field; all problems are reported at once, each naming its field.
    pub fn check(&self) -> std::result::Result<CheckedPerson, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 50 {
            errors.push(FieldError::new(
                "name",
                Text::new(
                    "请填写姓名(不超过50字)",
                    "give a name of at most 50 characters",
                ),
            ));
        }
        let id_number = match blank(&self.id_number).map(validate::id_number) {
            Some(Ok(v)) => Some(v),
            Some(Err(t)) => {
                errors.push(FieldError::new("id_number", t));
                None
            }
            None => None,
        };
        let phone = match blank(&self.phone).map(validate::mobile) {
            Some(Ok(v)) => Some(v),
            Some(Err(t)) => {
                errors.push(FieldError::new("phone", t));
                None
            }
            None => None,
        };
        let address = blank(&self.address).map(str::to_string);
        if address.as_ref().is_some_and(|a| a.chars().count() > 200) {
            errors.push(FieldError::new(
                "address",
                Text::new("地址不超过200字", "an address has at most 200 characters"),
            ));
        }
        let gender = match blank(&self.gender) {
            None => id_number
                .as_deref()
                .and_then(validate::gender)
                .unwrap_or("")
                .to_string(),
            Some("M" | "男" | "m") => "M".into(),
            Some("F" | "女" | "f") => "F".into(),
            Some(_) => {
                errors.push(FieldError::new(
                    "gender",
                    Text::new("性别应为“男”或“女”", "gender is M or F"),
                ));
                String::new()
            }
        };
        if let (Some(id), false) = (&id_number, gender.is_empty()) {
            if validate::gender(id) != Some(gender.as_str()) {
                errors.push(FieldError::new(
                    "gender",
                    Text::new(
                        "性别与身份证号不符",
                        "the gender does not match the ID number",
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckedPerson {
            birth_year: id_number.as_deref().and_then(validate::birth_year),
            name,
            gender,
            id_number,
            phone,
            address,
        })
    }
}

/// The sealed and masked columns of a person, computed once (also used by bulk loads).
pub struct SealedPerson {
    pub phone_sealed: Option<Vec<u8>>,
    pub phone_mask: String,
    pub id_sealed: Option<Vec<u8>>,
    pub id_mask: String,
    pub id_digest: Option<String>,
    pub address_sealed: Option<Vec<u8>>,
    pub address_mask: String,
}

pub fn seal_person(seal: &Seal, p: &CheckedPerson) -> SealedPerson {
    SealedPerson {
        phone_sealed: p.phone.as_deref().map(|v| seal.seal(v)),
        phone_mask: p.phone.as_deref().map(mask::phone).unwrap_or_default(),
        id_sealed: p.id_number.as_deref().map(|v| seal.seal(v)),
        id_mask: p
            .id_number
            .as_deref()
            .map(mask::id_number)
            .unwrap_or_default(),
        id_digest: p.id_number.as_deref().map(|v| seal.digest(v)),
        address_sealed: p.address.as_deref().map(|v| seal.seal(v)),
        address_mask: p.address.as_deref().map(mask::address).unwrap_or_default(),
    }
}

/// The columns of `households`, in the order bulk loads fill them.
pub const HOUSEHOLD_COLUMNS: [&str; 6] = [
    "subdistrict_id",
    "id",
    "node_id",
    "room_id",
    "label",
    "created_at",
];
/// The columns of `household_members`, in the order bulk loads fill them.
pub const MEMBER_COLUMNS: [&str; 4] = ["subdistrict_id", "household_id", "person_id", "relation"];
/// The columns of `room_owners`, in the order bulk loads fill them.
pub const OWNER_COLUMNS: [&str; 4] = ["subdistrict_id", "room_id", "person_id", "org_id"];

/// The columns of `persons`, in the order [`person_cells`] fills them.
pub const PERSON_COLUMNS: [&str; 14] = [
    "subdistrict_id",
    "id",
    "name",
    "gender",
    "birth_year",
    "phone_sealed",
    "phone_mask",
    "id_sealed",
    "id_mask",
    "id_digest",
    "address_sealed",
    "address_mask",
    "created_at",
    "updated_at",
];

/// One bulk row for `persons`.
pub fn person_cells(
    sid: i64,
    id: i64,
    p: &CheckedPerson,
    s: SealedPerson,
    now: i64,
) -> Vec<crate::storage::bulk::Cell> {
    vec![
        sid.into(),
        id.into(),
        p.name.clone().into(),
        p.gender.clone().into(),
        p.birth_year.into(),
        s.phone_sealed.into(),
        s.phone_mask.into(),
        s.id_sealed.into(),
        s.id_mask.into(),
        s.id_digest.into(),
        s.address_sealed.into(),
        s.address_mask.into(),
        now.into(),
        now.into(),
    ]
}

/// Stores a new person. A second person with the same ID number is refused.
pub async fn create_person(tx: &mut Tx, seal: &Seal, sid: i64, p: &CheckedPerson) -> Result<i64> {
    let id = next_id();
    let now = crate::clock::now_ms();
    let s = seal_person(seal, p);
    let r = sqlx::query(
        "INSERT INTO persons (subdistrict_id, id, name, gender, birth_year, phone_sealed, phone_mask, id_sealed, id_mask, \
         id_digest, address_sealed, address_mask, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(sid)
    .bind(id)
    .bind(&p.name)
    .bind(&p.gender)
    .bind(p.birth_year)
    .bind(s.phone_sealed)
    .bind(s.phone_mask)
    .bind(s.id_sealed)
    .bind(s.id_mask)
    .bind(s.id_digest)
    .bind(s.address_sealed)
    .bind(s.address_mask)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::field(
            "id_number",
            Text::new(
                "已有登记了该身份证号的人员",
                "a person with this ID number is registered already",
            ),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(id),
    }
}

/// The person with this ID number, if registered.
pub async fn find_by_id_number(
    tx: &mut Tx,
    seal: &Seal,
    sid: i64,
    id_number: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT id FROM persons WHERE subdistrict_id = $1 AND id_digest = $2")
        .bind(sid)
        .bind(seal.digest(id_number))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// A person as lists and pages show them: masked.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    pub name_masked: String,
    pub gender: String,
    pub birth_year: Option<i64>,
    pub phone: String,
    pub id_number: String,
    pub address: String,
}

const PERSON_VIEW_COLS: &str =
    "p.id, p.name, p.gender, p.birth_year, p.phone_mask, p.id_mask, p.address_mask";

fn view_from(r: &AnyRow) -> PersonView {
    let name: String = r.get("name");
    PersonView {
        id: r.get("id"),
        name_masked: mask::name(&name),
        name,
        gender: r.get("gender"),
        birth_year: opt_i64(r, "birth_year"),
        phone: r.get("phone_mask"),
        id_number: r.get("id_mask"),
        address: r.get("address_mask"),
    }
}

pub async fn person(db: &Db, sid: i64, id: i64) -> Result<PersonView> {
    let r = sqlx::query(&format!(
        "SELECT {PERSON_VIEW_COLS} FROM persons p WHERE p.subdistrict_id = $1 AND p.id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok(view_from(&r))
}

/// The paths of the places of the households a person belongs to, in path order: where a
/// resident may report and take part.
pub async fn homes(db: &Db, sid: i64, person_id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT n.path FROM household_members m \
         JOIN households h ON h.subdistrict_id = m.subdistrict_id AND h.id = m.household_id \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         WHERE m.subdistrict_id = $1 AND m.person_id = $2 ORDER BY n.path",
    )
    .bind(sid)
    .bind(person_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The paths of every place a person lives (households) or owns (rooms): what the
/// access rules check a person against.
pub async fn places(db: &Db, sid: i64, person_id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT n.path FROM household_members m \
         JOIN households h ON h.subdistrict_id = m.subdistrict_id AND h.id = m.household_id \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         WHERE m.subdistrict_id = $1 AND m.person_id = $2 \
         UNION SELECT n.path FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE o.subdistrict_id = $1 AND o.person_id = $2",
    )
    .bind(sid)
    .bind(person_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// True when the two people are members of one household.
pub async fn housemates(db: &Db, sid: i64, a: i64, b: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT 1 FROM household_members x JOIN household_members y \
         ON y.subdistrict_id = x.subdistrict_id AND y.household_id = x.household_id \
         WHERE x.subdistrict_id = $1 AND x.person_id = $2 AND y.person_id = $3 LIMIT 1",
    )
    .bind(sid)
    .bind(a)
    .bind(b)
    .fetch_optional(db.read())
    .await?;
    Ok(row.is_some())
}

/// Opens one sealed field in full for an actor the rules allowed, and logs the opening
/// (who, when, whose, which field, why) in the same transaction.
pub async fn reveal(
    db: &Db,
    seal: &Seal,
    actor: &Actor,
    person_id: i64,
    field: Field,
    reason: &str,
) -> Result<String> {
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(Error::field(
            "reason",
            Text::new(
                "请说明查看原因(2到200字)",
                "give a reason of 2 to 200 characters",
            ),
        ));
    }
    let col = match field {
        Field::Phone => "phone_sealed",
        Field::IdNumber => "id_sealed",
        Field::Address => "address_sealed",
    };
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT name, {col} FROM persons WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(actor.subdistrict_id)
    .bind(person_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    let name: String = row.get(0);
    let sealed: Option<Vec<u8>> = row.get(1);
    let Some(sealed) = sealed else {
        return Err(Error::BadRequest(Text::new(
            "该项未登记",
            "this field is not recorded",
        )));
    };
    let value = seal.open(&sealed).map_err(Error::Internal)?;
    audit::record(
        &mut tx,
        actor,
        Change::new("pii.reveal", "person", Some(person_id))
            .label(&mask::name(&name))
            .after(serde_json::json!({ "field": field.as_str() }))
            .reason(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(value)
}

/// A household with its members (masked).
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdView {
    pub id: i64,
    pub node_id: i64,
    pub room_id: Option<i64>,
    pub label: String,
    /// Where the household lives: the building (and unit) or village group.
    pub place: String,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub person: PersonView,
    pub relation: String,
}

async fn members_of(db: &Db, sid: i64, household_ids: &[i64]) -> Result<Vec<(i64, MemberView)>> {
    if household_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = household_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(&format!(
        "SELECT m.household_id, m.relation, {PERSON_VIEW_COLS} FROM household_members m \
         JOIN persons p ON p.subdistrict_id = m.subdistrict_id AND p.id = m.person_id \
         WHERE m.subdistrict_id = $1 AND m.household_id IN ({list}) \
         ORDER BY m.household_id, CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, p.birth_year"
    ))
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                MemberView {
                    relation: r.get(1),
                    person: view_from(r),
                },
            )
        })
        .collect())
}

async fn with_members(db: &Db, sid: i64, rows: Vec<AnyRow>) -> Result<Vec<HouseholdView>> {
    let mut out: Vec<HouseholdView> = rows
        .iter()
        .map(|r| HouseholdView {
            id: r.get("id"),
            node_id: r.get("node_id"),
            room_id: opt_i64(r, "room_id"),
            label: r.get("label"),
            place: r
                .try_get::<Option<String>, _>("place")
                .ok()
                .flatten()
                .unwrap_or_default(),
            members: Vec::new(),
        })
        .collect();
    let ids: Vec<i64> = out.iter().map(|h| h.id).collect();
    for (hid, m) in members_of(db, sid, &ids).await? {
        if let Some(h) = out.iter_mut().find(|h| h.id == hid) {
            h.members.push(m);
        }
    }
    Ok(out)
}

/// Households in a subtree, a page at a time.
pub async fn households_under(
    db: &Db,
    sid: i64,
    path: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<HouseholdView>> {
    let rows = sqlx::query(&format!(
        "SELECT h.id, h.node_id, h.room_id, h.label, \
         CASE WHEN n.kind = 'unit' THEN pn.name || ' ' || n.name ELSE n.name END AS place FROM households h \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         LEFT JOIN nodes pn ON pn.subdistrict_id = n.subdistrict_id AND pn.id = n.parent_id \
         WHERE h.subdistrict_id = $1 AND n.path LIKE $2 ORDER BY n.path, h.label LIMIT {} OFFSET {}",
        limit.clamp(1, 500),
        offset.max(0)
    ))
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    with_members(db, sid, rows).await
}

pub async fn households_of_room(db: &Db, sid: i64, room_id: i64) -> Result<Vec<HouseholdView>> {
    let rows = sqlx::query("SELECT id, node_id, room_id, label FROM households WHERE subdistrict_id = $1 AND room_id = $2 ORDER BY label")
        .bind(sid)
        .bind(room_id)
        .fetch_all(db.read())
        .await?;
    with_members(db, sid, rows).await
}

pub async fn households_of_person(db: &Db, sid: i64, person_id: i64) -> Result<Vec<HouseholdView>> {
    let rows = sqlx::query(
        "SELECT h.id, h.node_id, h.room_id, h.label FROM households h JOIN household_members m \
         ON m.subdistrict_id = h.subdistrict_id AND m.household_id = h.id \
         WHERE h.subdistrict_id = $1 AND m.person_id = $2 ORDER BY h.label",
    )
    .bind(sid)
    .bind(person_id)
    .fetch_all(db.read())
    .await?;
    with_members(db, sid, rows).await
}

/// People in a subtree (members of its households), masked, optionally by name prefix.
pub async fn people_under(
    db: &Db,
    sid: i64,
    path: &str,
    name_prefix: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<PersonView>> {
    let mut sql = format!(
        "SELECT DISTINCT {PERSON_VIEW_COLS} FROM persons p \
         JOIN household_members m ON m.subdistrict_id = p.subdistrict_id AND m.person_id = p.id \
         JOIN households h ON h.subdistrict_id = m.subdistrict_id AND h.id = m.household_id \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         WHERE p.subdistrict_id = $1 AND n.path LIKE $2"
    );
    if name_prefix.is_some() {
        sql.push_str(" AND p.name LIKE $3");
    }
    sql.push_str(&format!(
        " ORDER BY p.name, p.id LIMIT {} OFFSET {}",
        limit.clamp(1, 500),
        offset.max(0)
    ));
    let mut q = sqlx::query(&sql).bind(sid).bind(format!("{path}%"));
    if let Some(n) = name_prefix {
        q = q.bind(format!("{}%", n.trim().replace(['%', '_'], "")));
    }
    Ok(q.fetch_all(db.read())
        .await?
        .iter()
        .map(view_from)
        .collect())
}

pub async fn create_household(
    tx: &mut Tx,
    sid: i64,
    node_id: i64,
    room_id: Option<i64>,
    label: &str,
) -> Result<i64> {
    let id = next_id();
    sqlx::query("INSERT INTO households (subdistrict_id, id, node_id, room_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(sid)
        .bind(id)
        .bind(node_id)
        .bind(room_id)
        .bind(label)
        .bind(crate::clock::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

pub async fn add_member(
    tx: &mut Tx,
    sid: i64,
    household_id: i64,
    person_id: i64,
    relation: &str,
) -> Result<()> {
    let r = sqlx::query("INSERT INTO household_members (subdistrict_id, household_id, person_id, relation) VALUES ($1, $2, $3, $4)")
        .bind(sid)
        .bind(household_id)
        .bind(person_id)
        .bind(relation)
        .execute(&mut **tx)
        .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::Conflict(Text::new(
            "此人已是该户成员",
            "this person is a member of the household already",
        ))),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// Who owns a room: a person, or an organisation such as the developer.
#[derive(Debug, Clone, Copy)]
pub enum OwnerRef {
    Person(i64),
    Org(i64),
}

pub async fn add_owner(tx: &mut Tx, sid: i64, room_id: i64, owner: OwnerRef) -> Result<()> {
    let (p, o) = match owner {
        OwnerRef::Person(p) => (p, 0),
        OwnerRef::Org(o) => (0, o),
    };
    let r = sqlx::query("INSERT INTO room_owners (subdistrict_id, room_id, person_id, org_id) VALUES ($1, $2, $3, $4)")
        .bind(sid)
        .bind(room_id)
        .bind(p)
        .bind(o)
        .execute(&mut **tx)
        .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// An owner of a room as shown: a masked person or an organisation's name.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerView {
    pub person: Option<PersonView>,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
}

pub async fn owners_of_room(db: &Db, sid: i64, room_id: i64) -> Result<Vec<OwnerView>> {
    let rows = sqlx::query(
        "SELECT o.person_id, o.org_id, g.name AS org_name FROM room_owners o \
         LEFT JOIN orgs g ON g.subdistrict_id = o.subdistrict_id AND g.id = o.org_id \
         WHERE o.subdistrict_id = $1 AND o.room_id = $2",
    )
    .bind(sid)
    .bind(room_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let pid: i64 = r.get(0);
        let oid: i64 = r.get(1);
        if pid != 0 {
            out.push(OwnerView {
                person: Some(person(db, sid, pid).await?),
                org_id: None,
                org_name: None,
            });
        } else {
            out.push(OwnerView {
                person: None,
                org_id: Some(oid),
                org_name: r.try_get::<Option<String>, _>(2).ok().flatten(),
            });
        }
    }
    Ok(out)
}

/// Rooms a person owns, with the room's node path.
pub async fn rooms_owned(
    db: &Db,
    sid: i64,
    person_id: i64,
) -> Result<Vec<(crate::tree::Room, String)>> {
    let rows = sqlx::query(
        "SELECT r.id FROM room_owners o JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         WHERE o.subdistrict_id = $1 AND o.person_id = $2 ORDER BY r.id",
    )
    .bind(sid)
    .bind(person_id)
    .fetch_all(db.read())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let room = crate::tree::store::room(db, sid, r.get(0)).await?;
        let node = crate::tree::store::node(db, sid, room.node_id).await?;
        out.push((room, node.path));
    }
    Ok(out)
}

/// Corrections to a person. Blank or missing fields stay as they are: editors see masks,
/// so they type only what changes.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PersonChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// Applies corrections in one transaction with an audit entry holding the masked values
/// before and after. Returns the person as now stored.
pub async fn update_person(
    db: &Db,
    seal: &Seal,
    actor: &Actor,
    id: i64,
    ch: &PersonChanges,
) -> Result<PersonView> {
    crate::storage::memo::changed();
    let sid = actor.subdistrict_id;
    let before = person(db, sid, id).await?;
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let probe = NewPerson {
        name: given(&ch.name).unwrap_or_else(|| before.name.clone()),
        gender: given(&ch.gender)
            .or_else(|| (!before.gender.is_empty()).then(|| before.gender.clone())),
        id_number: given(&ch.id_number),
        phone: given(&ch.phone),
        address: given(&ch.address),
    };
    // The gender is checked against the ID number only when a new ID number is given.
    let checked = probe.check().map_err(Error::Invalid)?;
    let sealed = seal_person(seal, &checked);
    let mut sets = vec!["name = $3", "gender = $4", "updated_at = $5"];
    let mut changed = vec![];
    if checked.name != before.name {
        changed.push("name");
    }
    if checked.gender != before.gender {
        changed.push("gender");
    }
    if checked.phone.is_some() {
        sets.push("phone_sealed = $6, phone_mask = $7");
        changed.push("phone");
    }
    if checked.id_number.is_some() {
        sets.push("id_sealed = $8, id_mask = $9, id_digest = $10, birth_year = $11");
        changed.push("id_number");
    }
    if checked.address.is_some() {
        sets.push("address_sealed = $12, address_mask = $13");
        changed.push("address");
    }
    if changed.is_empty() {
        return Ok(before);
    }
    let sql = format!(
        "UPDATE persons SET {} WHERE subdistrict_id = $1 AND id = $2",
        sets.join(", ")
    );
    let mut tx = db.begin().await?;
    let r = sqlx::query(&sql)
        .bind(sid)
        .bind(id)
        .bind(&checked.name)
        .bind(&checked.gender)
        .bind(crate::clock::now_ms())
        .bind(sealed.phone_sealed)
        .bind(sealed.phone_mask)
        .bind(sealed.id_sealed)
        .bind(sealed.id_mask)
        .bind(sealed.id_digest)
        .bind(checked.birth_year)
        .bind(sealed.address_sealed)
        .bind(sealed.address_mask)
        .execute(&mut *tx)
        .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => {
            return Err(Error::field(
                "id_number",
                Text::new(
                    "已有登记了该身份证号的人员",
                    "a person with this ID number is registered already",
                ),
            ))
        }
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    let after_row = sqlx::query("SELECT phone_mask, id_mask, address_mask, birth_year FROM persons WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let masked = |v: &PersonView| serde_json::json!({ "name": mask::name(&v.name), "gender": v.gender, "phone": v.phone, "id_number": v.id_number, "address": v.address });
    let after = PersonView {
        id,
        name_masked: mask::name(&checked.name),
        name: checked.name.clone(),
        gender: checked.gender.clone(),
        birth_year: opt_i64(&after_row, "birth_year"),
        phone: after_row.get("phone_mask"),
        id_number: after_row.get("id_mask"),
        address: after_row.get("address_mask"),
    };
    audit::record(
        &mut tx,
        actor,
        Change::new("person.update", "person", Some(id))
            .label(&after.name_masked)
            .before(masked(&before))
            .after(serde_json::json!({ "changed": changed, "values": masked(&after) })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
