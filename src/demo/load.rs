//! Writes a demo plan into the database: one transaction per subdistrict, bulk inserts,
//! materialised paths built in memory, personal data sealed on every core beforehand.

use anyhow::Context;
use serde_json::json;

use super::generate::{Owner, Plan};
use crate::access::store::At;
use crate::access::{self, Actor, Role};
use crate::audit::{self, Change};
use crate::auth::users::{self, NewUser};
use crate::people::store::{person_cells, seal_person, SealedPerson, PERSON_COLUMNS};
use crate::pii::Seal;
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{next_id, Db, Tx};
use crate::tree::{model, store as tree_store};

/// Seals every person of the plan, splitting the work over the machine's cores.
pub fn seal_all(plan: &Plan, seal: &Seal) -> Vec<SealedPerson> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let chunk = plan.persons.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = plan
            .persons
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|p| seal_person(seal, p)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("sealing thread"))
            .collect()
    })
}

/// The demo accounts' password hashes: one per account, computed one after another on
/// one blocking thread (argon2 takes 19 MiB and tens of milliseconds each; on a small
/// machine parallel hashing would starve the generator), awaited when the first
/// accounts are created, then reused by every copy.
pub struct Hashes {
    pending: Option<tokio::task::JoinHandle<Vec<String>>>,
    done: Vec<String>,
}

impl Hashes {
    pub fn start(password: &'static str, n: usize) -> Hashes {
        Hashes {
            pending: Some(tokio::task::spawn_blocking(move || {
                (0..n)
                    .map(|_| crate::auth::password::hash(password))
                    .collect()
            })),
            done: Vec::new(),
        }
    }

    pub async fn get(&mut self) -> anyhow::Result<&[String]> {
        if let Some(h) = self.pending.take() {
            self.done = h.await.context("hashing the demo passwords")?;
        }
        Ok(&self.done)
    }
}

/// What one subdistrict holds once loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loaded {
    pub subdistrict_id: i64,
    pub grids: u64,
    pub rooms: u64,
    pub people: u64,
}

/// Ids given to the plan's parts in one subdistrict.
struct Ids {
    sid: i64,
    nodes: Vec<i64>,
    orgs: Vec<i64>,
    rooms: Vec<i64>,
    persons: Vec<i64>,
}

impl Ids {
    fn node(&self, i: Option<usize>) -> i64 {
        i.map_or(self.sid, |i| self.nodes[i])
    }
}

