//! Rows that arrive as one JSON document built by the database ([`super::Db::json_array_sql`]):
//! an array of rows, each row an array of its columns in the query's output order.
//!
//! Positional rather than `{"column": value}` objects: the database writes no key twenty-five
//! times per row, and the parser matches no key and buffers nothing. With objects and
//! `#[serde(flatten)]` (a row type nesting another), serde first copied every field into an
//! intermediate `Content` tree; building and parsing the keyed objects took about a third of the
//! list endpoint's CPU in the profile (docs/benchmarks.md).

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};

/// A row type read from its columns in order. `take` reads exactly the columns the type has,
/// in the order of its query's output columns (nested row types read theirs in place).
pub trait FromJsonColumns: Sized {
    fn take<'de, A: SeqAccess<'de>>(columns: &mut A) -> Result<Self, A::Error>;
}

/// The next column, decoded as `T`; a row that ends early is an error, never a default.
pub fn column<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(columns: &mut A) -> Result<T, A::Error> {
    columns
        .next_element()?
        .ok_or_else(|| de::Error::custom("a row has fewer columns than its type"))
}

/// The whole document: every row, each checked to hold no column its type does not read.
pub struct JsonRows<T>(pub Vec<T>);

impl<'de, T: FromJsonColumns> Deserialize<'de> for JsonRows<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(RowsVisitor(std::marker::PhantomData))
    }
}

struct RowsVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: FromJsonColumns> Visitor<'de> for RowsVisitor<T> {
    type Value = JsonRows<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut rows: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(rows.size_hint().unwrap_or(0));
        while let Some(Row(row)) = rows.next_element::<Row<T>>()? {
            out.push(row);
        }
        Ok(JsonRows(out))
    }
}

struct Row<T>(T);

impl<'de, T: FromJsonColumns> Deserialize<'de> for Row<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(RowVisitor(std::marker::PhantomData))
    }
}

struct RowVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: FromJsonColumns> Visitor<'de> for RowVisitor<T> {
    type Value = Row<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row: an array of columns")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut columns: A) -> Result<Self::Value, A::Error> {
        let row = T::take(&mut columns)?;
        if columns.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a row has more columns than its type"));
        }
        Ok(Row(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair {
        name: String,
        note: Option<String>,
    }

    impl FromJsonColumns for Pair {
        fn take<'de, A: SeqAccess<'de>>(c: &mut A) -> Result<Self, A::Error> {
            Ok(Pair {
                name: column(c)?,
                note: column(c)?,
            })
        }
    }

    fn parse(json: &str) -> Result<Vec<Pair>, serde_json::Error> {
        serde_json::from_str::<JsonRows<Pair>>(json).map(|r| r.0)
    }

    #[test]
    fn rows_are_read_column_by_column_in_order() {
        let rows = parse(r#"[["a\"b", null], ["c", "d"]]"#).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].note.as_deref()),
            ("a\"b", None)
        );
        assert_eq!(
            (rows[1].name.as_str(), rows[1].note.as_deref()),
            ("c", Some("d"))
        );
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn a_row_with_a_missing_or_an_extra_column_is_refused() {
        assert!(parse(r#"[["a"]]"#).is_err());
        assert!(parse(r#"[["a", null, "extra"]]"#).is_err());
        assert!(parse(r#"[{"name": "a", "note": null}]"#).is_err());
    }
}
