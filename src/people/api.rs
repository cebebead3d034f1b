//! People API: households and people of a subtree (masked), a person, opening a field in
//! full (logged), registering a person.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, NewPerson, PersonView};
use crate::access::{allows, Action, Actor, Target};
use crate::api::Paging;
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::pii::{mask, Field};
use crate::tree::api::authorised_node;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/nodes/{id}/households", get(households))
        .route("/nodes/{id}/people", get(people))
        .route("/people", post(create))
        .route("/people/{id}", get(person).patch(update))
        .route("/people/{id}/reveal", post(reveal))
}

/// Loads a person and checks the actor may do `action` on them (their places decide).
pub async fn authorised_person(
    st: &AppState,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<PersonView> {
    let sid = actor.subdistrict_id;
    let person = store::person(&st.db, sid, id).await?;
    let paths = store::places(&st.db, sid, id).await?;
    let housemate = match actor.person_id {
        Some(me) if me != id => store::housemates(&st.db, sid, me, id).await?,
        _ => false,
    };
    if !allows(
        actor,
        action,
        Target::Person {
            person_id: id,
            paths: &paths,
            housemate_of_actor: housemate,
        },
    ) {
        return Err(Error::Forbidden);
    }
    Ok(person)
}

async fn households(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(p): Query<Paging>,
) -> Result<Json<Value>> {
    let node = authorised_node(&st, &actor, id, Action::ReadPeople).await?;
    let list = store::households_under(
        &st.db,
        actor.subdistrict_id,
        &node.path,
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(Json(json!({ "households": list })))
}

#[derive(Deserialize)]
struct PeopleQ {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn people(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<PeopleQ>,
) -> Result<Json<Value>> {
    let node = authorised_node(&st, &actor, id, Action::ReadPeople).await?;
    let paging = Paging {
        limit: q.limit,
        offset: q.offset,
    };
    let list = store::people_under(
        &st.db,
        actor.subdistrict_id,
        &node.path,
        q.q.as_deref().filter(|s| !s.trim().is_empty()),
        paging.limit(),
        paging.offset(),
    )
    .await?;
    // Lists show names masked.
    let list: Vec<Value> = list
        .into_iter()
        .map(|p| json!({ "id": p.id, "name": p.name_masked, "gender": p.gender, "birth_year": p.birth_year, "phone": p.phone, "id_number": p.id_number }))
        .collect();
    Ok(Json(json!({ "people": list })))
}

async fn person(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let person = authorised_person(&st, &actor, id, Action::ReadPeople).await?;
    let sid = actor.subdistrict_id;
    let households = store::households_of_person(&st.db, sid, id).await?;
    let rooms: Vec<_> = store::rooms_owned(&st.db, sid, id)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    Ok(Json(
        json!({ "person": person, "households": households, "rooms_owned": rooms }),
    ))
}

#[derive(Deserialize)]
struct RevealBody {
    field: String,
    #[serde(default)]
    reason: String,
}

/// Parses the field to open.
pub fn parse_field(s: &str) -> Result<Field> {
    Field::parse(s.trim()).ok_or_else(|| {
        Error::field(
            "field",
            Text::new(
                "字段应为 phone、id_number 或 address",
                "field is phone, id_number or address",
            ),
        )
    })
}

async fn reveal(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<RevealBody>,
) -> Result<Json<Value>> {
    let field = parse_field(&b.field)?;
    authorised_person(&st, &actor, id, Action::RevealPii(field)).await?;
    let value = store::reveal(&st.db, &st.seal, &actor, id, field, &b.reason).await?;
    Ok(Json(
        json!({ "person_id": id, "field": field, "value": value }),
    ))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    person: NewPerson,
    /// Join this household…
    household_id: Option<i64>,
    /// …or start a new one on this node (a building, unit or village group).
    node_id: Option<i64>,
    room_id: Option<i64>,
    household_label: Option<String>,
    #[serde(default)]
    relation: Option<String>,
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(b): Body<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let sid = actor.subdistrict_id;
    let checked = b.person.check().map_err(Error::Invalid)?;
    // Where the person lives decides who may register them.
    let node_id = match (b.household_id, b.node_id) {
        (Some(h), _) => {
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT node_id FROM households WHERE subdistrict_id = $1 AND id = $2",
            )
            .bind(sid)
            .bind(h)
            .fetch_optional(st.db.read())
            .await?;
            row.ok_or_else(|| {
                Error::field(
                    "household_id",
                    Text::new("该户不存在", "the household does not exist"),
                )
            })?
            .0
        }
        (None, Some(n)) => n,
        (None, None) => {
            return Err(Error::field(
                "household_id",
                Text::new(
                    "请指定所在的户,或新建户所在的楼栋/小组",
                    "give household_id, or node_id to start a new household",
                ),
            ))
        }
    };
    let node = authorised_node(&st, &actor, node_id, Action::EditRegistry).await?;
    if b.household_id.is_none() && !node.kind.holds_rooms() {
        return Err(Error::field(
            "node_id",
            Text::new(
                "户只能建在楼栋、单元或村民小组下",
                "a household belongs to a building, unit or village group",
            ),
        ));
    }
    let relation = b
        .relation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("head")
        .to_string();
    let mut tx = st.db.begin().await?;
    let pid = store::create_person(&mut tx, &st.seal, sid, &checked).await?;
    let household = match b.household_id {
        Some(h) => h,
        None => {
            let label = b
                .household_label
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(&checked.name)
                .to_string();
            store::create_household(&mut tx, sid, node_id, b.room_id, &label).await?
        }
    };
    store::add_member(&mut tx, sid, household, pid, &relation).await?;
    audit::record(
        &mut tx,
        &actor,
        Change::new("person.create", "person", Some(pid)).label(&mask::name(&checked.name)).after(json!({
            "household_id": household, "relation": relation, "phone": checked.phone.as_deref().map(mask::phone),
            "id_number": checked.id_number.as_deref().map(mask::id_number)
        })),
    )
    .await?;
    tx.commit().await?;
    let view = store::person(&st.db, sid, pid).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "person": view, "household_id": household })),
    ))
}

async fn update(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<store::PersonChanges>,
) -> Result<Json<Value>> {
    authorised_person(&st, &actor, id, Action::EditRegistry).await?;
    let view = store::update_person(&st.db, &st.seal, &actor, id, &b).await?;
    Ok(Json(json!({ "person": view })))
}
