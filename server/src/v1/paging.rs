//! Keyset paging parameters shared by the list endpoints: an opaque-looking cursor (the last
//! row's id) and a bounded page size.

use super::error::ApiError;

pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => c
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::validation("cursor", "Use the next_cursor of a previous page.")),
    }
}

pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=100 => Ok(n),
        _ => Err(ApiError::validation("limit", "Use a limit from 1 to 100.")),
    }
}