/// Loads one copy of the plan as the subdistrict `code` / `name`, with the demo accounts
/// (their password hashes given in the order of [`super::ACCOUNTS`]).
pub async fn load_one(
    db: &Db,
    plan: &Plan,
    sealed: tokio::task::JoinHandle<Vec<SealedPerson>>,
    code: &str,
    name: &str,
    hashes: &mut Hashes,
) -> anyhow::Result<Loaded> {
    crate::storage::memo::changed();
    let now = crate::clock::now_ms();
    let started = std::time::Instant::now();
    let step = |what: &str| {
        tracing::debug!(
            code,
            step = what,
            ms = started.elapsed().as_millis() as u64,
            "demo load"
        );
    };
    let dialect = db.dialect();
    let mut tx = db.begin().await?;
    let sub = tree_store::create_subdistrict(&mut tx, code, name)
        .await
        .with_context(|| format!("creating subdistrict {code}"))?;
    let sid = sub.id;
    let root_path = format!("/{sid}/");
    let actor = Actor::cli(sid, &root_path);

    // The tree: parents come before their children in the plan.
    let mut ids = Ids {
        sid,
        nodes: Vec::with_capacity(plan.nodes.len()),
        orgs: Vec::with_capacity(plan.orgs.len()),
        rooms: Vec::with_capacity(plan.rooms.len()),
        persons: Vec::with_capacity(plan.persons.len()),
    };
    let mut paths: Vec<String> = Vec::with_capacity(plan.nodes.len());
    let mut ins = Inserter::for_db(dialect, "nodes", &crate::tree::store::NODE_COLUMNS);
    for n in &plan.nodes {
        let id = next_id();
        let parent_id = ids.node(n.parent);
        let path = model::child_path(n.parent.map_or(&root_path, |p| &paths[p]), id);
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                id.into(),
                parent_id.into(),
                n.kind.as_str().into(),
                n.track.as_str().into(),
                n.name.clone().into(),
                n.code_suffix.as_ref().map(|s| format!("{code}{s}")).into(),
                path.clone().into(),
                n.depth.into(),
                n.sort_key.into(),
                now.into(),
            ],
        )
        .await?;
        ids.nodes.push(id);
        paths.push(path);
    }
    ins.flush(&mut tx).await?;
    step("nodes");

    let mut ins = Inserter::for_db(
        dialect,
        "orgs",
        &[
            "subdistrict_id",
            "id",
            "kind",
            "name",
            "node_id",
            "created_at",
        ],
    );
    for o in &plan.orgs {
        let id = next_id();
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                id.into(),
                o.kind.into(),
                o.name.clone().into(),
                ids.node(o.node).into(),
                now.into(),
            ],
        )
        .await?;
        ids.orgs.push(id);
    }
    ins.flush(&mut tx).await?;
    step("orgs");

    let mut ins = Inserter::for_db(
        dialect,
        "venues",
        &[
            "subdistrict_id",
            "id",
            "kind",
            "name",
            "node_id",
            "address",
            "hours",
            "created_at",
        ],
    );
    for v in &plan.venues {
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                next_id().into(),
                v.kind.into(),
                v.name.clone().into(),
                ids.node(v.node).into(),
                v.address.clone().into(),
                v.hours.into(),
                now.into(),
            ],
        )
        .await?;
    }
    ins.flush(&mut tx).await?;
    step("venues");

    let mut ins = Inserter::for_db(dialect, "rooms", &crate::tree::store::ROOM_COLUMNS);
    for r in &plan.rooms {
        let id = next_id();
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                id.into(),
                ids.nodes[r.node].into(),
                r.number.clone().into(),
                r.floor.into(),
                r.registered_area.into(),
                r.surveyed_area.into(),
                r.contract_area.into(),
                i64::from(r.developer_unsold).into(),
                now.into(),
            ],
        )
        .await?;
        ids.rooms.push(id);
    }
    ins.flush(&mut tx).await?;
    step("rooms");

    let sealed = sealed.await.context("sealing personal data")?;
    step("sealed");
    anyhow::ensure!(
        sealed.len() == plan.persons.len(),
        "sealed {} of {} persons",
        sealed.len(),
        plan.persons.len()
    );
    let mut ins = Inserter::for_db(dialect, "persons", &PERSON_COLUMNS);
    for (p, s) in plan.persons.iter().zip(sealed) {
        let id = next_id();
        ins.push(&mut tx, person_cells(sid, id, p, s, now)).await?;
        ids.persons.push(id);
    }
    ins.flush(&mut tx).await?;
    step("persons");

    let mut households = Vec::with_capacity(plan.households.len());
    let mut ins = Inserter::for_db(
        dialect,
        "households",
        &crate::people::store::HOUSEHOLD_COLUMNS,
    );
    for h in &plan.households {
        let id = next_id();
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                id.into(),
                ids.nodes[h.node].into(),
                h.room.map(|r| ids.rooms[r]).into(),
                h.label.clone().into(),
                now.into(),
            ],
        )
        .await?;
        households.push(id);
    }
    ins.flush(&mut tx).await?;
    step("households");

    let mut ins = Inserter::for_db(
        dialect,
        "household_members",
        &crate::people::store::MEMBER_COLUMNS,
    );
    for &(h, p, relation) in &plan.members {
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                households[h].into(),
                ids.persons[p].into(),
                relation.into(),
            ],
        )
        .await?;
    }
    ins.flush(&mut tx).await?;
    step("household_members");

    let mut ins = Inserter::for_db(dialect, "room_owners", &crate::people::store::OWNER_COLUMNS);
    for &(r, owner) in &plan.owners {
        let (person, org) = match owner {
            Owner::Person(p) => (ids.persons[p], 0),
            Owner::Org(o) => (0, ids.orgs[o]),
        };
        ins.push(
            &mut tx,
            vec![
                sid.into(),
                ids.rooms[r].into(),
                Cell::Int(person),
                Cell::Int(org),
            ],
        )
        .await?;
    }
    ins.flush(&mut tx).await?;
    step("room_owners");

    for ((username, _), hash) in super::ACCOUNTS.iter().zip(hashes.get().await?) {
        create_account(&mut tx, &actor, plan, &ids, username, hash.clone()).await?;
    }

    // Two years of property governance history, so the figures the seed reports show up.
    crate::property::companies::seed::seed_history(&mut tx, &actor, sid, crate::clock::now_ms())
        .await?;
    step("governance history");
    // Owners' committees with 21 re-elections, the joint offices, lawyer mediation and the
    // maintenance fund of the first estates (see each part's `seed.rs`).
    crate::property::committees::seed::seed_committees(&mut tx, &actor, sid, now).await?;
    let offices = crate::property::office::seed::seed_offices(&mut tx, &actor, sid, now).await?;
    crate::property::mediation::seed::seed_mediation(&mut tx, &actor, sid, now).await?;
    crate::property::fund::seed::seed_funds(&mut tx, &actor, sid, now).await?;
    step("committees, offices, mediation, fund");
    let loaded = Loaded {
        subdistrict_id: sid,
        grids: plan.count(crate::tree::NodeKind::Grid) as u64,
        rooms: plan.rooms.len() as u64,
        people: plan.persons.len() as u64,
    };
    audit::record(
        &mut tx,
        &actor,
        Change::new("demo.load", "subdistrict", Some(sid))
            .label(name)
            .after(json!({
                "code": code,
                "seed": super::generate::SEED,
                "nodes": plan.nodes.len(),
                "grids": loaded.grids,
                "rooms": loaded.rooms,
                "persons": loaded.people,
                "households": plan.households.len(),
                "accounts": super::ACCOUNTS.len(),
            })),
    )
    .await?;
    step("accounts");
    tx.commit().await?;
    step("commit");
    // Cases open only through the case store's group commit, so after the load commits.
    crate::property::office::seed::raise_cases(db, &actor, &offices.to_raise).await?;
    step("office matters raised as cases");
    // Public income accounts (a published quarter, its top-up of the funds) and an audit
    // engagement, through the ordinary stores; a failure is logged, the demo still starts.
    match crate::property::income::seed::seed_income(db, &actor, sid, crate::clock::now_ms()).await
    {
        Ok(s) => tracing::debug!(?s, "public income and audit seeded"),
        Err(e) => tracing::warn!(error = %e, "seeding public income and audits failed"),
    }
    step("public income and audit");
    Ok(loaded)
}

