//! Response types more than one endpoint answers with (`whoami` and `verify`), and the schemas
//! of request fields, which state what the server enforces.

use latchkey_domain::cidr::Allowlist;
use serde::Serialize;
use store::keys::{DESCRIPTION_MAX, NAME_MAX};
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeySummary {
    pub id: String,
    pub name: String,
    pub mode: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSummary {
    /// The organisation's opaque public id (`org_…`).
    pub id: String,
    /// The SaaS's own id for it, when the operator API set one.
    pub external_id: Option<String>,
    pub slug: String,
    pub name: String,
    /// `starter`, `professional` or `enterprise`.
    pub plan: String,
    /// The operator's JSON object for this tenant (e.g. the plan's entitlements), at most 1 KiB.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitSummary {
    /// Requests allowed per window.
    pub limit: u32,
    pub remaining: u32,
    pub window_secs: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub key: KeySummary,
    pub tenant: TenantSummary,
    pub rate_limit: RateLimitSummary,
}

impl KeySummary {
    pub fn of(k: &store::verify::KeyRecord) -> Self {
        Self {
            id: k.public_id.clone(),
            name: k.name.clone(),
            mode: k.mode.as_str().to_owned(),
            scopes: k.scopes.clone(),
        }
    }
}

impl TenantSummary {
    pub fn of(t: &store::verify::TenantRecord) -> Self {
        Self {
            id: t.public_id.clone(),
            external_id: t.external_id.clone(),
            slug: t.slug.clone(),
            name: t.name.clone(),
            plan: t.plan.as_str().to_owned(),
            metadata: t.metadata.clone(),
        }
    }
}

// ---- Request fields: what the server enforces, stated in the document ----
//
// Built from the constants the validation uses, so the document cannot drift from it: a request
// these schemas call valid is never refused as malformed (400/422), only for a business rule
// the schema cannot know (a scope the key lacks, a plan limit, the calling key's own bounds).

/// What `text::is_unsafe_char` refuses: controls (Unicode Cc) and the bidirectional marks,
/// embeddings, overrides and isolates.
const UNSAFE_CHARS: &[(char, char)] = &[
    ('\u{0}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{200e}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2066}', '\u{2069}'),
];

/// What `str::trim` strips that is not already unsafe (Unicode White_Space less controls).
const SPACES: &[(char, char)] = &[
    (' ', ' '),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// The body of a regex character class (`\uXXXX` escapes, which ECMA-262, Python and Rust
/// regexes all read alike) naming `ranges`.
fn class(ranges: &[(char, char)]) -> String {
    let esc = |c: char| format!("\\u{:04X}", u32::from(c));
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                esc(a)
            } else {
                format!("{}-{}", esc(a), esc(b))
            }
        })
        .collect()
}

/// Text without control or text-direction characters.
pub fn safe_text_pattern() -> String {
    format!("^[^{}]*$", class(UNSAFE_CHARS))
}

/// Safe text with at least one character that is not a space (the server trims).
pub fn name_pattern() -> String {
    let unsafe_chars = class(UNSAFE_CHARS);
    let spaces = class(SPACES);
    format!("^[^{unsafe_chars}]*[^{unsafe_chars}{spaces}][^{unsafe_chars}]*$")
}

const IPV4: &str = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}";
const H16: &str = "[0-9A-Fa-f]{1,4}";

/// IPv6 addresses in hex groups (`::` anywhere, no embedded IPv4, no zone).
fn ipv6() -> String {
    let h = H16;
    [
        format!("({h}:){{7}}{h}"),
        format!("({h}:){{1,7}}:"),
        format!("({h}:){{1,6}}:{h}"),
        format!("({h}:){{1,5}}(:{h}){{1,2}}"),
        format!("({h}:){{1,4}}(:{h}){{1,3}}"),
        format!("({h}:){{1,3}}(:{h}){{1,4}}"),
        format!("({h}:){{1,2}}(:{h}){{1,5}}"),
        format!("{h}:(:{h}){{1,6}}"),
        format!(":((:{h}){{1,7}}|:)"),
    ]
    .join("|")
}

/// `a.b.c.d/n`, n from 0 to 32.
pub fn ipv4_cidr_pattern() -> String {
    format!("^{IPV4}/(3[0-2]|[12]?[0-9])$")
}

/// `x:…:y/n`, n from 0 to 128.
pub fn ipv6_cidr_pattern() -> String {
    format!("^({})/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$", ipv6())
}

fn string_type(nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    }
}

/// A key's name: what `store::keys` validates (trimmed, 1 to `NAME_MAX` characters, safe).
pub fn key_name(nullable: bool, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .min_length(Some(1))
        .max_length(Some(NAME_MAX))
        .pattern(Some(name_pattern()))
        .description(Some(format!(
            "{description} 1 to {NAME_MAX} characters, not only spaces; no control or \
             text-direction characters."
        )))
        .build()
}

