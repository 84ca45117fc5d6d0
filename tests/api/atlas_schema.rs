//! Every answer the Atlas tests receive is checked against the Atlas OpenAPI documents: the
//! operation must document the status (or the body must be an `ApiError`), the response's media
//! type must be one the operation lists for it, and the body must match its schema.
//!
//! The documents are licensed so that usher cannot ship them. They are read from
//! `../shared/reference/` beside the project, or from `USHER_ATLAS_SPEC_DIR`. Where neither
//! exists (a user's clone), the check says so once and is skipped; under `CI` it fails instead.
//!
//! The OpenAPI 3.0 schemas become JSON Schema (draft 7) as follows:
//! - `nullable` becomes a `null` type;
//! - a schema with a `discriminator` gets a copy without its `oneOf`, which is what its subtypes'
//!   `allOf` refer to. This breaks the spec's `OrgUserResponse` ↔ `Org…UserResponse` cycle.
//!
//! Where real Atlas answers differ from its own spec, [`ATLAS_DIFFERS`] lists each difference
//! with the evidence for it.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::atlas::Answer;

const DOCUMENTS: &[&str] = &["atlas-invites-openapi.json", "atlas-iam-openapi.json"];

/// (schema, property, how real Atlas differs from the spec, evidence).
const ATLAS_DIFFERS: &[(&str, &str, Differs, &str)] = &[
    (
        "UserAccessListResponse",
        "count",
        Differs::NoMinimum,
        "a recorded entry that was never used has \"count\":0 (IAM notes §5.2)",
    ),
    (
        "OrganizationInvitation",
        "inviterUsername",
        Differs::NotEmail,
        "an invitation sent with an API key names its public key (reference §2.4: inviterUsername nmtxqlkl)",
    ),
    (
        "GroupInvitation",
        "inviterUsername",
        Differs::NotEmail,
        "as for OrganizationInvitation",
    ),
    (
        "OrgPendingUserResponse",
        "inviterUsername",
        Differs::NotEmail,
        "as for OrganizationInvitation (recorded pending user: inviterUsername nmtxqlkl)",
    ),
    (
        "GroupPendingUserResponse",
        "inviterUsername",
        Differs::NotEmail,
        "as for OrgPendingUserResponse",
    ),
    (
        "OrgActiveUserResponse",
        "mobileNumber",
        Differs::Nullable,
        "recorded Atlas responses carry an explicit null (reference §2.4)",
    ),
    (
        "ApiError",
        "parameters",
        Differs::AnyItems,
        "the spec says objects; recorded Atlas errors carry strings (reference §2.5)",
    ),
    (
        "GroupActiveUserResponse",
        "mobileNumber",
        Differs::Nullable,
        "as for OrgActiveUserResponse (the same user, seen from a project)",
    ),
    (
        "CloudAppUser",
        "mobileNumber",
        Differs::Nullable,
        "as for OrgActiveUserResponse",
    ),
    (
        "CloudAppUser",
        "password",
        Differs::NotRequired,
        "a password is write-only; no API answers with one",
    ),
    (
        "CloudAppUser",
        "country",
        Differs::NotRequired,
        "usher does not keep a country; Atlas leaves it out for users who gave none",
    ),
    (
        "AtlasOrganization",
        "name",
        Differs::NoPattern,
        "usher, not Atlas: an organization named through the SOLAPI face, whose names may hold \
         spaces, is shown with its name as given (docs/atlas.md)",
    ),
];

/// (method, path, status on the wire, status in the spec, evidence): operations whose success
/// status real Atlas sends differently from its spec; the answer is checked against the spec's.
const STATUS_DIFFERS: &[(&str, &str, u16, u16, &str)] = &[
    (
        "POST",
        "/api/atlas/v2/groups",
        201,
        200,
        "all 42 recorded project creates answer 201 (IAM notes §5.6)",
    ),
    (
        "POST",
        "/api/atlas/v2/orgs/{orgId}/teams",
        201,
        200,
        "every recorded team create answers 201 (IAM notes §5.6)",
    ),
];

#[derive(Clone, Copy)]
enum Differs {
    Nullable,
    /// `format: email` where Atlas may send something else.
    NotEmail,
    /// A `minimum` Atlas does not keep to.
    NoMinimum,
    NotRequired,
    AnyItems,
    /// A `pattern` a value may fall outside.
    NoPattern,
}

struct Spec {
    /// The documents' `paths`, merged.
    paths: Map<String, Value>,
    /// The documents' `components`, merged and turned into JSON Schema.
    components: Value,
}

