//! Keyset paging parameters shared by the list endpoints: an opaque-looking cursor (the last
//! row's id) and a bounded page size, with the schemas the document states them by.

use super::error::ApiError;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};

pub const LIMIT_MIN: i64 = 1;
pub const LIMIT_MAX: i64 = 100;
pub const LIMIT_DEFAULT: i64 = 50;
/// Cursors are row ids; 18 digits always fit an `i64`, so every match parses.
pub const CURSOR_PATTERN: &str = "^[0-9]{1,18}$";

pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    // An empty `cursor=` is refused like any other value outside CURSOR_PATTERN: the document
    // states the pattern, and "omitted" is spelled by leaving the parameter out.
    match cursor {
        None => Ok(None),
        Some(c) if (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => c
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::validation("cursor", "Use the next_cursor of a previous page.")),
        Some(_) => Err(ApiError::validation(
            "cursor",
            "Use the next_cursor of a previous page.",
        )),
    }
}

pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(LIMIT_DEFAULT) {
        n @ LIMIT_MIN..=LIMIT_MAX => Ok(n),
        _ => Err(ApiError::validation(
            "limit",
            format!("Use a limit from {LIMIT_MIN} to {LIMIT_MAX}."),
        )),
    }
}

/// The `limit` parameter's schema.
pub fn limit_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(LIMIT_MIN))
        .maximum(Some(LIMIT_MAX))
        .default(Some(LIMIT_DEFAULT.into()))
        .build()
}

/// The `cursor` parameter's schema.
pub fn cursor_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(CURSOR_PATTERN))
        .build()
}
