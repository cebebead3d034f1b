//! The tally of an owners' vote over a 100,000-room estate (target: under 50 ms).
//!
//! Builds 200 buildings × 500 rooms with areas of 50–150 m² (hundredths), 2 % of the rooms
//! unsold by the developer, 5 % of the households buying two or three rooms, and a quarter of
//! the rooms held by co-owners; freezes the electorate (timed); lets 80 % of the voters cast a
//! random ballot from a fixed seed; then times `tally` for a yes/no matter, an election
//! (9 candidates, 5 seats) and a choice among 4 options — 20 runs each after a warm-up, median
//! and maximum — and checks each tally's totals against the sums made while generating. Last,
//! it seals the yes/no ballots into a chain and times the whole `redbutler vote verify` path
//! (parse, digest, chain, recount) on the export.
//!
//! Run: `cargo bench --bench vote_tally` (optionally `VOTE_BENCH_ROOMS=20000`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redbutler::votes::chain::{self, BallotChannel, NewBallot};
use redbutler::votes::electorate::{Electorate, OwnerRef, RoomInput, DEVELOPER_KEY};
use redbutler::votes::export::{self, Export, ExportHeader};
use redbutler::votes::model::{Choice, Matter};
use redbutler::votes::rules::Thresholds;
use redbutler::votes::tally::{self, Amount, Counts, Form, Tally};
use redbutler::votes::verify;

const BUILDINGS: i64 = 200;
const DEVELOPER_ORG: i64 = 1;

/// A voter as generated: its key and its area, to check the tally against.
struct Household {
    key: String,
    area: u64,
    rooms: usize,
}

/// The estate's rooms and its voters (households plus the developer), as generated.
fn estate(rng: &mut ChaCha8Rng, rooms_total: i64) -> (Vec<RoomInput>, Vec<Household>, u64) {
    let per_building = (rooms_total / BUILDINGS).max(1);
    let mut rooms = Vec::new();
    let mut households: Vec<Household> = Vec::new();
    let mut developer = Household {
        key: DEVELOPER_KEY.to_owned(),
        area: 0,
        rooms: 0,
    };
    let mut next_person = 1_000i64;
    let mut total_area = 0u64;
    // A multi-room buyer waiting for more rooms: (owners, household, rooms still to give).
    let mut pending: Option<(Vec<i64>, usize, usize)> = None;
    for b in 0..BUILDINGS {
        for r in 0..per_building {
            let room_id = 1_000_000 + b * 1_000 + r;
            let area: i64 = rng.gen_range(5_000..=15_000);
            total_area += area as u64;
            let mut room = RoomInput {
                room_id,
                registered_area: Some(area),
                surveyed_area: None,
                contract_area: None,
                developer_unsold: false,
                owners: Vec::new(),
            };
            if rng.gen_range(0..100) < 2 {
                room.developer_unsold = true;
                room.owners = vec![OwnerRef::Org(DEVELOPER_ORG)];
                developer.area += area as u64;
                developer.rooms += 1;
                rooms.push(room);
                continue;
            }
            // Give the room to a multi-room buyer still waiting for rooms, else a new household.
            let (owners, index) = match pending.take() {
                Some((owners, index, left)) => {
                    if left > 1 {
                        pending = Some((owners.clone(), index, left - 1));
                    }
                    (owners, index)
                }
                None => {
                    let n = if rng.gen_range(0..4) == 0 { 2 } else { 1 };
                    let owners: Vec<i64> = (0..n).map(|k| next_person + k).collect();
                    next_person += n;
                    let mut ids = owners.clone();
                    ids.sort_unstable();
                    let key = ids
                        .iter()
                        .map(|id| format!("p:{id}"))
                        .collect::<Vec<_>>()
                        .join("+");
                    households.push(Household {
                        key,
                        area: 0,
                        rooms: 0,
                    });
                    if rng.gen_range(0..100) < 5 {
                        // This household buys one or two more rooms, the next ones built.
                        pending =
                            Some((owners.clone(), households.len() - 1, rng.gen_range(1..=2)));
                    }
                    (owners, households.len() - 1)
                }
            };
            room.owners = owners.iter().map(|&id| OwnerRef::Person(id)).collect();
            room.owners.shuffle(rng);
            households[index].area += area as u64;
            households[index].rooms += 1;
            rooms.push(room);
        }
    }
    if developer.area > 0 {
        households.push(developer);
    }
    rooms.shuffle(rng);
    (rooms, households, total_area)
}