/// Free text shown in the UI and the audit log: at most `DESCRIPTION_MAX` safe characters.
pub fn free_text(nullable: bool, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .max_length(Some(DESCRIPTION_MAX))
        .pattern(Some(safe_text_pattern()))
        .description(Some(format!(
            "{description} At most {DESCRIPTION_MAX} characters; no control or text-direction \
             characters."
        )))
        .build()
}

/// One allowlist entry: an address or a CIDR range, IPv4 or IPv6.
fn allowlist_entry() -> AnyOfBuilder {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    AnyOfBuilder::new()
        .item(string().format(Some(SchemaFormat::Custom("ipv4".into()))))
        .item(string().format(Some(SchemaFormat::Custom("ipv6".into()))))
        .item(string().pattern(Some(ipv4_cidr_pattern())))
        .item(string().pattern(Some(ipv6_cidr_pattern())))
        .description(Some(
            "An IPv4 or IPv6 address, or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`).",
        ))
}

/// An allowlist: at most `Allowlist::MAX_ENTRIES` addresses or ranges; `null` where omitted.
pub fn allowlist(description: &str) -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(allowlist_entry())
        .max_items(Some(Allowlist::MAX_ENTRIES))
        .description(Some(format!(
            "{description} At most {} entries; an empty list allows any address.",
            Allowlist::MAX_ENTRIES
        )))
        .build()
}

/// Days since 1970-01-01 for `ms`.
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// A regex alternation matching the digit strings of `digits.len()` digits that are `digits`
/// or greater (lexicographic order is numeric order at a fixed length); `sep` is put after the
/// digit positions it names (the `-` of a date).
fn at_least(digits: &str, sep: &[(usize, char)]) -> String {
    let put = |out: &mut String, i: usize| {
        if let Some((_, c)) = sep.iter().find(|(at, _)| *at == i) {
            out.push(*c);
        }
    };
    let bytes = digits.as_bytes();
    let mut alternatives = vec![{
        let mut s = String::new();
        for (i, &b) in bytes.iter().enumerate() {
            s.push(char::from(b));
            put(&mut s, i);
        }
        s
    }];
    for i in (0..bytes.len()).rev() {
        let d = bytes[i] - b'0';
        if d == 9 {
            continue;
        }
        let mut s = String::new();
        for (j, &b) in bytes.iter().enumerate() {
            match j.cmp(&i) {
                std::cmp::Ordering::Less => s.push(char::from(b)),
                std::cmp::Ordering::Equal => s.push_str(&format!("[{}-9]", d + 1)),
                std::cmp::Ordering::Greater => s.push_str("[0-9]"),
            }
            put(&mut s, j);
        }
        alternatives.push(s);
    }
    alternatives.join("|")
}

/// `YYYY-MM-DD` dates from the day after `now_ms` (UTC) on; with `format: date` for the
/// calendar, a string the server takes as a future expiry.
pub fn future_date_pattern(now_ms: i64) -> String {
    let (y, m, d) = latchkey_domain::time::civil_from_days(day_of(now_ms) + 1);
    let digits = format!("{y:04}{m:02}{d:02}");
    format!("^({})$", at_least(&digits, &[(3, '-'), (5, '-')]))
}

/// An expiry date: a calendar date after today (UTC), `YYYY-MM-DD`.
pub fn expiry_date(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(future_date_pattern(store::db::now_ms())))
        .description(Some(format!(
            "{description} A date after today (UTC) as `YYYY-MM-DD`; the key works through the \
             end of that day."
        )))
        .build()
}

/// `live` or `test`.
pub fn mode(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .enum_values(Some([
            serde_json::Value::from("live"),
            "test".into(),
            serde_json::Value::Null,
        ]))
        .description(Some(description))
        .build()
}

/// Scopes from the catalogue (the document lists the server's own in `items.enum`).
pub fn scopes(description: &str) -> Array {
    let catalogue = latchkey_domain::scopes::DEFAULT_CATALOGUE;
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(catalogue.iter().copied())),
        )
        .min_items(Some(1))
        .description(Some(description))
        .build()
}

/// An IP address, as `POST /v1/verify` takes the caller's.
pub fn ip_address(description: &str) -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    OneOfBuilder::new()
        .item(string().format(Some(SchemaFormat::Custom("ipv4".into()))))
        .item(string().format(Some(SchemaFormat::Custom("ipv6".into()))))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(description))
        .build()
        .into()
}

/// A key's `resources`: at most 50 `{type, id}` of one operator-declared type.
pub fn resources() -> Array {
    let item = ObjectBuilder::new()
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[a-z0-9_]{1,32}$")),
        )
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Za-z0-9_.:@|-]{1,128}$")),
        )
        .required("type")
        .required("id")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
        .build();
    ArrayBuilder::new()
        .items(item)
        .max_items(Some(latchkey_domain::operator::KEY_RESOURCES_MAX))
        .description(Some(
            "Resources of one operator-declared type this key is limited to (each must exist in \
             the organisation; 422 otherwise). Omitted or empty: not limited.",
        ))
        .build()
}

#[cfg(test)]
mod tests;
