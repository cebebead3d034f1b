//! What each subcommand does. Each opens the database (running migrations) first.

use std::io::Read;

use anyhow::{bail, Context};

use super::{Cli, Command, TokenCommand, UserCommand};
use crate::access::{self, Actor, Role};
use crate::auth::{tokens, users};
use crate::storage::{Db, Location};
use crate::tree::store as tree_store;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Vote(v) = &cli.command {
        return crate::votes::cli::run(v);
    }
    if let Command::Ledger(l) = &cli.command {
        return crate::property::fund::cli::run(l);
    }
    let (resolved, file) = super::resolve(&cli.global)?;
    if let Command::Demo(d) = &cli.command {
        if d.fresh {
            match Location::parse(&resolved.database)? {
                Location::Sqlite(p) => {
                    for suffix in ["", "-wal", "-shm"] {
                        let mut s = p.clone().into_os_string();
                        s.push(suffix);
                        let _ = std::fs::remove_file(s);
                    }
                }
                Location::Postgres(_) => bail!(
                    "--fresh works on SQLite files only; use an empty PostgreSQL database instead"
                ),
            }
        }
    }
    let db = Db::open(&resolved.database, &resolved.db_options()).await?;
    let result = run_command(&db, cli, resolved, file).await;
    // Closing checkpoints SQLite's write-ahead log into the database file.
    db.close().await;
    result
}

async fn run_command(
    db: &Db,
    cli: Cli,
    resolved: crate::config::Resolved,
    file: crate::config::FileConfig,
) -> anyhow::Result<()> {
    let db = db.clone();
    match cli.command {
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::Serve(args) => {
            let seal = resolved.seal()?;
            let listen = args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| crate::config::DEFAULT_LISTEN.into());
            let secure = args.secure_cookies || file.secure_cookies.unwrap_or(false);
            if args.demo {
                if tree_store::subdistricts(&db).await?.is_empty() {
                    let started = std::time::Instant::now();
                    let report = crate::demo::load(&db, &seal, 1).await?;
                    eprintln!(
                        "loaded the demo subdistrict in {:.2} s",
                        started.elapsed().as_secs_f64()
                    );
                    print_accounts(&report);
                } else {
                    eprintln!("the database holds data already; the demo was not loaded again");
                    print_accounts(&crate::demo::Report {
                        accounts: crate::demo::accounts(),
                        ..Default::default()
                    });
                }
            }
            serve(db, seal, &listen, secure).await
        }
        Command::Demo(args) => {
            let seal = resolved.seal()?;
            if !tree_store::subdistricts(&db).await?.is_empty() {
                bail!("the database is not empty; use --fresh (SQLite) or an empty database");
            }
            let started = std::time::Instant::now();
            let report = crate::demo::load(&db, &seal, args.scale).await?;
            println!(
                "loaded {} subdistrict(s), {} grids, {} rooms, {} people in {:.2} s",
                report.subdistricts,
                report.grids,
                report.rooms,
                report.people,
                started.elapsed().as_secs_f64()
            );
            print_accounts(&report);
            Ok(())
        }
        Command::User(cmd) => user(&db, cli.global.subdistrict.as_deref(), cmd).await,
        Command::Token(cmd) => token(&db, cli.global.subdistrict.as_deref(), cmd).await,
        Command::Vote(v) => crate::votes::cli::run(&v),
        Command::Ledger(l) => crate::property::fund::cli::run(&l),
        Command::Backup(args) => {
            db.backup(&args.path).await?;
            println!("wrote {}", args.path.display());
            Ok(())
        }
    }
}

fn print_accounts(report: &crate::demo::Report) {
    if report.accounts.is_empty() {
        return;
    }
    println!("demo accounts (password {}):", crate::demo::PASSWORD);
    for (user, role) in &report.accounts {
        println!("  {user:<20} {role}");
    }
}

async fn serve(db: Db, seal: crate::pii::Seal, listen: &str, secure: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(listen = %addr, "serving Red Butler");
    eprintln!("Red Butler is listening on http://{addr}/");
    let bg = db.clone();
    tokio::spawn(async move {
        if let Err(e) = bg.analyze().await {
            tracing::warn!(error = %e, "refreshing planner statistics failed");
        }
    });
    let state = crate::web::AppState::new(db.clone(), seal, secure);
    crate::notify::spawn_worker(state.clone());
    crate::cases::watch::spawn(state.clone());
    crate::property::committees::spawn(state.clone());
    let app = crate::web::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The subdistrict to act in, and the command line's actor there.
async fn cli_actor(db: &Db, code: Option<&str>) -> anyhow::Result<Actor> {
    let sub = match code {
        Some(c) => tree_store::subdistrict_by_code(db, c).await?.with_context(|| format!("no subdistrict with code {c:?}"))?,
        None => tree_store::subdistricts(db)
            .await?
            .into_iter()
            .next()
            .context("the database has no subdistrict yet; load one with `redbutler demo` or import a registry")?,
    };
    Ok(Actor::cli(sub.id, &format!("/{}/", sub.id)))
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("no password on standard input");
    }
    Ok(p)
}

