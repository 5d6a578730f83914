//! The views' own rules, row by row.

#[test]
fn audit_query_strings_keep_only_set_filters_encoded() {
    let q = super::AuditQuery {
        key: "=HYPERLINK(\"x\") & co".into(),
        action: "api_key.revoked".into(),
        from: " ".into(),
        ..Default::default()
    };
    assert_eq!(
        q.to_query_string(&[("before", "42".into())]),
        "key=%3DHYPERLINK%28%22x%22%29%20%26%20co&action=api_key.revoked&before=42"
    );
    assert_eq!(super::encode_component("é/ü"), "%C3%A9%2F%C3%BC");
}

use super::*;

#[test]
fn stored_status_maps_to_one_state() {
    let rows = [
        ("active", false, None, KeyStatus::Active),
        ("active", false, Some(2_000), KeyStatus::Active),
        ("active", false, Some(1_000), KeyStatus::Expired),
        ("active", false, Some(999), KeyStatus::Expired),
        ("active", true, None, KeyStatus::Disabled),
        ("active", true, Some(2_000), KeyStatus::Disabled),
        ("active", true, Some(999), KeyStatus::Expired),
        ("revoked", false, Some(999), KeyStatus::Revoked),
        ("revoked", true, None, KeyStatus::Revoked),
        ("revoked", false, None, KeyStatus::Revoked),
    ];
    for (stored, disabled, expires, want) in rows {
        assert_eq!(
            KeyStatus::of(stored, disabled, expires, 1_000),
            want,
            "{stored} {disabled} {expires:?}"
        );
    }
}

#[test]
fn an_overlap_never_outlasts_the_key() {
    let hour = 3_600_000;
    let rows = [
        (Overlap::Now, None, 1_000),
        (Overlap::Hour, None, 1_000 + hour),
        (Overlap::Day, None, 1_000 + 24 * hour),
        (Overlap::Week, None, 1_000 + 168 * hour),
        (Overlap::Week, Some(5_000), 5_000),
        (Overlap::Hour, Some(1_000 + 2 * hour), 1_000 + hour),
        (Overlap::Now, Some(500), 500),
    ];
    for (overlap, own, want) in rows {
        assert_eq!(
            overlap.old_key_expiry(own, 1_000),
            want,
            "{overlap:?} {own:?}"
        );
    }
    for o in Overlap::ALL {
        assert_eq!(o.as_str().parse::<Overlap>(), Ok(o));
        let json = serde_json::to_string(&o).expect("json");
        assert_eq!(json, format!("\"{}\"", o.as_str()));
    }
    for f in KeyFilter::ALL {
        assert_eq!(f.as_str().parse::<KeyFilter>(), Ok(f));
    }
    assert!("soon".parse::<Overlap>().is_err());
}