fn spec_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("USHER_ATLAS_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference"))
        });
    DOCUMENTS
        .iter()
        .all(|d| dir.join(d).exists())
        .then_some(dir)
}

fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let Some(dir) = spec_dir() else {
            let notice = "the Atlas OpenAPI documents are not beside the project (../shared/reference) \
                          nor in USHER_ATLAS_SPEC_DIR";
            assert!(std::env::var_os("CI").is_none(), "schema check cannot run in CI: {notice}");
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\nSKIPPED the Atlas schema check: {notice}.\n").as_bytes(),
            );
            return None;
        };
        let mut paths = Map::new();
        let mut components = Map::new();
        for d in DOCUMENTS {
            let text = std::fs::read_to_string(dir.join(d)).unwrap();
            let doc: Value = serde_json::from_str(&text).unwrap();
            for (k, v) in doc["paths"].as_object().unwrap() {
                paths.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (kind, entries) in doc["components"].as_object().unwrap() {
                let slot = components
                    .entry(kind.clone())
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .unwrap();
                for (k, v) in entries.as_object().unwrap() {
                    slot.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        let mut components = Value::Object(components);
        apply_differences(&mut components);
        break_discriminator_cycles(&mut components);
        nullable_to_json_schema(&mut components);
        Some(Spec { paths, components })
    })
    .as_ref()
}

fn apply_differences(components: &mut Value) {
    for (schema, property, how, _) in ATLAS_DIFFERS {
        let Some(s) = components["schemas"].get_mut(*schema) else {
            continue;
        };
        // The property may sit in the schema itself or in one of its `allOf` parts.
        let parts = s.get("allOf").and_then(Value::as_array).map_or(0, Vec::len);
        let pointers =
            std::iter::once(String::new()).chain((0..parts).map(|i| format!("/allOf/{i}")));
        for pointer in pointers.collect::<Vec<_>>() {
            let part = s.pointer_mut(&pointer).expect("exists");
            match how {
                Differs::Nullable => {
                    if let Some(p) = part.pointer_mut(&format!("/properties/{property}")) {
                        p["nullable"] = json!(true);
                    }
                }
                Differs::AnyItems => {
                    if let Some(p) = part.pointer_mut(&format!("/properties/{property}")) {
                        p["items"] = json!({});
                    }
                }
                Differs::NotEmail => {
                    if let Some(p) = part.pointer_mut(&format!("/properties/{property}")) {
                        p.as_object_mut().expect("a schema").remove("format");
                    }
                }
                Differs::NoPattern => {
                    if let Some(p) = part.pointer_mut(&format!("/properties/{property}")) {
                        p.as_object_mut().expect("a schema").remove("pattern");
                    }
                }
                Differs::NoMinimum => {
                    if let Some(p) = part.pointer_mut(&format!("/properties/{property}")) {
                        p.as_object_mut().expect("a schema").remove("minimum");
                    }
                }
                Differs::NotRequired => {
                    if let Some(r) = part.get_mut("required").and_then(Value::as_array_mut) {
                        r.retain(|v| v != property);
                    }
                }
            }
        }
    }
}

fn break_discriminator_cycles(components: &mut Value) {
    let schemas = components["schemas"].as_object_mut().unwrap();
    let bases: Vec<(String, Value)> = schemas
        .iter()
        .filter(|(_, s)| s.get("discriminator").is_some())
        .map(|(name, s)| {
            let mut base = s.clone();
            let o = base.as_object_mut().unwrap();
            o.remove("oneOf");
            o.remove("discriminator");
            (name.clone(), base)
        })
        .collect();
    for (name, base) in bases {
        let from = json!({"$ref": format!("#/components/schemas/{name}")});
        let to = json!({"$ref": format!("#/components/schemas/{name}__base")});
        for s in schemas.values_mut() {
            if let Some(all) = s.get_mut("allOf").and_then(Value::as_array_mut) {
                for part in all.iter_mut().filter(|p| **p == from) {
                    *part = to.clone();
                }
            }
        }
        schemas.insert(format!("{name}__base"), base);
    }
}

fn nullable_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(t) = o.get("type").cloned() {
                    o.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(e)) = o.get_mut("enum") {
                    e.push(Value::Null);
                }
            }
            o.values_mut().for_each(nullable_to_json_schema);
        }
        Value::Array(a) => a.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// The documented path that `path` is an instance of (`{x}` matches one segment, or the start of
