//! The measures of a whole subdistrict over 1,000,000 cases (target: under 100 ms).
//!
//! Builds an SQLite database (`/tmp/bench/measures.db`, `synchronous=FULL`, WAL) with the
//! demo subdistrict's tree, then 1,000,000 synthetic cases driven through the real state
//! machine (`lifecycle::apply`: dispatched, contacted, paused, handled, verified with rework,
//! rated, re-handled …) over the year 2026, its grids and buildings and 30 categories, each
//! turned into its contribution by `measures::facts::Facts::of` and summed into the five
//! rollups with bulk inserts — exactly what the per-write hook would have left. Then times the
//! whole-subdistrict measures query (and the other views of the dashboard) 20 times each and
//! prints the median and the maximum.
//!
//! Run: `cargo bench --bench measures` (optionally `MEASURES_BENCH_CASES=100000`).

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redbutler::cases::category::CategoryTree;
use redbutler::cases::lifecycle::{
    apply, Action, ActorKind, Case, EvaluationChannel, Intake, Rating,
};
use redbutler::cases::measures::facts::Facts;
use redbutler::cases::measures::store::{self as mstore, grid_of_path, Bucket, Filter, Key};
use redbutler::storage::{Db, DbOptions};
use sqlx::Row;

const H: i64 = 3_600_000;
/// 2026-01-01T00:00 in Shanghai.
const YEAR_START: i64 = 1_767_225_600_000 - 8 * H;
const YEAR_MS: i64 = 365 * 24 * H;

fn step(c: Case, actor: ActorKind, action: Action, at: i64) -> Case {
    match apply(&c, &actor, &action, at) {
        Ok(t) => t.next,
        Err(r) => panic!("synthetic {:?} refused: {}", action.kind(), r.reason.en),
    }
}

/// One synthetic case, reported at `at`, owned by `owner`, driven to a random outcome.
fn synthetic(rng: &mut ChaCha8Rng, id: i64, at: i64, ops: i64, owner: i64) -> Case {
    let ops = ActorKind::OpsCentre { unit_id: ops };
    let unit = ActorKind::UnitStaff { unit_id: owner };
    let c = Case::open(id, Intake::Report, &ActorKind::Reporter, at).next;
    let r: u32 = rng.gen_range(0..100);
    if r < 3 {
        return c;
    }
    if r < 5 {
        return step(
            c,
            ops,
            Action::Reject {
                reason: "不予受理".into(),
            },
            at + H,
        );
    }
    let mut t = at + rng.gen_range(H / 6..4 * H);
    let c = step(c, ops, Action::Register, t);
    if r < 8 {
        return step(
            c,
            ops,
            Action::Close {
                reason: "当场答复".into(),
            },
            t + H,
        );
    }
    let c = step(
        c,
        ops,
        Action::Dispatch {
            unit_id: owner,
            first_contact_due_ms: t + 24 * H,
            due_ms: t + 5 * 24 * H,
        },
        t,
    );
    if r < 13 {
        return c;
    }
    t += rng.gen_range(H..30 * H);
    let mut c = step(c, unit, Action::FirstContact { note: None }, t);
    if rng.gen_range(0..10) == 0 {
        c = step(
            c,
            unit,
            Action::Pause {
                reason: "等居民".into(),
            },
            t + H,
        );
        t += rng.gen_range(2 * H..48 * H);
        c = step(
            c,
            unit,
            Action::Resume {
                first_contact_due_ms: None,
                due_ms: None,
            },
            t,
        );
    }
    if r < 18 {
        return c;
    }
    t += rng.gen_range(H..130 * H);
    let mut c = step(
        c,
        unit,
        Action::ReportHandled {
            summary: "已处理".into(),
        },
        t,
    );
    if r < 23 {
        return c;
    }
    if rng.gen_range(0..10) == 0 {
        c = step(
            c,
            ActorKind::Verifier,
            Action::Verify {
                passed: false,
                note: Some("返工".into()),
            },
            t + H,
        );
        t += rng.gen_range(2 * H..48 * H);
        c = step(
            c,
            unit,
            Action::ReportHandled {
                summary: "返工完成".into(),
            },
            t,
        );
    }
    t += rng.gen_range(H..24 * H);
    let mut c = step(
        c,
        ActorKind::Verifier,
        Action::Verify {
            passed: true,
            note: None,
        },
        t,
    );
    if rng.gen_range(0..10) < 7 {
        let rating = [1u8, 2, 3, 4, 4, 5, 5, 5, 5, 5][rng.gen_range(0..10)];
        t += rng.gen_range(H..48 * H);
        c = step(
            c,
            ActorKind::Reporter,
            Action::Evaluate {
                rating: Rating::new(rating).unwrap_or_else(|| unreachable!()),
                comment: None,
                channel: EvaluationChannel::Online,
                rehandling_due_ms: t + 3 * 24 * H,
            },
            t,
        );
        if rating < 3 {
            t += rng.gen_range(H..60 * H);
            c = step(
                c,
                unit,
                Action::ReportHandled {
                    summary: "重办".into(),
                },
                t,
            );
            c = step(
                c,
                ActorKind::Verifier,
                Action::Verify {
                    passed: true,
                    note: None,
                },
                t + H,
            );
        }
    }
    c
}