fn explain(e: crate::error::Error) -> anyhow::Error {
    match e {
        crate::error::Error::Invalid(errors) => {
            anyhow::anyhow!(errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message.en))
                .collect::<Vec<_>>()
                .join("; "))
        }
        crate::error::Error::Internal(e) => e,
        other => anyhow::anyhow!("{}", other.problem(crate::i18n::Lang::En).detail),
    }
}

async fn find_user(db: &Db, actor: &Actor, name: &str) -> anyhow::Result<users::User> {
    users::by_username(db, actor.subdistrict_id, name)
        .await
        .map_err(explain)?
        .with_context(|| format!("no user {name:?}"))
}

async fn user(db: &Db, code: Option<&str>, cmd: UserCommand) -> anyhow::Result<()> {
    let actor = cli_actor(db, code).await?;
    match cmd {
        UserCommand::Add {
            username,
            display_name,
            person_id,
        } => {
            let password = read_password()?;
            let mut tx = db.begin().await?;
            let new = users::NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password,
                person_id,
            };
            let u = users::create(&mut tx, &actor, &new, None)
                .await
                .map_err(explain)?;
            tx.commit().await?;
            println!("added user {} (id {})", u.username, u.id);
        }
        UserCommand::Password { username } => {
            let u = find_user(db, &actor, &username).await?;
            let password = read_password()?;
            let mut tx = db.begin().await?;
            users::set_password(&mut tx, &actor, u.id, &password)
                .await
                .map_err(explain)?;
            tx.commit().await?;
            println!(
                "password of {} changed; their sessions have ended",
                u.username
            );
        }
        UserCommand::Grant {
            username,
            role,
            node,
            room,
            org,
        } => {
            let u = find_user(db, &actor, &username).await?;
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let at = access::store::At {
                node_id: node.or(match role.anchor() {
                    access::roles::Anchor::Node(k)
                        if k.contains(&crate::tree::NodeKind::Subdistrict) =>
                    {
                        Some(actor.subdistrict_id)
                    }
                    _ => None,
                }),
                room_id: room,
                org_id: org,
            };
            let mut tx = db.begin().await?;
            let id = access::store::grant(&mut tx, &actor, u.id, role, at)
                .await
                .map_err(explain)?;
            tx.commit().await?;
            println!("granted {} to {} (grant {id})", role.as_str(), u.username);
        }
        UserCommand::Revoke { username, grant_id } => {
            let u = find_user(db, &actor, &username).await?;
            let mut tx = db.begin().await?;
            access::store::revoke(&mut tx, &actor, u.id, grant_id)
                .await
                .map_err(explain)?;
            tx.commit().await?;
            println!("revoked grant {grant_id} of {}", u.username);
        }
        UserCommand::List => {
            for u in users::list(db, actor.subdistrict_id)
                .await
                .map_err(explain)?
            {
                let grants = access::store::grants_of(db, actor.subdistrict_id, u.id)
                    .await
                    .map_err(explain)?;
                let g: Vec<String> = grants
                    .iter()
                    .map(|g| {
                        format!(
                            "{}#{}@{}",
                            g.role.as_str(),
                            g.id,
                            g.node_id
                                .or(g.room_id)
                                .map_or("-".into(), |i| i.to_string())
                        )
                    })
                    .collect();
                println!("{:<20} {:<16} {}", u.username, u.display_name, g.join(" "));
            }
        }
    }
    Ok(())
}

async fn token(db: &Db, code: Option<&str>, cmd: TokenCommand) -> anyhow::Result<()> {
    let actor = cli_actor(db, code).await?;
    match cmd {
        TokenCommand::Create { user, name } => {
            let u = find_user(db, &actor, &user).await?;
            let mut tx = db.begin().await?;
            let (_, token) = tokens::create(&mut tx, &actor, u.id, &name)
                .await
                .map_err(explain)?;
            tx.commit().await?;
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            let mut tx = db.begin().await?;
            tokens::revoke(&mut tx, &actor, id).await.map_err(explain)?;
            tx.commit().await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}
