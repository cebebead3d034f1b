//! Multi-row inserts for loads (the demo, registry imports): one statement per chunk of
//! rows, within the caller's transaction.

use sqlx::any::AnyArguments;
use sqlx::Arguments;

use super::Tx;

/// One cell of a bulk row.
#[derive(Debug, Clone)]
pub enum Cell {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    NullInt,
    NullText,
    NullBlob,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Cell::NullInt, Cell::Int)
    }
}
impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::NullText, Cell::Text)
    }
}
impl From<Option<Vec<u8>>> for Cell {
    fn from(v: Option<Vec<u8>>) -> Self {
        v.map_or(Cell::NullBlob, Cell::Blob)
    }
}

/// Collects rows for one table and writes them in chunks.
pub struct Inserter {
    head: String,
    /// What follows the rows (an `ON CONFLICT` clause), or nothing.
    tail: String,
    /// SQLite looks named parameters (`$n`) up by a linear scan, which makes a statement of
    /// thousands of them quadratic; it binds anonymous `?` in order at no cost.
    anonymous: bool,
    columns: usize,
    rows: Vec<Vec<Cell>>,
    chunk: usize,
    pub written: u64,
}

impl Inserter {
    pub fn new(table: &str, columns: &[&str]) -> Self {
        let chunk = (30_000 / columns.len()).clamp(1, 1000);
        Inserter {
            head: format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")),
            tail: String::new(),
            anonymous: false,
            columns: columns.len(),
            rows: Vec::with_capacity(chunk),
            chunk,
            written: 0,
        }
    }

    /// An inserter with the placeholders that suit the dialect (`?` on SQLite, `$n` on
    /// PostgreSQL).
    pub fn for_db(dialect: super::Dialect, table: &str, columns: &[&str]) -> Self {
        let mut i = Self::new(table, columns);
        i.anonymous = dialect == super::Dialect::Sqlite;
        i
    }

    /// Appends `clause` (e.g. `ON CONFLICT (…) DO UPDATE SET …`) to every statement. Within
    /// one statement no two rows may hit the same key (PostgreSQL refuses that), so callers
    /// sum their rows per key first.
    pub fn on_conflict(mut self, clause: &str) -> Self {
        self.tail = format!(" {clause}");
        self
    }

    /// Adds a row; writes a chunk when one is full.
    pub async fn push(&mut self, tx: &mut Tx, row: Vec<Cell>) -> Result<(), sqlx::Error> {
        assert_eq!(row.len(), self.columns, "bulk row width");
        self.rows.push(row);
        if self.rows.len() >= self.chunk {
            self.flush(tx).await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut sql = String::with_capacity(self.head.len() + self.rows.len() * self.columns * 6);
        sql.push_str(&self.head);
        let mut args = AnyArguments::default();
        let mut n = 0;
        for (i, row) in self.rows.drain(..).enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for (j, cell) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(',');
                }
                n += 1;
                if self.anonymous {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                let r = match cell {
                    Cell::Int(v) => args.add(v),
                    Cell::Text(v) => args.add(v),
                    Cell::Blob(v) => args.add(v),
                    Cell::NullInt => args.add(None::<i64>),
                    Cell::NullText => args.add(None::<String>),
                    Cell::NullBlob => args.add(None::<Vec<u8>>),
                };
                r.map_err(sqlx::Error::Encode)?;
            }
            sql.push(')');
            self.written += 1;
        }
        sql.push_str(&self.tail);
        sqlx::query_with(&sql, args).execute(&mut **tx).await?;
        Ok(())
    }
}