fn stats(mut runs: Vec<Duration>) -> (f64, f64) {
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = (ms(runs[runs.len() / 2 - 1]) + ms(runs[runs.len() / 2])) / 2.0;
    (median, ms(*runs.last().unwrap_or(&Duration::ZERO)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: only check that it
    // builds then; the measurement runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("measures: run with `cargo bench --bench measures`");
        return Ok(());
    }
    let n: i64 = std::env::var("MEASURES_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::Path::new("/tmp/bench");
    std::fs::create_dir_all(dir)?;
    let path = dir.join("measures.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let started = Instant::now();
    let db = Db::open(
        path.to_str().unwrap_or("/tmp/bench/measures.db"),
        &DbOptions::default(),
    )
    .await?;
    let seal = redbutler::pii::Seal::from_key(&[7; 32]);
    redbutler::demo::load(&db, &seal, 1).await?;
    let sid: i64 =
        sqlx::query("SELECT subdistrict_id FROM subdistricts ORDER BY subdistrict_id LIMIT 1")
            .fetch_one(db.read())
            .await?
            .get(0);
    // Places: grids and everything below them.
    let places: Vec<(i64, String)> = sqlx::query(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('grid', 'building', 'unit', 'village_group') ORDER BY id",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let grids = places
        .iter()
        .filter(|(id, p)| grid_of_path(p, *id) == *id)
        .count();
    let tree = CategoryTree::seeded();
    let categories: Vec<String> = tree
        .depth_first()
        .into_iter()
        .map(|(_, c)| c.code.clone())
        .filter(|c| tree.is_leaf(c))
        .take(30)
        .collect();
    println!(
        "demo loaded in {:.1} s: {} places ({grids} grids), {} categories",
        started.elapsed().as_secs_f64(),
        places.len(),
        categories.len()
    );

    // Cases → contributions → rollup rows, as the per-write hook would have summed them.
    let gen = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(20261201);
    let mut sums = mstore::Rollups::default();
    let mut total = Facts::default();
    for i in 0..n {
        let (node_id, node_path) = &places[rng.gen_range(0..places.len())];
        let grid = grid_of_path(node_path, *node_id);
        let community = redbutler::tree::model::path_ids(node_path)
            .get(1)
            .copied()
            .unwrap_or(grid);
        let owner = if rng.gen_range(0..5) == 0 {
            community
        } else {
            grid
        };
        let at = YEAR_START + rng.gen_range(0..YEAR_MS);
        let category = &categories[rng.gen_range(0..categories.len())];
        let c = synthetic(&mut rng, i + 1, at, sid, owner);
        let f = Facts::of(&c);
        total = total.plus(f);
        let key = Key::for_case(&c, *node_id, category);
        sums.add(key, grid, f);
    }
    println!(
        "{n} synthetic cases generated in {:.1} s: rollup rows: {} per day and node, {} per month \
         and grid, {} per day and grid, {} per day and category",
        gen.elapsed().as_secs_f64(),
        sums.days.len(),
        sums.months.len(),
        sums.by_grid.len(),
        sums.whole.len()
    );
    let load = Instant::now();
    let mut tx = db.begin().await?;
    sums.write(&mut tx, db.dialect(), sid).await?;
    tx.commit().await?;
    db.analyze().await?;
    println!("rollups written in {:.1} s", load.elapsed().as_secs_f64());

    let year = Filter::whole(20260101, 20261231);
    let got = mstore::totals(&db, sid, &year).await?;
    assert_eq!(got, total, "the query sums what was generated");
    let text: Vec<String> = got
        .measures()
        .iter()
        .map(|m| format!("{} {}", m.kind.code(), m.value_text()))
        .collect();
    println!(
        "whole subdistrict, 2026: {} cases; {}",
        got.reported,
        text.join(", ")
    );

    let edges = Filter::whole(20260115, 20261120);
    let (_, community_path) = &places[0];
    let community = redbutler::tree::model::path_ids(community_path)
        .get(1)
        .copied()
        .unwrap_or(sid);
    let community_path: String =
        sqlx::query("SELECT path FROM nodes WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(community)
            .fetch_one(db.read())
            .await?
            .get(0);
    let one_community = Filter {
        scope_path: Some(community_path),
        ..year.clone()
    };
    let views: Vec<(&str, Filter, u8)> = vec![
        ("totals, whole subdistrict, year 2026", year.clone(), 0),
        (
            "totals, whole subdistrict, 2026-01-15..2026-11-20 (edges from the daily rollup)",
            edges,
            0,
        ),
        ("totals, one community, year 2026", one_community, 0),
        (
            "series by month, whole subdistrict, year 2026",
            year.clone(),
            1,
        ),
        ("per grid, whole subdistrict, year 2026", year.clone(), 2),
        (
            "per grid, whole subdistrict, 2026-01-15..2026-11-20",
            Filter::whole(20260115, 20261120),
            2,
        ),
        (
            "totals, whole subdistrict, December 2026",
            Filter::whole(20261201, 20261231),
            0,
        ),
        (
            "totals, whole subdistrict, one category root, year 2026",
            Filter {
                category: Some(categories[0].split('.').next().unwrap_or("env").to_string()),
                ..year.clone()
            },
            0,
        ),
        (
            "totals, whole subdistrict, one owning unit, year 2026 (monthly per-grid rollup)",
            Filter {
                owner_unit: Some(grid_of_path(&places[0].1, places[0].0)),
                ..year.clone()
            },
            0,
        ),
    ];
    for (name, f, kind) in views {
        let run = || async {
            let t = Instant::now();
            match kind {
                0 => {
                    mstore::totals(&db, sid, &f).await?;
                }
                1 => {
                    mstore::series(&db, sid, &f, Bucket::Month).await?;
                }
                _ => {
                    mstore::by_grid(&db, sid, &f).await?;
                }
            }
            Ok::<Duration, redbutler::error::Error>(t.elapsed())
        };
        let first = run().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut runs = Vec::new();
        for _ in 0..20 {
            runs.push(run().await.map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        let (median, max) = stats(runs);
        println!(
            "{name}: median {median:.1} ms, max {max:.1} ms over 20 runs (first run {:.1} ms)",
            first.as_secs_f64() * 1000.0
        );
    }
    db.close().await;
    Ok(())
}