/// one: `{userId}:addRole`); of several, the one with the most literal text.
fn template_for<'s>(spec: &'s Spec, path: &str) -> Option<&'s str> {
    let segments: Vec<&str> = path.split('/').collect();
    let literal = |t: &str| {
        t.split('{')
            .map(|p| p.split_once('}').map_or(p, |x| x.1).len())
            .sum::<usize>()
    };
    spec.paths
        .keys()
        .map(String::as_str)
        .filter(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segments.len()
                && ts.iter().zip(&segments).all(|(t, s)| match t.find('}') {
                    Some(end) if t.starts_with('{') => {
                        let suffix = &t[end + 1..];
                        s.len() > suffix.len() && s.ends_with(suffix)
                    }
                    _ => t == s,
                })
        })
        .max_by_key(|t| literal(t))
}

fn resolve<'s>(spec: &'s Spec, v: &'s Value) -> &'s Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .components
            .pointer(r.trim_start_matches("#/components"))
            .unwrap_or_else(|| panic!("unresolved {r}")),
        None => v,
    }
}

fn validate(spec: &Spec, schema: &Value, body: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = spec.components.clone();
    let validator = jsonschema::draft7::new(&root).unwrap_or_else(|e| panic!("{what}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the Atlas spec: {errors:#?}\n{body}"
    );
}

/// Checks one answer to `method path` (path without the query).
pub fn check(method: &str, path: &str, answer: &Answer) {
    let Some(spec) = spec() else { return };
    let Some(template) = template_for(spec, path) else {
        panic!("{method} {path}: not an operation of the Atlas documents");
    };
    let op = &spec.paths[template][method.to_ascii_lowercase()];
    assert!(
        op.is_object(),
        "{method} {template}: not in the Atlas documents"
    );
    let what = format!("{method} {template} → {}", answer.status);
    let media = answer
        .header("content-type")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let status = STATUS_DIFFERS
        .iter()
        .find(|(m, t, wire, ..)| *m == method && *t == template && *wire == answer.status)
        .map_or(answer.status, |d| d.3);
    let documented = op["responses"].get(status.to_string());
    let Some(response) = documented.map(|r| resolve(spec, r)) else {
        // A status the operation does not list (406, 410 and the like): still an ApiError.
        assert_eq!(media, "application/json", "{what}");
        let error = json!({"$ref": "#/components/schemas/ApiError"});
        validate(spec, &error, &answer.json(), &what);
        return;
    };
    let content = response.get("content").and_then(Value::as_object);
    if answer.text.is_empty() {
        // 204: the spec gives the media type without a schema.
        if let Some(content) = content {
            assert!(
                content.contains_key(&media),
                "{what}: {media} is not among {:?}",
                content.keys()
            );
        }
        return;
    }
    let content = content.unwrap_or_else(|| panic!("{what}: the spec documents no body"));
    let entry = content
        .get(&media)
        .unwrap_or_else(|| panic!("{what}: {media} is not among {:?}", content.keys()));
    if let Some(schema) = entry.get("schema") {
        validate(spec, schema, &answer.json(), &what);
    }
}

#[test]
fn the_check_refuses_an_answer_that_breaks_the_documents() {
    if spec().is_none() {
        return;
    }
    let answer = |status: u16, content_type: &str, text: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", content_type.parse().unwrap());
        Answer {
            status,
            headers,
            text: text.into(),
        }
    };
    let path = "/api/atlas/v2/orgs/0123456789abcdef01234567/invites";
    let v1 = "application/vnd.atlas.2023-01-01+json;charset=utf-8";
    let fine = answer(
        200,
        v1,
        r#"[{"id":"0123456789abcdef01234567","orgName":"Acme","username":"a@b.co"}]"#,
    );
    check("GET", path, &fine);
    for (what, bad) in [
        (
            "orgName is required",
            answer(200, v1, r#"[{"username":"a@b.co"}]"#),
        ),
        (
            "roles is an array",
            answer(200, v1, r#"[{"orgName":"Acme","roles":"ORG_MEMBER"}]"#),
        ),
        (
            "a version the operation lacks",
            answer(200, "application/vnd.atlas.2025-02-19+json", "[]"),
        ),
        (
            "an error is an ApiError",
            answer(404, "application/json", r#"{"detail":"x"}"#),
        ),
    ] {
        let refused = std::panic::catch_unwind(|| check("GET", path, &bad)).is_err();
        assert!(refused, "{what}");
    }
}
