//! The `/v1/admin` part of the OpenAPI document says what those handlers do: resource types are
//! the declared ones, labels are stated as they are checked, and a body the document admits is
//! taken or refused as a conflict, never as malformed (`end2end/schemathesis.sh` checks the same
//! against a live server).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};

async fn document(base: &str) -> Value {
    let r = read(
        http()
            .get(format!("{base}/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    r.body
}

fn schema(doc: &Value, name: &str) -> Value {
    doc["components"]["schemas"][name].clone()
}

/// A path parameter's schema.
fn param<'a>(op: &'a Value, name: &str) -> &'a Value {
    &op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
}

#[tokio::test]
async fn admin_schemas_state_the_types_labels_and_limits_the_server_enforces() {
    let app = TestApp::with_settings(&engines()[0], |s| {
        s.resource_types = ["account=Bank account", "card=Card"]
            .map(|t| t.parse().unwrap())
            .to_vec();
    })
    .await;
    let doc = document(&app.serve().await).await;
    let types = json!(["account", "card"]);
    let resource = &doc["paths"]["/v1/admin/tenants/{external_id}/resources/{type}/{id}"];
    for method in ["put", "delete"] {
        assert_eq!(param(&resource[method], "type")["enum"], types, "{method}");
    }
    let create = schema(&doc, "CreateKeyRequest");
    assert_eq!(
        create["properties"]["resources"]["items"]["properties"]["type"]["enum"],
        types
    );
    // Every label people read is checked alike, and stated alike.
    let tenant = schema(&doc, "TenantRequest");
    let labels = [
        &tenant["properties"]["name"],
        &schema(&doc, "MemberRequest")["properties"]["name"],
        &schema(&doc, "Requirement")["properties"]["label"],
        &schema(&doc, "ResourceRequest")["properties"]["name"],
    ];
    for label in labels {
        assert_eq!(label["pattern"], create["properties"]["name"]["pattern"]);
        assert_eq!(label["maxLength"], latchkey_domain::operator::LABEL_MAX);
    }
    assert_eq!(tenant["required"], json!(["name", "plan"]));
    let body = &doc["paths"]["/v1/admin/tenants/{external_id}/requirements"]["put"]["requestBody"];
    let list = body["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let list = schema(&doc, list.trim_start_matches("#/components/schemas/"));
    assert_eq!(
        list["maxItems"],
        latchkey_domain::operator::REQUIREMENTS_MAX
    );
    // The idempotency layer answers before any handler on every write (the portal's are
    // outside it: a replay would have to keep the link).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.starts_with("/v1/admin/")
                && !path.starts_with("/v1/admin/portal")
                && method != "get"
            {
                for status in ["400", "409", "422"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    app.close().await;
}

/// `PUT` on an admin route with an operator token.
async fn admin_put(base: &str, token: &str, path: &str, body: Value) -> HttpResp {
    common::operator::admin(base, token, "PUT", path, Some(body), None).await
}

#[tokio::test]
async fn admin_bodies_the_document_admits_are_taken_or_refused_as_conflicts() {
    let app = common::operator::app(&engines()[0]).await;
    let base = app.serve().await;
    let token = common::operator::token(&app, &[]).await;
    let tenant = "/v1/admin/tenants/t-1";
    // JSON Schema calls `5.0` an integer; an array is no object, whatever serde would make of it.
    let body =
        json!({"name": "T", "plan": "starter", "limits": {"max_keys": 5.0}, "metadata": null});
    let r = admin_put(&base, &token, tenant, body).await;
    assert_eq!((r.status, &r.body["limits"]["max_keys"]), (201, &json!(5)));
    let body = json!({"name": "T", "plan": "starter", "limits": [null, null]});
    assert_eq!(admin_put(&base, &token, tenant, body).await.status, 400);
    // An email another person has is theirs: a conflict, not a malformed request.
    let person = json!({"email": "a@example.com", "name": "A", "role": "owner"});
    let first = admin_put(
        &base,
        &token,
        &format!("{tenant}/members/u-1"),
        person.clone(),
    )
    .await;
    assert_eq!(first.status, 201);
    let r = admin_put(&base, &token, &format!("{tenant}/members/u-2"), person).await;
    assert_eq!((r.status, r.code()), (409, "email_taken"), "{:?}", r.body);
    let bad = json!({"email": "nope", "name": "B", "role": "member"});
    let r = admin_put(&base, &token, &format!("{tenant}/members/u-2"), bad).await;
    assert_eq!((r.status, r.code()), (422, "validation_failed"));
    app.close().await;
}