/// One demo account and its roles.
async fn create_account(
    tx: &mut Tx,
    actor: &Actor,
    plan: &Plan,
    ids: &Ids,
    username: &str,
    hash: String,
) -> anyhow::Result<()> {
    let a = &plan.anchors;
    let node = |i: usize| At {
        node_id: Some(ids.nodes[i]),
        ..Default::default()
    };
    let node_org = |i: Option<usize>, o: usize| At {
        node_id: Some(ids.node(i)),
        org_id: Some(ids.orgs[o]),
        ..Default::default()
    };
    let root = At {
        node_id: Some(ids.sid),
        ..Default::default()
    };
    let mut person_id = None;
    let (display, grants): (String, Vec<(Role, At)>) = match username {
        "admin" => ("街道管理员".into(), vec![(Role::SubdistrictAdmin, root)]),
        "staff" => ("街道工作人员".into(), vec![(Role::SubdistrictStaff, root)]),
        "zhangbang" => (
            "章浜居民区社工".into(),
            vec![(Role::CommunityStaff, node(a.zhangbang))],
        ),
        "jinmi" => (
            "金米村村委干部".into(),
            vec![(Role::CommunityStaff, node(a.jinmi))],
        ),
        "gridleader" => (
            "章浜一网格网格长".into(),
            vec![(Role::GridLeader, node(a.zhangbang_grid))],
        ),
        "gridmember" => (
            "章浜一网格网格员".into(),
            vec![(Role::GridMember, node(a.zhangbang_grid))],
        ),
        "buildingleader" => (
            "城中东路311号楼长".into(),
            vec![(Role::BuildingLeader, node(a.building_311))],
        ),
        "groupleader" => (
            "金米村第一村民小组组长".into(),
            vec![(Role::VillageGroupLeader, node(a.jinmi_group))],
        ),
        "resident" => {
            person_id = Some(ids.persons[a.resident_person]);
            (
                plan.persons[a.resident_person].name.clone(),
                vec![
                    (Role::Resident, At::default()),
                    (
                        Role::Owner,
                        At {
                            room_id: Some(ids.rooms[a.resident_room]),
                            ..Default::default()
                        },
                    ),
                ],
            )
        }
        "owners" => (
            "章浜新村业委会委员".into(),
            vec![(
                Role::OwnersCommitteeMember,
                node_org(Some(a.zhangbang), a.owners_committee),
            )],
        ),
        "property" => (
            "章浜新村物业经理".into(),
            vec![(
                Role::PropertyStaff,
                node_org(Some(a.zhangbang), a.property_company),
            )],
        ),
        "auditor" => (
            "审计师".into(),
            vec![(Role::Auditor, node_org(None, a.audit_firm))],
        ),
        "lawyer" => (
            "驻点律师".into(),
            vec![(Role::Lawyer, node_org(None, a.law_firm))],
        ),
        "socialorg" => (
            plan.orgs[a.social_org].name.clone(),
            vec![(Role::SocialOrg, node_org(None, a.social_org))],
        ),
        "pairing" => {
            let o = &plan.orgs[a.pairing_unit];
            (
                o.name.clone(),
                vec![(Role::PairingUnit, node_org(o.node, a.pairing_unit))],
            )
        }
        other => anyhow::bail!("no demo account {other:?}"),
    };
    let user = users::create(
        tx,
        actor,
        &NewUser {
            username: username.into(),
            display_name: display,
            password: String::new(),
            person_id,
        },
        Some(hash),
    )
    .await
    .with_context(|| format!("creating demo account {username}"))?;
    for (role, at) in grants {
        access::store::grant(tx, actor, user.id, role, at)
            .await
            .with_context(|| format!("granting {} to {username}", role.as_str()))?;
    }
    Ok(())
}