fn stats(mut runs: Vec<Duration>) -> (f64, f64) {
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = (ms(runs[runs.len() / 2 - 1]) + ms(runs[runs.len() / 2])) / 2.0;
    (median, ms(*runs.last().unwrap_or(&Duration::ZERO)))
}

/// Warm-up, then 20 timed runs; prints and returns the last result.
fn time<T>(name: &str, runs: usize, mut f: impl FnMut() -> T) -> T {
    let started = Instant::now();
    let mut out = f();
    let first = started.elapsed();
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let next = std::hint::black_box(f());
        times.push(t.elapsed());
        // The previous result is dropped outside the timed span.
        out = next;
    }
    let (median, max) = stats(times);
    println!(
        "{name}: median {median:.2} ms, max {max:.2} ms over {runs} runs (warm-up {:.2} ms)",
        first.as_secs_f64() * 1000.0
    );
    out
}

fn add(a: &mut Amount, area: u64) {
    a.area += area;
    a.owners += 1;
}

/// Checks what every tally must agree with: the electorate's and the participants' sums.
fn check_totals(t: &Tally, total_area: u64, voters: usize, part: Amount) {
    assert_eq!(t.total.area, total_area, "total area");
    assert_eq!(t.total.owners, voters as u64, "total owners");
    assert_eq!(t.participating, part, "participating");
    assert!(
        t.issues.is_empty(),
        "issues: {:?}",
        &t.issues[..t.issues.len().min(3)]
    );
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: only check that it
    // builds then; the measurement runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("vote_tally: run with `cargo bench --bench vote_tally`");
        return;
    }
    let n: i64 = std::env::var("VOTE_BENCH_ROOMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(278);
    let (rooms, households, total_area) = estate(&mut rng, n);
    let multi = households
        .iter()
        .filter(|h| h.key != DEVELOPER_KEY && h.rooms > 1)
        .count();
    println!(
        "estate: {} rooms, {} voters ({} holding several rooms), {} unsold rooms, total area {} (0.01 m²)",
        rooms.len(),
        households.len(),
        multi,
        rooms.iter().filter(|r| r.developer_unsold).count(),
        total_area
    );

    let e = time("freeze the electorate", 5, || Electorate::freeze(&rooms));
    assert!(
        e.is_clean(),
        "problems: {:?}",
        &e.problems[..e.problems.len().min(3)]
    );
    assert_eq!(e.total_area, total_area);
    assert_eq!(e.voters.len(), households.len());
    let by_key: HashMap<&str, u64> = e.voters.iter().map(|v| (v.key.as_str(), v.area)).collect();
    for h in &households {
        assert_eq!(by_key.get(h.key.as_str()), Some(&h.area), "voter {}", h.key);
    }

    // 80 % take part; each draws its three ballots (one per form) from the same seed.
    let mut part = Amount::default();
    let mut yes_no: Vec<(&str, Choice)> = Vec::new();
    let mut election: Vec<(&str, Choice)> = Vec::new();
    let mut options: Vec<(&str, Choice)> = Vec::new();
    let (mut yes, mut no, mut abstain) = (Amount::default(), Amount::default(), Amount::default());
    let mut cand = [Amount::default(); 9];
    let mut blank = Amount::default();
    let mut opt = [Amount::default(); 4];
    let mut opt_abstain = Amount::default();
    for h in &households {
        if rng.gen_range(0..100) >= 80 {
            continue;
        }
        add(&mut part, h.area);
        let c = match rng.gen_range(0..100) {
            0..=59 => {
                add(&mut yes, h.area);
                Choice::Yes
            }
            60..=89 => {
                add(&mut no, h.area);
                Choice::No
            }
            _ => {
                add(&mut abstain, h.area);
                Choice::Abstain
            }
        };
        yes_no.push((&h.key, c));
        let k = rng.gen_range(0..=5usize);
        let mut ids: Vec<u32> = (1..=9).collect();
        ids.shuffle(&mut rng);
        ids.truncate(k);
        if ids.is_empty() {
            add(&mut blank, h.area);
        }
        for &id in &ids {
            add(&mut cand[id as usize - 1], h.area);
        }
        election.push((&h.key, Choice::Candidates { ids }));
        let id = match rng.gen_range(0..10u32) {
            0 => None,
            x => Some(x % 4 + 1),
        };
        match id {
            None => add(&mut opt_abstain, h.area),
            Some(i) => add(&mut opt[i as usize - 1], h.area),
        }
        options.push((&h.key, Choice::Option { id }));
    }
    println!(
        "ballots: {} ({:.1} % of voters), area {} of {total_area}",
        yes_no.len(),
        100.0 * yes_no.len() as f64 / households.len() as f64,
        part.area
    );

    let th = Thresholds::for_matter(Matter::PropertyCompany);
    let t = time("tally, yes/no", 20, || {
        tally::tally(&e, &Form::YesNo, &th, &yes_no)
    });
    check_totals(&t, total_area, households.len(), part);
    match &t.counts {
        Counts::YesNo(c) => {
            assert_eq!((c.yes, c.no, c.abstain), (yes, no, abstain));
            assert_eq!(c.invalid, Amount::default());
        }
        other => panic!("yes/no counted as {other:?}"),
    }
    println!("  outcome {:?}", t.outcome);

    let form = Form::Election {
        seats: 5,
        candidates: 9,
    };
    let th = Thresholds::for_matter(Matter::OwnersCommittee);
    let t = time("tally, election of 5 among 9", 20, || {
        tally::tally(&e, &form, &th, &election)
    });
    check_totals(&t, total_area, households.len(), part);
    match &t.counts {
        Counts::Election(c) => {
            for cc in &c.candidates {
                assert_eq!(
                    cc.support,
                    cand[cc.candidate as usize - 1],
                    "candidate {}",
                    cc.candidate
                );
            }
            assert_eq!(c.candidates.len(), 9);
            assert_eq!(c.blank, blank);
            assert_eq!(c.invalid, Amount::default());
        }
        other => panic!("election counted as {other:?}"),
    }
    println!("  outcome {:?}", t.outcome);

    let form = Form::Options { count: 4 };
    let t = time("tally, 4 options", 20, || {
        tally::tally(&e, &form, &th, &options)
    });
    check_totals(&t, total_area, households.len(), part);
    match &t.counts {
        Counts::Options(c) => {
            for oc in &c.options {
                assert_eq!(
                    oc.support,
                    opt[oc.option as usize - 1],
                    "option {}",
                    oc.option
                );
            }
            assert_eq!(c.options.len(), 4);
            assert_eq!(c.abstain, opt_abstain);
            assert_eq!(c.invalid, Amount::default());
        }
        other => panic!("options counted as {other:?}"),
    }
    println!("  outcome {:?}", t.outcome);

    // The whole verification of the yes/no vote's export, as `redbutler vote verify` runs it.
    let th = Thresholds::for_matter(Matter::PropertyCompany);
    let mut x = Export {
        format: export::FORMAT.into(),
        header: ExportHeader {
            vote_id: 1,
            subdistrict_code: "bench".into(),
            title: "选聘物业服务企业".into(),
            matter: Matter::PropertyCompany,
            form: serde_json::to_value(Form::YesNo).unwrap_or_default(),
            thresholds: serde_json::to_value(th).unwrap_or_default(),
            thresholds_canonical: serde_json::to_string(&th).unwrap_or_default(),
            scope: serde_json::json!({"estate": 1}),
            record_date: "2026-06-01".into(),
            period_start_ms: 1_780_000_000_000,
            period_end_ms: 1_781_000_000_000,
            electorate_digest: String::new(),
            published_result: serde_json::Value::Null,
        },
        electorate: verify::export_voters(&e),
        ballots: Vec::new(),
        head_hash: String::new(),
    };
    x.header.electorate_digest = x.computed_electorate_digest();
    let h = x.header.chain_header();
    for (i, (key, choice)) in yes_no.iter().enumerate() {
        let r = chain::append_after(
            &h,
            x.ballots.last(),
            NewBallot {
                vote_id: 1,
                voter_key: (*key).to_owned(),
                choice: choice.clone(),
                channel: BallotChannel::Online,
                cast_by: (*key).to_owned(),
                confirmed_by: None,
                proxy_attachment_sha256: None,
                cast_at_ms: 1_780_000_000_000 + i as i64,
            },
        );
        x.ballots.push(r);
    }
    x.head_hash = chain::head(&h, &x.ballots);
    let published = tally::tally(&e, &Form::YesNo, &th, &yes_no);
    x.header.published_result = serde_json::to_value(&published).unwrap_or_default();
    let json = export::to_json(&x);
    println!("export: {:.1} MB", json.len() as f64 / 1e6);
    let report = time(
        "verify the export (parse, digest, chain, recount)",
        5,
        || verify::verify_file(json.as_bytes()),
    );
    match report {
        Ok(r) => assert!(r.ok, "{:?}", r.render(redbutler::i18n::Lang::En)),
        Err(e) => panic!("export unreadable: {e}"),
    }
}
